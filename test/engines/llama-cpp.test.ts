/**
 * A real local model: a tiny llama GGUF with random weights, written by the test, loaded by
 * node-llama-cpp. The words are random; the plumbing is what is checked.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { articles } from '../fixtures/articles.js';
import { writeTinyGguf } from '../fixtures/tiny-gguf.js';

let t: TestApp;
let client: OpenAI;
let url: string;
let path: string;

before(async () => {
  path = writeTinyGguf(join(mkdtempSync(join(tmpdir(), 'vg-gguf-')), 'tiny.gguf'));
  t = await buildTestApp({
    models: {
      tiny: { name: 'Tiny random llama', chat: { backend: 'llama-cpp', path, contextTokens: 2048, threads: 1 } },
    },
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(() => t?.close());

const loaded = async (): Promise<boolean> =>
  (
    (await (await fetch(`${url}/api/v1/models`)).json()) as { models: Array<{ id: string; loaded: boolean }> }
  ).models.find((m) => m.id === 'tiny')!.loaded;

describe('a memory budget for local models', () => {
  test('loading a second model unloads the least recently used idle one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vg-gguf-budget-'));
    const a = writeTinyGguf(join(dir, 'a.gguf'));
    const b = writeTinyGguf(join(dir, 'b.gguf'));
    const size = statSync(a).size;
    const app = await buildTestApp({
      runtime: { memoryBudgetMb: (size * 1.5) / (1024 * 1024) },
      models: { a: { chat: { backend: 'llama-cpp', path: a } }, b: { chat: { backend: 'llama-cpp', path: b } } },
    });
    try {
      const ask = (model: string) =>
        app.app.inject({
          method: 'POST',
          url: '/v1/chat/completions',
          payload: { model, max_tokens: 2, messages: [{ role: 'user', content: 'x' }] },
        });
      const state = async () =>
        Object.fromEntries(
          (await app.app.inject({ method: 'GET', url: '/api/v1/models' }))
            .json<{ models: Array<{ id: string; loaded: boolean }> }>()
            .models.filter((m) => m.id === 'a' || m.id === 'b')
            .map((m) => [m.id, m.loaded]),
        );
      assert.equal((await ask('a')).statusCode, 200);
      assert.deepEqual(await state(), { a: true, b: false });
      assert.equal((await ask('b')).statusCode, 200);
      assert.deepEqual(await state(), { a: false, b: true });
    } finally {
      await app.close();
    }
  });
});

describe('local GGUF chat through node-llama-cpp', () => {
  test('loaded on first use; a completion respects max_tokens and reports usage', async () => {
    assert.equal(await loaded(), false);
    const res = await client.chat.completions.create({
      model: 'tiny',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Say something.' },
      ],
      max_tokens: 12,
      temperature: 0.8,
      top_p: 0.9,
      stop: ['\n\n'],
    });
    assert.equal(typeof res.choices[0]!.message.content, 'string');
    assert.ok(res.usage!.completion_tokens <= 12, `${res.usage!.completion_tokens} tokens`);
    assert.ok(res.usage!.prompt_tokens > 0);
    assert.ok(['stop', 'length'].includes(res.choices[0]!.finish_reason));
    assert.equal(await loaded(), true);
  });

  test('streaming: tokens arrive as separate chunks, then the end', async () => {
    const stream = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Count.' }],
      max_tokens: 24,
      temperature: 1,
      stream: true,
      stream_options: { include_usage: true },
    });
    let deltas = 0;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) deltas++;
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.ok(deltas >= 2 || finish === 'stop', `${deltas} chunks`);
    assert.ok(usage && usage.completion_tokens <= 24);
    assert.ok(finish === 'stop' || finish === 'length');
  });

  test('DELETE /api/v1/models/tiny unloads it; the next request loads it again', async () => {
    const res = await fetch(`${url}/api/v1/models/tiny`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: 'tiny', unloaded: true, was_loaded: true });
    assert.equal(await loaded(), false);
    await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Again.' }],
      max_tokens: 4,
    });
    assert.equal(await loaded(), true);
  });

  test('abstractive summary end to end: chunked to the context (exact token counts), streamed', async () => {
    const long = Array.from({ length: 4 }, () => articles.map((a) => a.text).join('\n\n')).join('\n\n');
    assert.ok(long.length > 2048 * 3, 'longer than the context window');
    const res = await fetch(`${url}/api/v1/summarize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: long, model: 'tiny', max_length: 16, temperature: 0.5, stream: true }),
    });
    const events = await res.text();
    assert.match(events, /event: summary\ndata: \{"summary":/, events.slice(0, 500));
    const summary = JSON.parse(/event: summary\ndata: (.*)\n/.exec(events)![1]!) as {
      engine: string;
      model: string;
      parameters: { max_length: number; temperature: number };
    };
    assert.equal(summary.engine, 'abstractive');
    assert.equal(summary.model, 'tiny');
    assert.deepEqual(summary.parameters, { max_length: 16, temperature: 0.5 });
  });
});

describe('GPU builds are an opt-in install', () => {
  test('a model set to gpu: cuda, without the CUDA build installed, answers 503 naming the command that installs it', async () => {
    const path = writeTinyGguf(join(mkdtempSync(join(tmpdir(), 'vg-gguf-gpu-')), 'tiny.gguf'));
    const app = await buildTestApp({ models: { gpu: { chat: { backend: 'llama-cpp', path, gpu: 'cuda' } } } });
    try {
      const res = await app.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: { model: 'gpu', max_tokens: 2, messages: [{ role: 'user', content: 'x' }] },
      });
      assert.equal(res.statusCode, 503, res.body);
      assert.match(res.json<{ error: { message: string } }>().error.message, /npm run llama:gpu -- cuda/);
    } finally {
      await app.close();
    }
  });
});

describe("usage from the model's own token meter", () => {
  const system = 'You are terse.';
  const user = 'Say something.';

  /** What the model reads for this conversation: the GGUF's chat template rendered and tokenized, independently of the server. */
  async function templateTokens(): Promise<number> {
    const { getLlama, LlamaChatSession } = await import('node-llama-cpp');
    const llama = await getLlama({ gpu: false, build: 'never' });
    const model = await llama.loadModel({ modelPath: path });
    const context = await model.createContext({ contextSize: 256, threads: 1 });
    try {
      const session = new LlamaChatSession({ contextSequence: context.getSequence(), systemPrompt: '' });
      const { contextText } = session.chatWrapper.generateContextState({
        chatHistory: [
          { type: 'system', text: system },
          { type: 'user', text: user },
          { type: 'model', response: [] },
        ],
      });
      return contextText.tokenize(model.tokenizer).length;
    } finally {
      await context.dispose();
      await model.dispose();
    }
  }

  test('prompt_tokens is what the model read (template and system prompt included); completion_tokens == max_tokens at length, streamed and not', async () => {
    const expected = await templateTokens();
    assert.ok(expected > 10, `${expected} template tokens`);
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ];
    // Random weights rarely end an answer within 12 tokens; try a few seeds until one runs to the limit.
    let checked = 0;
    for (let seed = 1; seed <= 6 && checked < 2; seed++) {
      const res = await client.chat.completions.create({
        model: 'tiny',
        messages,
        max_tokens: 12,
        temperature: 1,
        seed,
      });
      assert.equal(res.usage!.prompt_tokens, expected, 'prompt tokens');
      if (res.choices[0]!.finish_reason !== 'length') continue;
      assert.equal(res.usage!.completion_tokens, 12);
      assert.equal(res.usage!.total_tokens, expected + 12);
      let usage: OpenAI.CompletionUsage | null | undefined;
      let finish: string | null | undefined;
      let text = '';
      for await (const chunk of await client.chat.completions.create({
        model: 'tiny',
        messages,
        max_tokens: 12,
        temperature: 1,
        seed,
        stream: true,
        stream_options: { include_usage: true },
      })) {
        usage = chunk.usage ?? usage;
        finish = chunk.choices[0]?.finish_reason ?? finish;
        text += chunk.choices[0]?.delta.content ?? '';
      }
      assert.equal(text, res.choices[0]!.message.content, 'the same seed gives the same answer');
      assert.equal(finish, 'length');
      assert.equal(usage?.prompt_tokens, expected);
      assert.equal(usage?.completion_tokens, 12);
      checked++;
    }
    assert.ok(checked > 0, 'some answer ran to max_tokens');
  });
});

