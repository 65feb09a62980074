/**
 * /v1/chat/completions as a faithful pass-through, with the official `openai` SDK as the client,
 * against an upstream written from OpenAI's wire format that records what it received: every
 * parameter arrives unchanged, and every field of the answer comes back (only `model` rewritten).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { renderPage } from '../fixtures/pages.js';

let upstream: FakeUpstream;
let t: TestApp;
let url: string;
let client: OpenAI;

const remote = (extra: Record<string, unknown> = {}) => ({
  chat: { backend: 'openai', urls: [upstream.url], vision: true, maxRetries: 0, model: 'upstream-model', ...extra },
});

before(async () => {
  upstream = await startFakeUpstream();
  t = await buildTestApp({
    models: {
      'gpt-remote': remote(),
      'ollama-chat': { chat: { backend: 'ollama', urls: [upstream.root], vision: true, maxRetries: 0 } },
    },
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
});
after(async () => {
  await t?.close();
  await upstream?.close();
});

const lastReceived = (): Record<string, unknown> => upstream.received.at(-1)!;

const weather: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather of a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    },
    strict: true,
  },
};

describe('/v1/chat/completions forwards every parameter and returns the whole answer', () => {
  test('a two-turn tool loop: tools, tool_choice, parallel_tool_calls out; tool_calls back; role tool and content null in', async () => {
    const first = await client.chat.completions.create({
      model: 'gpt-remote',
      messages: [{ role: 'user', content: 'Paris' }],
      tools: [weather],
      tool_choice: 'auto',
      parallel_tool_calls: false,
    });
    const sent = lastReceived();
    assert.equal(sent.model, 'upstream-model', 'the configured upstream model name');
    assert.deepEqual(sent.tools, [weather]);
    assert.equal(sent.tool_choice, 'auto');
    assert.equal(sent.parallel_tool_calls, false);
    const message = first.choices[0]!.message;
    assert.equal(first.model, 'gpt-remote', 'model is the name the client asked for');
    assert.equal(first.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(message.content, null);
    assert.equal(message.refusal, null);
    assert.deepEqual(message.tool_calls, [
      { id: 'call_fake0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ]);
    assert.equal(first.created, 1700000000, "the backend's created, not 0 or ours");
    assert.equal(first.system_fingerprint, 'fp_fake');
    assert.equal(first.id, 'chatcmpl-fake');
    assert.deepEqual(first.usage?.prompt_tokens_details, { cached_tokens: 0 });

    const history: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Paris' },
      { role: 'assistant', content: null, tool_calls: message.tool_calls! },
      { role: 'tool', tool_call_id: 'call_fake0', content: '{"temperature": 21}' },
    ];
    const second = await client.chat.completions.create({ model: 'gpt-remote', messages: history, tools: [weather] });
    assert.deepEqual(lastReceived().messages, history, 'the conversation reaches the backend exactly as sent');
    assert.equal(second.choices[0]!.message.content, 'echo tool: {"temperature": 21}');
    assert.equal(second.choices[0]!.finish_reason, 'stop');
  });

  test('json_schema and json_object response formats arrive unchanged and the JSON comes back', async () => {
    const format = {
      type: 'json_schema' as const,
      json_schema: {
        name: 'city',
        strict: true,
        schema: {
          type: 'object',
          properties: { name: { type: 'string' }, population: { type: 'integer' } },
          required: ['name', 'population'],
          additionalProperties: false,
        },
      },
    };
    const res = await client.chat.completions.create({
      model: 'gpt-remote',
      messages: [{ role: 'user', content: 'Lyon' }],
      response_format: format,
    });
    assert.deepEqual(lastReceived().response_format, format);
    assert.deepEqual(JSON.parse(res.choices[0]!.message.content!), { name: 'Lyon', population: 1 });
    const object = await client.chat.completions.create({
      model: 'gpt-remote',
      messages: [{ role: 'user', content: 'any' }],
      response_format: { type: 'json_object' },
    });
    assert.deepEqual(lastReceived().response_format, { type: 'json_object' });
    assert.deepEqual(JSON.parse(object.choices[0]!.message.content!), { echo: 'any' });
  });

  test('logprobs, seed, user, penalties, logit_bias, max_completion_tokens and a field unknown today: all forwarded as sent', async () => {
    const params = {
      logprobs: true,
      top_logprobs: 2,
      seed: 7,
      user: 'user-1',
      frequency_penalty: 0.5,
      presence_penalty: -0.5,
      logit_bias: { '50256': -100 },
      max_completion_tokens: 40,
      metadata: { run: 'a' },
      store: false,
    };
    const res = await client.chat.completions.create({
      model: 'gpt-remote',
      messages: [{ role: 'user', content: 'two words' }],
      ...params,
      future_field: { nested: [1, 2] },
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const sent = lastReceived();
    for (const [name, value] of Object.entries(params)) assert.deepEqual(sent[name], value, name);
    assert.deepEqual(sent.future_field, { nested: [1, 2] });
    assert.equal(sent.max_tokens, undefined, 'max_completion_tokens is not renamed');
    const logprobs = res.choices[0]!.logprobs!.content!;
    assert.deepEqual(
      logprobs.map((l) => l.token),
      ['echo:', ' two', ' words'],
    );
    assert.equal(logprobs[0]!.top_logprobs.length, 2);
  });

  test('n = 2: two choices, each whole', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-remote',
      messages: [{ role: 'user', content: 'twice' }],
      n: 2,
    });
    assert.equal(lastReceived().n, 2);
    assert.deepEqual(
      res.choices.map((c) => [c.index, c.message.content]),
      [
        [0, 'echo: twice'],
        [1, 'echo: twice [choice 2]'],
      ],
    );
  });

  test('an image part keeps its detail; a refusal comes back as message.refusal', async () => {
    const page = await renderPage({ lines: ['detail'] });
    await client.chat.completions.create({
      model: 'gpt-remote',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            {
              type: 'image_url',
              image_url: { url: `data:image/png;base64,${page.toString('base64')}`, detail: 'low' },
            },
          ],
        },
      ],
    });
    const part = (
      lastReceived().messages as Array<{
        content: Array<{ type: string; image_url?: { detail?: string; url: string } }>;
      }>
    )[0]!.content[1]!;
    assert.equal(part.image_url?.detail, 'low');
    assert.match(part.image_url!.url, /^data:image\/png;base64,/);
    const refused = await client.chat.completions.create({
      model: 'gpt-remote',
      messages: [{ role: 'user', content: 'REFUSE this' }],
    });
    assert.equal(refused.choices[0]!.message.content, null);
    assert.equal(refused.choices[0]!.message.refusal, "I'm sorry, I can't help with that.");
  });

  test('streaming: tool call deltas, logprobs and n pass through; usage only when the client asks for it', async () => {
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({
      model: 'gpt-remote',
      messages: [{ role: 'user', content: 'Oslo' }],
      tools: [weather],
      stream: true,
      stream_options: { include_usage: true },
    }))
      chunks.push(chunk);
    const args = chunks
      .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
      .map((d) => d.function?.arguments ?? '')
      .join('');
    assert.equal(args, '{"city":"Oslo"}');
    assert.equal(
      chunks.find((c) => c.choices[0]?.delta.tool_calls)?.choices[0]?.delta.tool_calls?.[0]?.id,
      'call_fake0',
    );
    assert.equal(chunks.at(-1)!.choices.length, 0);
    assert.ok(chunks.at(-1)!.usage!.total_tokens > 0);
    assert.ok(
      chunks.every((c) => c.model === 'gpt-remote' && c.created === 1700000000 && c.system_fingerprint === 'fp_fake'),
    );

    const plain: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({
      model: 'gpt-remote',
      messages: [{ role: 'user', content: 'a b' }],
      stream: true,
      n: 2,
      logprobs: true,
    }))
      plain.push(chunk);
    assert.deepEqual(lastReceived().stream_options, { include_usage: true }, 'visiongate meters usage itself');
    assert.ok(
      plain.every((c) => !c.usage),
      'but does not hand a client usage it did not ask for',
    );
    const text = (index: number) =>
      plain.flatMap((c) => c.choices.filter((x) => x.index === index).map((x) => x.delta.content ?? '')).join('');
    assert.equal(text(0), 'echo: a b');
    assert.equal(text(1), 'echo: a b [choice 2]');
    assert.ok(plain.some((c) => c.choices[0]?.logprobs?.content?.length));
  });
});

describe('errors as OpenAI sends them', () => {
  test('an upstream 400 on a stream, before its first byte: the real status and message, not an SSE error after a 200', async () => {
    upstream.faults.push({ status: 400, message: "'messages' must contain the word json" });
    const error = await client.chat.completions
      .create({ model: 'gpt-remote', messages: [{ role: 'user', content: 'x' }], stream: true })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.status, 400);
    assert.match(error.message, /must contain the word json/);
    upstream.faults.push({ status: 429, message: 'slow down' });
    const limited = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-remote', stream: true, messages: [{ role: 'user', content: 'x' }] }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(limited.status, 429);
    assert.match(limited.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(((await limited.json()) as { error: { type: string } }).error.type, 'rate_limit_error');
  });

  test('after the first byte: an error event in the stream, which the SDK raises', async () => {
    upstream.faults.push({ drop: 'mid-stream' });
    upstream.chunkDelayMs = 50;
    try {
      let text = '';
      const error = await (async () => {
        for await (const chunk of await client.chat.completions.create({
          model: 'gpt-remote',
          messages: [{ role: 'user', content: 'a b c' }],
          stream: true,
        }))
          text += chunk.choices[0]?.delta.content ?? '';
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.equal(text, 'echo:');
      assert.ok(error instanceof OpenAI.APIError && /broke off/.test(error.message), String(error));
    } finally {
      upstream.chunkDelayMs = 0;
    }
  });
});

describe('Ollama: what maps is mapped, the rest is refused by name', () => {
  test('tools, tool results, seed, penalties and JSON schema map onto its native API; tool calls come back in OpenAI shape', async () => {
    const res = await client.chat.completions.create({
      model: 'ollama-chat',
      messages: [{ role: 'user', content: 'Rome' }],
      tools: [weather],
      seed: 3,
      frequency_penalty: 0.2,
      presence_penalty: 0.1,
    });
    const sent = lastReceived() as { tools: unknown; options: Record<string, unknown> };
    assert.deepEqual(sent.tools, [weather]);
    assert.deepEqual(sent.options, { seed: 3, frequency_penalty: 0.2, presence_penalty: 0.1 });
    const call = res.choices[0]!.message.tool_calls![0]!;
    assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(call.type === 'function' && call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.type === 'function' ? call.function.arguments : ''), { city: 'Rome' });
    const next = await client.chat.completions.create({
      model: 'ollama-chat',
      messages: [
        { role: 'user', content: 'Rome' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'sunny' },
      ],
    });
    assert.deepEqual((lastReceived().messages as unknown[]).slice(1), [
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Rome' } } }],
      },
      { role: 'tool', content: 'sunny', tool_name: 'get_weather' },
    ]);
    assert.equal(next.choices[0]!.message.content, 'echo: sunny');
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    const json = await client.chat.completions.create({
      model: 'ollama-chat',
      messages: [{ role: 'user', content: 'ok?' }],
      response_format: { type: 'json_schema', json_schema: { name: 'ok', schema } },
    });
    assert.deepEqual(lastReceived().format, schema);
    assert.deepEqual(JSON.parse(json.choices[0]!.message.content!), { ok: true });
  });

  test('logprobs, n > 1, logit_bias and unknown fields: a 400 naming the parameter, nothing sent upstream', async () => {
    const before = upstream.received.length;
    for (const [param, extra] of [
      ['logprobs', { logprobs: true }],
      ['n', { n: 2 }],
      ['logit_bias', { logit_bias: { '1': 5 } }],
      ['future_field', { future_field: 1 }],
      ['tool_choice', { tool_choice: 'required', tools: [weather] }],
    ] as const) {
      const error = await client.chat.completions
        .create({
          model: 'ollama-chat',
          messages: [{ role: 'user', content: 'x' }],
          ...extra,
        } as OpenAI.ChatCompletionCreateParamsNonStreaming)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(error instanceof OpenAI.BadRequestError, `${param}: ${String(error)}`);
      assert.equal(error.param, param);
      assert.match(error.message, /not supported by this model's backend \(ollama\)/);
      const streamed = await client.chat.completions
        .create({
          model: 'ollama-chat',
          stream: true,
          messages: [{ role: 'user', content: 'x' }],
          ...extra,
        } as OpenAI.ChatCompletionCreateParamsStreaming)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(streamed instanceof OpenAI.BadRequestError && streamed.param === param, `streamed ${param}`);
    }
    assert.equal(upstream.received.length, before);
  });
});
