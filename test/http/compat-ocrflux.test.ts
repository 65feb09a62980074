/**
 * The OCRFlux API server (seed 004) as a drop-in: its environment (VLLM_URL, VLLM_PORT,
 * OCRFLUX_MODEL, MAX_RETRIES, API_HOST, API_PORT, DEBUG) and its README's own request,
 * proxied to a recording vLLM-compatible upstream.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { serveRefusal } from '../../src/main.js';
import { createServices, type Services } from '../../src/services.js';
import { startServer } from '../helpers/server-process.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { renderPage } from '../fixtures/pages.js';

/** The README's "Image Recognition" curl body, verbatim but for the image placeholder. */
function seedBody(imageBase64: string): Record<string, unknown> {
  return {
    model: 'Qwen/Qwen2.5-VL-32B-Instruct',
    messages: [
      {
        role: 'system',
        content:
          '将图片中的内容用列表的形式总结\n\n## 字段处理细则\n\n- 必须识别出勾选框的勾选状态，统一用：[√]表示选中，[ ]表示未选，属于同一组的勾选框使用一行输出\n\n## 特别注意\n\n- 注意识别图片中的手写体文字，不要忽略\n- 必须将所有的内容都提取出来，注意根据语义保留层级关系，不能遗漏任何信息！！！\n- 不需要输出任何其他字眼，只需要用Markdown列表格式输出提取后的内容！！！',
      },
      {
        role: 'user',
        content: [
          { type: 'text', text: '识别这张图片的内容，使用Markdown格式输出，注意保留层级关系！！！' },
          { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${imageBase64}` } },
        ],
      },
    ],
    max_tokens: 4000,
    temperature: 0.1,
  };
}

async function ocrPagesRead(services: Services): Promise<number> {
  return (await services.metrics.ocrPages.get()).values.reduce((sum, v) => sum + v.value, 0);
}

let upstream: FakeUpstream;
let services: Services;
let app: FastifyInstance;
let jpeg: string;

before(async () => {
  upstream = await startFakeUpstream();
  jpeg = (await renderPage({ lines: ['Inspection form', '[x] Passed'] }, 'jpeg')).toString('base64');
  const port = new URL(upstream.url).port;
  // "VLLM_URL=http://gpu-server VLLM_PORT=30024 python -m ocrflux.api_server", with our fake as the GPU server.
  const env = { VLLM_URL: 'http://127.0.0.1', VLLM_PORT: port, MAX_RETRIES: '1' };
  // One name bound to something else in the config: it must not be proxied.
  services = createServices(
    loadConfig({
      env,
      overrides: {
        log: { level: 'silent' },
        jobs: { sqlitePath: ':memory:' },
        models: { 'local-ocr': { ocr: { engine: 'tesseract-js' } } },
      },
    }),
  );
  app = await buildApp(services, { logger: false });
  await app.ready();
});
after(async () => {
  await app.close();
  await services.close();
  await upstream.close();
});

const post = (body: unknown) =>
  app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization: 'Bearer YOUR_API_KEY' },
    payload: JSON.stringify(body),
  });

describe('OCRFlux: VLLM_URL / VLLM_PORT proxy every unbound model to vLLM', () => {
  test("the README's exact request reaches the upstream with its model name; no embedded OCR runs", async () => {
    // README: curl -X POST "http://localhost:8000/v1/chat/completions" … "model": "Qwen/Qwen2.5-VL-32B-Instruct" … "max_tokens": 4000, "temperature": 0.1
    upstream.received.length = 0;
    const body = seedBody(jpeg);
    const res = await post(body);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(upstream.received.length, 1);
    const sent = upstream.received[0]!;
    assert.equal(sent.model, 'Qwen/Qwen2.5-VL-32B-Instruct');
    assert.equal(sent.max_tokens, 4000);
    assert.equal(sent.temperature, 0.1);
    assert.deepEqual(sent.messages, body.messages, 'system prompt, text and the image data URL arrive unchanged');
    // README "Response Format": "object": "chat.completion", "model": "Qwen/Qwen2.5-VL-32B-Instruct", choices[0].message.content
    const answer = res.json() as {
      object: string;
      model: string;
      choices: Array<{ message: { role: string; content: string } }>;
    };
    assert.equal(answer.object, 'chat.completion');
    assert.equal(answer.model, 'Qwen/Qwen2.5-VL-32B-Instruct');
    assert.match(answer.choices[0]!.message.content, /^echo: 识别这张图片/);
    assert.equal(res.headers['x-visiongate-backend'], `openai-compatible: ${upstream.url}`);
    assert.equal(await ocrPagesRead(services), 0, 'the embedded OCR read no page');
  });

  test('a name no config knows is proxied with that name; a name bound to the embedded OCR is not', async () => {
    upstream.received.length = 0;
    const res = await post({ ...seedBody(jpeg), model: 'some-org/Some-VL-Model' });
    assert.equal(res.statusCode, 200);
    assert.equal(upstream.received[0]?.model, 'some-org/Some-VL-Model');
    const local = await post({ ...seedBody(jpeg), model: 'local-ocr' });
    assert.equal(local.statusCode, 200, local.body);
    assert.equal(upstream.received.length, 1, 'the bound model did not go upstream');
    assert.equal(local.headers['x-visiongate-backend'], 'embedded OCR (tesseract-js)');
    assert.ok((await ocrPagesRead(services)) > 0);
  });

  test('OCRFLUX_MODEL (default ChatDOC/OCRFlux-3B) serves a request that names no model', async () => {
    // README: "`OCRFLUX_MODEL`: Model name (default: ChatDOC/OCRFlux-3B)"
    upstream.received.length = 0;
    const { model: _model, ...withoutModel } = seedBody(jpeg);
    const res = await post(withoutModel);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(upstream.received[0]?.model, 'ChatDOC/OCRFlux-3B');
  });

  test('an upstream 500 is retried (MAX_RETRIES=1, "Max retries for failed requests (default: 1)")', async () => {
    upstream.received.length = 0;
    upstream.faults.push({ status: 500, message: 'CUDA error' });
    const res = await post(seedBody(jpeg));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(upstream.received.length, 2, 'one failure, one retry');
    // Past the retries the failure is the client's to see, as a 502.
    upstream.received.length = 0;
    upstream.faults.push({ status: 500 }, { status: 500 });
    const failed = await post(seedBody(jpeg));
    assert.equal(failed.statusCode, 502);
    assert.equal(upstream.received.length, 2);
  });

  test('/v1/models lists the seed ids as served by the proxy', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/models' });
    const qwen = (res.json() as { data: Array<{ id: string; capabilities: string[] }> }).data.find(
      (m) => m.id === 'Qwen/Qwen2.5-VL-32B-Instruct',
    );
    assert.ok(qwen?.capabilities.includes('chat'));
  });
});

describe('OCRFlux environment: API_HOST, API_PORT, DEBUG, VLLM_*', () => {
  // README "Configuration": API_HOST (default: 0.0.0.0), API_PORT (default: 8000), DEBUG (default: false),
  // VLLM_URL (default: http://localhost), VLLM_PORT (default: 30024), MAX_RETRIES (default: 1)
  test('API_HOST, API_PORT and DEBUG set the listen address and debug logging', () => {
    const config = loadConfig({ env: { API_HOST: '0.0.0.0', API_PORT: '8123', DEBUG: 'true' } });
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.server.port, 8123);
    assert.equal(config.log.level, 'debug');
    assert.equal(loadConfig({ env: { DEBUG: 'false' } }).log.level, 'info');
  });

  test("VISIONGATE_* wins over the seed's names when both are set", () => {
    const config = loadConfig({
      env: { API_PORT: '8123', VISIONGATE_PORT: '9000', API_HOST: '0.0.0.0', VISIONGATE_HOST: '127.0.0.1' },
    });
    assert.equal(config.server.port, 9000);
    assert.equal(config.server.host, '127.0.0.1');
  });

  test('VLLM_URL alone uses port 30024; VLLM_PORT alone uses http://localhost; MAX_RETRIES is read', () => {
    assert.deepEqual(loadConfig({ env: { VLLM_URL: 'http://gpu-server' } }).compat.vllmProxy?.urls, [
      'http://gpu-server:30024/v1',
    ]);
    assert.deepEqual(loadConfig({ env: { VLLM_PORT: '31000' } }).compat.vllmProxy?.urls, ['http://localhost:31000/v1']);
    assert.equal(
      loadConfig({ env: { VLLM_URL: 'http://gpu-server', MAX_RETRIES: '3' } }).compat.vllmProxy?.maxRetries,
      3,
    );
    assert.equal(loadConfig({ env: {} }).compat.vllmProxy, undefined);
  });

  test("a bad value names the variable's setting", () => {
    assert.throws(() => loadConfig({ env: { API_PORT: 'eighty' } }), /server\.port/);
    assert.throws(() => loadConfig({ env: { VLLM_URL: 'gpu-server' } }), /VLLM_URL must be a URL/);
  });
});

/** The runtime stage's ENV lines of deploy/Dockerfile (what `docker run` starts with). */
function dockerfileEnv(): Record<string, string> {
  const file = readFileSync('deploy/Dockerfile', 'utf8').replace(/\\\n/g, ' ');
  const env: Record<string, string> = {};
  for (const line of file
    .slice(file.lastIndexOf('\nFROM '))
    .split('\n')
    .filter((l) => l.startsWith('ENV '))) {
    for (const [, key, value] of line.slice(4).matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[key!] = value!;
  }
  return env;
}

describe("the seed's `docker run` line", () => {
  // README "Docker Deployment": docker run -p 8000:8000 -e VLLM_URL=http://gpu-server -e VLLM_PORT=30024 ocrflux-api
  const seedLine = { VLLM_URL: 'http://gpu-server', VLLM_PORT: '30024' };
  const key = 'ocrflux-key-0123456789abcdef';

  test('as documented it is refused with one line naming the variable to add (VISIONGATE_API_KEY)', () => {
    const config = loadConfig({ env: { ...dockerfileEnv(), ...seedLine } });
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.server.port, 8000);
    assert.match(serveRefusal(config) ?? '', /set VISIONGATE_API_KEY/);
  });

  test("with -e VISIONGATE_API_KEY added it serves, and the README's curl (Authorization: Bearer) reaches vLLM", async () => {
    const config = loadConfig({ env: { ...dockerfileEnv(), ...seedLine, VISIONGATE_API_KEY: key } });
    assert.equal(serveRefusal(config), undefined);
    assert.deepEqual(config.compat.vllmProxy?.urls, ['http://gpu-server:30024/v1']);
    // The same environment, started on loopback (tests never listen elsewhere) with our fake as the GPU server.
    const fake = await startFakeUpstream();
    const server = await startServer({
      ...dockerfileEnv(),
      VLLM_URL: 'http://127.0.0.1',
      VLLM_PORT: new URL(fake.url).port,
      VISIONGATE_API_KEY: key,
      VISIONGATE_HOST: '127.0.0.1',
      VISIONGATE_PORT: '0',
    });
    try {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(seedBody(jpeg)),
        signal: AbortSignal.timeout(30_000),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(fake.received[0]?.model, 'Qwen/Qwen2.5-VL-32B-Instruct');
      const noKey = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(noKey.status, 401);
    } finally {
      await server.stop();
      await fake.close();
    }
  });
});