describe('OpenAI parameters on a local GGUF: honoured or refused by name', () => {
  test('response_format json_schema through the grammar: the answer is JSON of that schema, even from random weights', async () => {
    const schema = {
      type: 'object',
      properties: { ok: { type: 'boolean' }, level: { enum: ['low', 'high'] } },
      required: ['ok', 'level'],
      additionalProperties: false,
    };
    for (const stream of [false, true]) {
      let content = '';
      if (stream) {
        for await (const chunk of await client.chat.completions.create({
          model: 'tiny',
          messages: [{ role: 'user', content: 'Answer in JSON.' }],
          max_tokens: 64,
          temperature: 1,
          seed: 5,
          response_format: { type: 'json_schema', json_schema: { name: 'state', schema } },
          stream: true,
        }))
          content += chunk.choices[0]?.delta.content ?? '';
      } else {
        const res = await client.chat.completions.create({
          model: 'tiny',
          messages: [{ role: 'user', content: 'Answer in JSON.' }],
          max_tokens: 64,
          temperature: 1,
          seed: 5,
          response_format: { type: 'json_schema', json_schema: { name: 'state', schema } },
        });
        content = res.choices[0]!.message.content!;
      }
      const value = JSON.parse(content) as { ok: unknown; level: unknown };
      assert.equal(typeof value.ok, 'boolean', content);
      assert.ok(['low', 'high'].includes(String(value.level)), content);
      assert.deepEqual(Object.keys(value).sort(), ['level', 'ok']);
    }
  });

  test('tools, logprobs, n > 1 and logit_bias: a 400 whose param names the field, before any token', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      [
        'tools',
        { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }] },
      ],
      ['logprobs', { logprobs: true }],
      ['n', { n: 2 }],
      ['logit_bias', { logit_bias: { '3': 10 } }],
      [
        'messages[1]',
        {
          messages: [
            { role: 'user', content: 'x' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
            },
            { role: 'tool', tool_call_id: 'c1', content: '1' },
            { role: 'user', content: 'y' },
          ],
        },
      ],
    ];
    for (const [param, extra] of cases) {
      for (const stream of [false, true]) {
        const error = await client.chat.completions
          .create({
            model: 'tiny',
            messages: [{ role: 'user', content: 'x' }],
            max_tokens: 4,
            stream,
            ...extra,
          } as OpenAI.ChatCompletionCreateParamsNonStreaming)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.ok(error instanceof OpenAI.BadRequestError, `${param}: ${String(error)}`);
        assert.equal(error.param, param);
        assert.equal((error.error as { code?: string }).code, 'unsupported_parameter');
      }
    }
  });
});
