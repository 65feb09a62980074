/**
 * Hardening, round two, in process: malformed inputs that got a 500 or an empty 200 now get
 * their 4xx; worker tasks and jobs have time limits (the worker is replaced); one request
 * cannot fan out into thousands of model calls; keys in the query string stay out of the log;
 * upstream URLs are for admin keys only; fetch.allowHosts honours ports.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/app.js';
import { createKey } from '../../src/auth/keys.js';
import { loadConfig } from '../../src/config/load.js';
import { guardedFetch } from '../../src/net/guarded-fetch.js';
import { createServices } from '../../src/services.js';
import { brokenPageTrees, brokenTiffs, lyingPageCount } from '../fixtures/bombs.js';
import { buildTestApp, multipart, type TestApp } from '../helpers/app.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';

let t: TestApp;
before(async () => {
  t = await buildTestApp();
});
after(() => t?.close());

async function expectProblem(
  res: { statusCode: number; body: string },
  status: number,
  code: string,
  detail?: RegExp,
): Promise<void> {
  assert.equal(res.statusCode, status, res.body.slice(0, 300));
  const body = JSON.parse(res.body) as { code: string; detail: string };
  assert.equal(body.code, code, res.body.slice(0, 300));
  if (detail) assert.match(body.detail, detail);
  assert.equal((await t.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
}

describe('malformed documents → 422, never a 500 or an empty 200', () => {
  for (const [label, pdf] of Object.entries(brokenPageTrees)) {
    test(`a PDF with a ${label} → 422 corrupt_document`, async () => {
      await expectProblem(
        await t.app.inject({ method: 'POST', url: '/api/v1/ocr', ...multipart({ name: 'x.pdf', bytes: pdf }) }),
        422,
        'corrupt_document',
        /page/,
      );
    });
  }

  test('a PDF whose page count lies (40 claimed, 1 held): the real page is read and counted, not 40 empty ones', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ocr',
      ...multipart({ name: 'x.pdf', bytes: lyingPageCount }),
    });
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    const body = res.json<{ text: string; document: { page_count: number } }>();
    assert.equal(body.document.page_count, 1);
    assert.match(body.text, /The only real page/);
  });

  test('TIFFs cut inside their pixels, with an unknown compression, or strips past the end → 422 corrupt_document', async () => {
    for (const [label, tiff] of Object.entries(await brokenTiffs())) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/ocr',
        ...multipart({ name: 'x.tiff', bytes: tiff }),
      });
      assert.equal(res.statusCode, 422, `${label}: ${res.body.slice(0, 200)}`);
      assert.equal(res.json<{ code: string }>().code, 'corrupt_document', label);
    }
  });

  test('a file of NUL bytes or a truncated BMP is not "summarized" as text: 415; a JSON text of NULs: 422', async () => {
    for (const bytes of [Buffer.alloc(4096), Buffer.from('BM\x36\x10\x0e\x00\x00\x00\x00\x00\x36\x00', 'latin1')]) {
      await expectProblem(
        await t.app.inject({ method: 'POST', url: '/api/v1/summarize', ...multipart({ name: 'x.txt', bytes }) }),
        415,
        'unsupported_media_type',
        /binary data/,
      );
      const seed = await t.app.inject({
        method: 'POST',
        url: '/summarize/file',
        ...multipart({ name: 'x.txt', bytes }),
      });
      assert.equal(seed.statusCode, 415, seed.body);
    }
    await expectProblem(
      await t.app.inject({ method: 'POST', url: '/api/v1/summarize', payload: { text: '\u0000'.repeat(500) } }),
      422,
      'invalid_parameter',
      /binary data/,
    );
  });
});

describe('malformed bodies → 400/415', () => {
  const boundary = 'vgBoundary';
  const cutPart = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\nhalf a file`;
  const bodies: Array<[string, string, string]> = [
    ['no boundary', 'multipart/form-data', 'hello'],
    ['a boundary that never appears', `multipart/form-data; boundary=${boundary}`, 'no parts in here at all'],
    ['cut in the middle of a part', `multipart/form-data; boundary=${boundary}`, cutPart],
  ];
  for (const [label, type, payload] of bodies) {
    test(`multipart with ${label} → 400 on every route that reads uploads`, async () => {
      for (const url of [
        '/api/v1/ocr',
        '/api/v1/summarize',
        '/ocr',
        '/batch/ocr',
        '/ocr/process',
        '/ocr/batch',
        '/summarize/file',
      ]) {
        const res = await t.app.inject({ method: 'POST', url, payload, headers: { 'content-type': type } });
        assert.equal(res.statusCode, 400, `${url}: ${res.body.slice(0, 200)}`);
      }
    });
  }

  test('Content-Encoding gzip or br on a body → 415 unsupported_encoding', async () => {
    for (const encoding of ['gzip', 'br', 'deflate']) {
      await expectProblem(
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/summarize',
          payload: '{"text": "plain, not compressed"}',
          headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        }),
        415,
        'unsupported_encoding',
        new RegExp(encoding),
      );
    }
  });

  test('a job whose input nests JSON 100000 deep → 400 naming limits.maxJsonDepth, no stack overflow', async () => {
    const deep = `{"type":"summarize","input":{"text":"x","n":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    await expectProblem(
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/jobs',
        payload: deep,
        headers: { 'content-type': 'application/json', 'idempotency-key': 'deep-1' },
      }),
      400,
      'bad_request',
      /limits\.maxJsonDepth/,
    );
  });
});

describe('time limits: worker tasks and jobs', () => {
  let slow: TestApp;
  before(async () => {
    slow = await buildTestApp({ limits: { workerTaskTimeoutMs: 150 }, jobs: { timeoutMs: 1000 } });
  });
  after(() => slow?.close());
  const longText = Array.from(
    { length: 30_000 },
    (_, i) => `Sentence number ${i} talks about pumps, valves and station ${i % 97}.`,
  ).join(' ');

  test('a worker task past limits.workerTaskTimeoutMs → 422 task_timeout; its thread is replaced and the next task runs', async () => {
    const res = await slow.app.inject({ method: 'POST', url: '/api/v1/summarize', payload: { text: longText } });
    assert.equal(res.statusCode, 422, res.body.slice(0, 300));
    const body = res.json<{ code: string; detail: string; limit: number }>();
    assert.equal(body.code, 'task_timeout');
    assert.equal(body.limit, 150);
    assert.match(body.detail, /limits\.workerTaskTimeoutMs/);
    const next = await slow.app.inject({
      method: 'POST',
      url: '/api/v1/summarize',
      payload: { text: 'A short text. It has two sentences about pumps and valves.' },
    });
    assert.equal(next.statusCode, 200, next.body);
  });

  test('a job past jobs.timeoutMs fails with request_timeout naming the limit', async () => {
    // Jobs may run 1 s here; worker steps keep their default limit (the 2 MB body is parsed in one).
    const jobs = await buildTestApp({ jobs: { timeoutMs: 1000 } });
    after(() => jobs.close());
    const timed = await jobs.app.inject({
      method: 'POST',
      url: '/api/v1/jobs',
      payload: { type: 'summarize', input: { text: `${longText} ${longText}` } },
    });
    assert.equal(timed.statusCode, 202, timed.body);
    const body = timed.json<{ id?: string; job_id?: string }>();
    const id = body.id ?? body.job_id;
    let state: { status: string; error?: { code: string; detail: string } } = { status: 'queued' };
    for (let i = 0; i < 200 && (state.status === 'queued' || state.status === 'running'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await jobs.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}` })).json();
    }
    assert.equal(state.status, 'failed', JSON.stringify(state));
    assert.equal(state.error!.code, 'request_timeout', JSON.stringify(state.error));
    assert.match(state.error!.detail, /jobs\.timeoutMs/);
  });
});

describe('one request cannot fan out upstream', () => {
  let upstream: FakeUpstream;
  let app: TestApp;
  before(async () => {
    upstream = await startFakeUpstream();
    app = await buildTestApp({
      limits: { maxUpstreamCallsPerRequest: 8 },
      models: { small: { chat: { backend: 'openai', urls: [upstream.url], contextTokens: 256 } } },
    });
  });
  after(async () => {
    await app?.close();
    await upstream?.close();
  });

  test('an abstractive summary needing more model calls than limits.maxUpstreamCallsPerRequest → 422 before any call', async () => {
    const text = Array.from({ length: 2000 }, (_, i) => `Paragraph ${i} says the pump station passed inspection.`).join(
      '\n\n',
    );
    const res = await app.app.inject({ method: 'POST', url: '/api/v1/summarize', payload: { text, model: 'small' } });
    assert.equal(res.statusCode, 422, res.body.slice(0, 300));
    const body = res.json<{ code: string; limit: number; detail: string }>();
    assert.equal(body.code, 'too_many_upstream_calls');
    assert.equal(body.limit, 8);
    assert.match(body.detail, /limits\.maxUpstreamCallsPerRequest/);
    assert.equal(upstream.received.length, 0, 'nothing was sent upstream');
  });
});

describe('secrets: the log, upstream URLs, image paths', () => {
  test('?api_key= never reaches the log', async () => {
    const lines: string[] = [];
    const services = createServices(
      loadConfig({ overrides: { log: { level: 'info' }, jobs: { sqlitePath: ':memory:' } } }),
    );
    const app = await buildApp(services, {
      logger: { stream: new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }) },
    });
    try {
      await app.inject({ method: 'GET', url: '/api/v1/models?api_key=vg_SECRET_KEY_123&other=1' });
      // The access line (one a request) carries no URL; wherever a request is serialized, its URL is redacted.
      app.log.info({ req: { method: 'GET', url: '/api/v1/models?api_key=vg_SECRET_KEY_123&other=1' } }, 'probe');
      const log = lines.join('');
      assert.match(log, /request completed/);
      assert.match(log, /api_key=\[redacted\]&other=1/);
      assert.doesNotMatch(log, /vg_SECRET_KEY_123/);
    } finally {
      await app.close();
      await services.close();
    }
  });

  test('upstream URLs in /api/v1/models only for admin keys', async () => {
    const admin = createKey('admin');
    const user = createKey('user');
    const app = await buildTestApp({
      auth: {
        enabled: true,
        keys: [
          { ...admin.entry, scopes: ['admin', 'ocr', 'chat', 'summarize', 'image'] },
          { ...user.entry, scopes: ['ocr', 'chat'] },
        ],
      },
      models: { remote: { chat: { backend: 'openai', urls: ['http://10.1.2.3:8000/v1'] } } },
    });
    try {
      const list = async (key: string): Promise<string> =>
        (await app.app.inject({ method: 'GET', url: '/api/v1/models', headers: { authorization: `Bearer ${key}` } }))
          .body;
      assert.match(await list(admin.key), /10\.1\.2\.3:8000/);
      const seen = await list(user.key);
      assert.doesNotMatch(seen, /10\.1\.2\.3/);
      assert.match(seen, /openai-compatible/);
    } finally {
      await app.close();
    }
  });
});

describe('fetch.allowHosts honours ports', () => {
  let target: Server;
  let other: Server;
  let redirector: Server;
  const port = (s: Server): number => (s.address() as AddressInfo).port;
  before(async () => {
    target = createServer((_req, res) => res.end('allowed'));
    other = createServer((_req, res) => res.end('other port'));
    redirector = createServer((_req, res) =>
      res.writeHead(302, { location: `http://127.0.0.1:${port(other)}/` }).end(),
    );
    await Promise.all([target, other, redirector].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  });
  after(() => Promise.all([target, other, redirector].map((s) => new Promise((r) => s.close(r)))));

  test('host:port is fetched; another port of that host, or a redirect to it, is refused', async () => {
    const policy = (hosts: string[]) => ({
      allowPrivateAddresses: false,
      allowHosts: hosts,
      timeoutMs: 2000,
      maxRedirects: 3,
      maxBytes: 1024 * 1024,
    });
    const ok = await guardedFetch(
      `http://127.0.0.1:${port(target)}/`,
      policy([`127.0.0.1:${port(target)}`]),
      AbortSignal.timeout(5000),
    );
    assert.equal(ok.bytes.toString(), 'allowed');
    await assert.rejects(
      guardedFetch(
        `http://127.0.0.1:${port(other)}/`,
        policy([`127.0.0.1:${port(target)}`]),
        AbortSignal.timeout(5000),
      ),
      { code: 'url_forbidden' },
    );
    await assert.rejects(
      guardedFetch(
        `http://127.0.0.1:${port(redirector)}/`,
        policy([`127.0.0.1:${port(redirector)}`]),
        AbortSignal.timeout(5000),
      ),
      { code: 'url_forbidden' },
    );
    // A bare host means its scheme's default port only.
    await assert.rejects(
      guardedFetch(`http://127.0.0.1:${port(target)}/`, policy(['127.0.0.1']), AbortSignal.timeout(5000)),
      { code: 'url_forbidden' },
    );
  });
});
