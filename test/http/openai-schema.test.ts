/**
 * /v1 chat answers checked against OpenAI's published response schemas (test/fixtures/openai-chat-schema.ts),
 * whether the answer is a remote backend's passed through or built here for a local engine.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { createChatCompletionResponse, createChatCompletionStreamResponse } from '../fixtures/openai-chat-schema.js';
import { renderPage } from '../fixtures/pages.js';

const ajv = new Ajv({ allErrors: true, strict: false });
const validCompletion = ajv.compile(createChatCompletionResponse);
const validChunk = ajv.compile(createChatCompletionStreamResponse);

let upstream: FakeUpstream;
let t: TestApp;

before(async () => {
  upstream = await startFakeUpstream();
  t = await buildTestApp({
    models: {
      remote: { chat: { backend: 'openai', urls: [upstream.url], vision: false, maxRetries: 0 } },
      'ollama-chat': { chat: { backend: 'ollama', urls: [upstream.root], vision: false, maxRetries: 0 } },
    },
  });
});
after(async () => {
  await t?.close();
  await upstream?.close();
});

const tools = [
  {
    type: 'function',
    function: {
      name: 'lookup',
      parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
    },
  },
];

async function bodies(): Promise<Array<[string, Record<string, unknown>]>> {
  const page = await renderPage({ lines: ['Schema check page.'] });
  const image = {
    role: 'user',
    content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${page.toString('base64')}` } }],
  };
  return [
    ['remote plain', { model: 'remote', messages: [{ role: 'user', content: 'hi' }] }],
    ['remote tool call', { model: 'remote', messages: [{ role: 'user', content: 'hi' }], tools }],
    ['remote refusal', { model: 'remote', messages: [{ role: 'user', content: 'REFUSE' }] }],
    [
      'remote logprobs, n = 2',
      { model: 'remote', messages: [{ role: 'user', content: 'a b' }], logprobs: true, top_logprobs: 1, n: 2 },
    ],
    ['ollama tool call', { model: 'ollama-chat', messages: [{ role: 'user', content: 'hi' }], tools }],
    ['ollama text', { model: 'ollama-chat', messages: [{ role: 'user', content: 'hi' }] }],
    ['embedded OCR', { model: 'got_ocr', messages: [image] }],
  ];
}

describe("/v1/chat/completions answers validate against OpenAI's published schema", () => {
  test('JSON answers', async () => {
    for (const [name, payload] of await bodies()) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/chat/completions', payload });
      assert.equal(res.statusCode, 200, `${name}: ${res.body}`);
      assert.ok(
        validCompletion(res.json()),
        `${name}: ${ajv.errorsText(validCompletion.errors)}\n${res.body.slice(0, 400)}`,
      );
    }
  });

  test('every chunk of streamed answers (with usage)', async () => {
    for (const [name, payload] of await bodies()) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: { ...payload, stream: true, stream_options: { include_usage: true } },
      });
      assert.equal(res.statusCode, 200, `${name}: ${res.body}`);
      const events = res.body
        .split('\n\n')
        .filter((e) => e.startsWith('data: '))
        .map((e) => e.slice(6));
      assert.equal(events.at(-1), '[DONE]', name);
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { usage?: unknown });
      assert.ok(chunks.length >= 2, name);
      for (const chunk of chunks)
        assert.ok(
          validChunk(chunk),
          `${name}: ${ajv.errorsText(validChunk.errors)}\n${JSON.stringify(chunk).slice(0, 400)}`,
        );
      assert.ok(chunks.at(-1)!.usage, `${name}: usage last`);
    }
  });

  test('the schemas are not vacuous: an answer missing message.refusal or with created as a string fails', () => {
    const answer = {
      id: 'x',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [
        {
          index: 0,
          finish_reason: 'stop',
          logprobs: null,
          message: { role: 'assistant', content: 'hi', refusal: null },
        },
      ],
    };
    assert.ok(validCompletion(answer));
    const { refusal: _refusal, ...withoutRefusal } = answer.choices[0]!.message;
    assert.ok(!validCompletion({ ...answer, choices: [{ ...answer.choices[0]!, message: withoutRefusal }] }));
    assert.ok(!validCompletion({ ...answer, created: '1' }));
    assert.ok(
      !validChunk({ ...answer, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {} }] }),
      'a chunk choice needs finish_reason',
    );
  });
});
