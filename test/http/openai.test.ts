/**
 * /v1 with the official `openai` SDK as the client; remote backends against an upstream
 * that speaks vLLM's wire format (faults included) and against a second visiongate.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { buildTestApp, multipart, type TestApp } from '../helpers/app.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { renderForm } from '../fixtures/form.js';
import { renderPage } from '../fixtures/pages.js';
import { articles } from '../fixtures/articles.js';

let upstream: FakeUpstream;
let second: TestApp;
let secondUrl: string;
let t: TestApp;
let url: string;
let client: OpenAI;

async function listen(app: TestApp): Promise<string> {
  await app.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
}

const chat = (urls: string[], extra: Record<string, unknown> = {}) => ({
  chat: { backend: 'openai', urls, vision: false, maxRetries: 1, ...extra },
});

before(async () => {
  upstream = await startFakeUpstream();
  second = await buildTestApp();
  secondUrl = await listen(second);
  t = await buildTestApp({
    models: {
      'echo-chat': { name: 'Echo', ...chat([upstream.url]) },
      'echo-vision': chat([upstream.url], { vision: true }),
      busy: chat([upstream.url], { concurrency: 1, maxQueue: 0 }),
      failover: chat(['http://127.0.0.1:9/v1', upstream.url], { maxRetries: 0 }),
      'tiny-context': chat([upstream.url], { contextTokens: 256 }),
      'remote-ocr': chat([`${secondUrl}/v1`], { vision: true, model: 'got_ocr' }),
      qwen3_vl_2b: { ocr: { engine: 'auto' }, ...chat([upstream.url]) },
      'ollama-chat': { chat: { backend: 'ollama', urls: [upstream.root], vision: true, maxRetries: 1 } },
    },
  });
  url = await listen(t);
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await t?.close();
  await second?.close();
  await upstream?.close();
});

const png = (lines: string[]) => renderPage({ lines });
const dataUrl = (bytes: Buffer, type = 'image/png') => `data:${type};base64,${bytes.toString('base64')}`;

describe('/v1 with the openai SDK', () => {
  test('models.list includes configured and seed models', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    for (const id of ['echo-chat', 'got_ocr', 'ChatDOC/OCRFlux-3B']) assert.ok(ids.includes(id), id);
  });

  test('a chat completion through a remote backend: parameters arrive exactly, usage comes back', async () => {
    const before = upstream.received.length;
    const res = await client.chat.completions.create({
      model: 'echo-chat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there' },
      ],
      max_tokens: 50,
      temperature: 0.3,
      top_p: 0.9,
      stop: ['END'],
    });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.choices[0]!.message.content, 'echo: hello there');
    assert.equal(res.choices[0]!.finish_reason, 'stop');
    assert.ok(res.usage && res.usage.total_tokens === res.usage.prompt_tokens + res.usage.completion_tokens);
    const sent = upstream.received[before]!;
    assert.deepEqual(
      {
        model: sent.model,
        max_tokens: sent.max_tokens,
        temperature: sent.temperature,
        top_p: sent.top_p,
        stop: sent.stop,
        stream: sent.stream,
      },
      { model: 'echo-chat', max_tokens: 50, temperature: 0.3, top_p: 0.9, stop: ['END'], stream: false },
    );
    assert.deepEqual(sent.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hello there' },
    ]);
    await client.chat.completions.create(
      { model: 'echo-chat', messages: [{ role: 'user', content: 'traced' }] },
      { headers: { 'x-request-id': 'trace-42' } },
    );
    assert.equal(upstream.requestIds.at(-1), 'trace-42', 'the request id follows the request upstream');
  });

  test('streaming: chunks arrive before the upstream finishes, then usage and the end', async () => {
    upstream.chunkDelayMs = 80;
    try {
      const stream = await client.chat.completions.create({
        model: 'echo-chat',
        messages: [{ role: 'user', content: 'one two three four five' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let firstAt = 0;
      let usage: OpenAI.CompletionUsage | undefined | null;
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta?.content;
        if (delta && !firstAt) firstAt = performance.now();
        text += delta ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(text, 'echo: one two three four five');
      assert.ok(firstAt < upstream.lastStreamEnd, 'the first chunk reached the client before the upstream finished');
      assert.equal(finish, 'stop');
      assert.ok(usage && usage.completion_tokens > 0);
    } finally {
      upstream.chunkDelayMs = 0;
    }
  });

  test('an image to an OCR model comes back as its Markdown; to a text-only model, as OCR text (and a header says so)', async () => {
    const page = await png(['Invoice number 4471 is due on Friday.']);
    const ocr = await client.chat.completions.create({
      model: 'got_ocr',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: dataUrl(page) } }] }],
    });
    assert.match(ocr.choices[0]!.message.content ?? '', /Invoice number 4471 is due on Friday\./);
    const before = upstream.received.length;
    const { data, response } = await client.chat.completions
      .create({
        model: 'echo-chat',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is due?' },
              { type: 'image_url', image_url: { url: dataUrl(page) } },
            ],
          },
        ],
      })
      .withResponse();
    assert.equal(response.headers.get('x-visiongate-image-ocr'), '1');
    const sent = JSON.stringify(upstream.received[before]!.messages);
    assert.match(sent, /Invoice number 4471 is due on Friday/);
    assert.doesNotMatch(sent, /image_url/);
    assert.match(data.choices[0]!.message.content ?? '', /Invoice number 4471/);
    const vision = await client.chat.completions.create({
      model: 'echo-vision',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: dataUrl(page) } },
          ],
        },
      ],
    });
    assert.equal(vision.choices[0]!.message.content, 'echo: look [images: 1]');
  });

  test('the SDK raises the right error class: 400, 404, 429', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'echo-chat', messages: [] }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'messages',
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
      (e: unknown) => e instanceof OpenAI.NotFoundError && /Available models/.test(e.message),
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'got_ocr', messages: [{ role: 'user', content: 'no image' }] }),
      OpenAI.BadRequestError,
    );
    upstream.faults.push({ status: 429, message: 'slow down' });
    await assert.rejects(
      client.chat.completions.create({ model: 'echo-chat', messages: [{ role: 'user', content: 'x' }] }),
      (e: unknown) =>
        e instanceof OpenAI.RateLimitError && /slow down/.test(e.message) && e.headers?.get('retry-after') === '2',
    );
  });
});

describe('remote backends: retries, failover, cancellation, back-pressure', () => {
  test('a 503 is retried (nothing was delivered yet); a 400 is not, and its message comes back', async () => {
    const before = upstream.received.length;
    upstream.faults.push({ status: 503 });
    const ok = await client.chat.completions.create({
      model: 'echo-chat',
      messages: [{ role: 'user', content: 'again' }],
    });
    assert.equal(ok.choices[0]!.message.content, 'echo: again');
    assert.equal(upstream.received.length - before, 2);
    upstream.faults.push({ status: 400, message: 'This model has a maximum context length of 8192 tokens' });
    const mid = upstream.received.length;
    await assert.rejects(
      client.chat.completions.create({ model: 'echo-chat', messages: [{ role: 'user', content: 'x' }] }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /maximum context length/.test(e.message),
    );
    assert.equal(upstream.received.length - mid, 1);
  });

  test('a dropped connection before any answer is retried; one mid-stream is not, and the client is told', async () => {
    upstream.faults.push({ drop: 'before-response' });
    const ok = await client.chat.completions.create({
      model: 'echo-chat',
      messages: [{ role: 'user', content: 'dropped once' }],
    });
    assert.equal(ok.choices[0]!.message.content, 'echo: dropped once');
    const before = upstream.received.length;
    upstream.faults.push({ drop: 'mid-stream' });
    // Slow enough that the first tokens surely reached us before the connection drops.
    upstream.chunkDelayMs = 100;
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'echo-chat', stream: true, messages: [{ role: 'user', content: 'a b c d' }] }),
    });
    const text = await res.text().finally(() => (upstream.chunkDelayMs = 0));
    assert.match(text, /"delta":\{"content":"echo:"\}/);
    assert.match(text, /"error":\{"message":"the upstream stream broke off/);
    assert.match(text, /data: \[DONE\]/);
    assert.equal(upstream.received.length - before, 1);
  });

  test('failover: the first URL refuses connections, the second answers', async () => {
    const res = await client.chat.completions.create({
      model: 'failover',
      messages: [{ role: 'user', content: 'fail over' }],
    });
    assert.equal(res.choices[0]!.message.content, 'echo: fail over');
  });

  test('a client that disconnects aborts the upstream request within a second', async () => {
    upstream.chunkDelayMs = 200;
    try {
      const before = upstream.aborted;
      const controller = new AbortController();
      const stream = await client.chat.completions.create(
        {
          model: 'echo-chat',
          messages: [{ role: 'user', content: 'w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12' }],
          stream: true,
        },
        { signal: controller.signal },
      );
      const reader = (async () => {
        for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) controller.abort();
      })();
      await reader.catch(() => undefined);
      const deadline = performance.now() + 1000;
      while (upstream.aborted === before && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(upstream.aborted, before + 1, 'the upstream saw its client go away');
    } finally {
      upstream.chunkDelayMs = 0;
    }
  });

  test('a full model queue answers 503 with Retry-After at once, while the first request still runs', async () => {
    upstream.faults.push({ delayMs: 800 });
    let firstDone = false;
    const first = client.chat.completions
      .create({ model: 'busy', messages: [{ role: 'user', content: 'slow' }] })
      .then((r) => {
        firstDone = true;
        return r;
      });
    await new Promise((r) => setTimeout(r, 100));
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'busy', messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal(firstDone, false, 'refused while the first was still running, not after a timeout');
    assert.equal((await first).choices[0]!.message.content, 'echo: slow');
  });

  test('visiongate as its own upstream: a second instance serves the OCR model, JSON and stream', async () => {
    const page = await png(['Served by the second instance.']);
    const message = {
      role: 'user' as const,
      content: [{ type: 'image_url' as const, image_url: { url: dataUrl(page) } }],
    };
    const res = await client.chat.completions.create({ model: 'remote-ocr', messages: [message] });
    assert.match(res.choices[0]!.message.content ?? '', /Served by the second instance\./);
    let streamed = '';
    for await (const chunk of await client.chat.completions.create({
      model: 'remote-ocr',
      messages: [message],
      stream: true,
    }))
      streamed += chunk.choices[0]?.delta?.content ?? '';
    assert.match(streamed, /Served by the second instance\./);
  });
});

describe("Ollama's native API", () => {
  test("JSON and streamed: options, images and counts in Ollama's own fields", async () => {
    const before = upstream.received.length;
    const page = await png(['x']);
    const res = await client.chat.completions.create({
      model: 'ollama-chat',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi ollama' },
            { type: 'image_url', image_url: { url: dataUrl(page) } },
          ],
        },
      ],
      max_tokens: 33,
      temperature: 0.2,
      top_p: 0.5,
      stop: ['##'],
    });
    assert.equal(res.choices[0]!.message.content, 'echo: hi ollama [images: 1]');
    assert.deepEqual(res.usage, { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 });
    const sent = upstream.received[before]! as {
      options: unknown;
      messages: Array<{ images?: string[] }>;
      model: string;
    };
    assert.equal(sent.model, 'ollama-chat');
    assert.deepEqual(sent.options, { temperature: 0.2, top_p: 0.5, num_predict: 33, stop: ['##'] });
    assert.equal(Buffer.from(sent.messages[0]!.images![0]!, 'base64').subarray(1, 4).toString(), 'PNG');
    let streamed = '';
    for await (const chunk of await client.chat.completions.create({
      model: 'ollama-chat',
      messages: [{ role: 'user', content: 'stream me' }],
      stream: true,
    }))
      streamed += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(streamed, 'echo: stream me');
  });

  test("Ollama's error body becomes the right error; a 503 is retried", async () => {
    upstream.faults.push({ status: 404, message: "model 'llava' not found, try pulling it first" });
    await assert.rejects(
      client.chat.completions.create({ model: 'ollama-chat', messages: [{ role: 'user', content: 'x' }] }),
      (e: unknown) => e instanceof OpenAI.APIError && e.status === 502 && /try pulling it first/.test(e.message),
    );
    upstream.faults.push({ status: 503 });
    const ok = await client.chat.completions.create({
      model: 'ollama-chat',
      messages: [{ role: 'user', content: 'after 503' }],
    });
    assert.equal(ok.choices[0]!.message.content, 'echo: after 503');
  });
});

describe('OCRFlux requests, unchanged', () => {
  const system =
    '将图片中的内容用列表的形式总结\n\n## 字段处理细则\n\n- 必须识别出勾选框的勾选状态，统一用：[√]表示选中，[ ]表示未选，属于同一组的勾选框使用一行输出\n\n## 特别注意\n\n- 注意识别图片中的手写体文字，不要忽略\n- 必须将所有的内容都提取出来，注意根据语义保留层级关系，不能遗漏任何信息！！！\n- 不需要输出任何其他字眼，只需要用Markdown列表格式输出提取后的内容！！！';
  let form: Buffer;
  before(async () => {
    form = await renderForm('Inspection checklist', [
      { label: 'Valves inspected', checked: true },
      { label: 'Pressure tested', checked: false },
      { label: 'Filters replaced', checked: true },
      { label: 'Leaks found', checked: false },
      { label: 'Report signed', checked: true },
    ]);
  });
  const count = (text: string, mark: string): number => text.split(mark).length - 1;

  test('the curl example: a form with 3 checked and 2 unchecked boxes comes back with exactly those marks, as a list', async () => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer YOUR_API_KEY' },
      body: JSON.stringify({
        model: 'Qwen/Qwen2.5-VL-32B-Instruct',
        messages: [
          { role: 'system', content: system },
          {
            role: 'user',
            content: [
              { type: 'text', text: '识别这张图片的内容，使用Markdown格式输出，注意保留层级关系！！！' },
              { type: 'image_url', image_url: { url: dataUrl(form, 'image/jpeg') } },
            ],
          },
        ],
        max_tokens: 4000,
        temperature: 0.1,
      }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      id: string;
      object: string;
      created: number;
      model: string;
      choices: Array<{ index: number; message: { role: string; content: string }; finish_reason: string }>;
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    assert.match(body.id, /^chatcmpl-/);
    assert.equal(body.object, 'chat.completion');
    assert.equal(typeof body.created, 'number');
    assert.equal(body.model, 'Qwen/Qwen2.5-VL-32B-Instruct');
    assert.equal(body.choices[0]!.message.role, 'assistant');
    assert.equal(body.choices[0]!.finish_reason, 'stop');
    const content = body.choices[0]!.message.content;
    assert.equal(count(content, '[√]'), 3, content);
    assert.equal(count(content, '[ ]'), 2, content);
    assert.match(content, /^- \[√\] Valves inspected$/m);
    assert.match(content, /^- \[ \] Pressure tested$/m);
    assert.ok(
      content.split('\n').every((line) => /^\s*- /.test(line)),
      'every line is a list item',
    );
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  test('the same through the OpenAI SDK (the Python client equivalent)', async () => {
    const res = await client.chat.completions.create({
      model: 'ChatDOC/OCRFlux-3B',
      messages: [
        { role: 'system', content: system },
        {
          role: 'user',
          content: [
            { type: 'text', text: '识别这张图片的内容' },
            { type: 'image_url', image_url: { url: dataUrl(form) } },
          ],
        },
      ],
      max_tokens: 4000,
      temperature: 0.1,
    });
    const content = res.choices[0]!.message.content ?? '';
    assert.equal(count(content, '[√]'), 3, content);
    assert.equal(count(content, '[ ]'), 2, content);
  });
});

describe('the runtime behind other routes', () => {
  test('ChatVLMLLM /chat with a chat model bound to the name: its answer, with the image as OCR text', async () => {
    const page = await png(['Pump station four passed inspection.']);
    const before = upstream.received.length;
    const res = await t.app.inject({
      method: 'POST',
      url: '/chat',
      ...multipart(
        { name: 'image.jpg', bytes: page },
        { prompt: 'What passed?', model: 'qwen3_vl_2b', temperature: '0.2', max_tokens: '64' },
      ),
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ response: string; model: string; processing_time: number; prompt: string }>();
    assert.match(body.response, /^echo: What passed\?/);
    assert.equal(body.model, 'qwen3_vl_2b');
    assert.equal(body.prompt, 'What passed?');
    assert.equal(typeof body.processing_time, 'number');
    assert.equal(res.headers['x-visiongate-image-ocr'], '1');
    const sent = upstream.received[before]!;
    assert.equal(sent.temperature, 0.2);
    assert.equal(sent.max_tokens, 64);
    assert.match(JSON.stringify(sent.messages), /Pump station four passed inspection/);
  });

  test('abstractive summary: map-reduce over a small context, temperature passed, streamed as SSE', async () => {
    const before = upstream.received.length;
    const long = articles.map((a) => a.text).join('\n\n');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/summarize',
      payload: { text: long, model: 'tiny-context', max_length: 40, temperature: 0.4 },
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ summary: string; engine: string; model: string }>();
    assert.equal(body.engine, 'abstractive');
    assert.equal(body.model, 'tiny-context');
    assert.ok(body.summary.length > 0);
    const calls = upstream.received.slice(before);
    assert.ok(calls.length >= 3, `map-reduce made ${calls.length} calls`);
    assert.ok(calls.every((c) => c.temperature === 0.4 && c.max_tokens === 40));
    const stream = await fetch(`${url}/api/v1/summarize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: articles[0]!.text, model: 'echo-chat', stream: true }),
    });
    const events = await stream.text();
    assert.match(events, /event: delta\ndata: \{"content":/);
    assert.match(events, /event: summary\ndata: \{"summary":/);
  });
});
