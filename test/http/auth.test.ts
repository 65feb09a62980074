import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { buildApp } from '../../src/app.js';
import { createKey } from '../../src/auth/keys.js';
import { loadConfig } from '../../src/config/load.js';
import { createServices, type Services } from '../../src/services.js';
import type { FastifyInstance } from 'fastify';
import { multipart } from '../helpers/app.js';
import { renderPage } from '../fixtures/pages.js';

const full = createKey('full');
const ocrOnly = createKey('ocr-only');
const limited = createKey('limited');
const single = createKey('single');
const metered = createKey('metered');
let logs = '';
let services: Services;
let app: FastifyInstance;
let url: string;

before(async () => {
  services = createServices(
    loadConfig({
      overrides: {
        jobs: { sqlitePath: ':memory:' },
        auth: {
          enabled: true,
          keys: [
            full.entry,
            { ...ocrOnly.entry, scopes: ['ocr'], models: ['got_ocr'] },
            { ...limited.entry, rateLimitPerMinute: 2 },
            { ...single.entry, maxConcurrent: 1 },
            { ...metered.entry, quota: { pagesPerDay: 2, tokensPerDay: 1_000_000 } },
          ],
        },
      },
    }),
  );
  app = await buildApp(services, {
    logger: { stream: new Writable({ write: (chunk, _e, done) => ((logs += String(chunk)), done()) }) },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
after(async () => {
  await app?.close();
  await services?.close();
});

const call = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
  app.inject({
    method: method as 'GET',
    url: path,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });

describe('API keys', () => {
  test('every route of every surface answers 401 without a key, in its own error shape', async () => {
    const routes: Array<[string, string, (b: Record<string, unknown>) => boolean]> = [
      ['POST', '/api/v1/ocr', (b) => b.code === 'unauthorized' && b.status === 401],
      ['GET', '/api/v1/models', (b) => b.code === 'unauthorized'],
      ['POST', '/api/v1/summarize', (b) => b.code === 'unauthorized'],
      ['DELETE', '/api/v1/models/got_ocr', (b) => b.code === 'unauthorized'],
      ['GET', '/metrics', (b) => b.code === 'unauthorized'],
      ['GET', '/models', (b) => typeof b.detail === 'string'],
      ['POST', '/ocr', (b) => typeof b.detail === 'string'],
      ['POST', '/chat', (b) => typeof b.detail === 'string'],
      ['POST', '/batch/ocr', (b) => typeof b.detail === 'string'],
      ['DELETE', '/models/got_ocr', (b) => typeof b.detail === 'string'],
      ['GET', '/model/info', (b) => typeof b.detail === 'string'],
      ['POST', '/ocr/process', (b) => typeof b.detail === 'string'],
      ['POST', '/ocr/batch', (b) => typeof b.detail === 'string'],
      ['POST', '/model/reload', (b) => typeof b.detail === 'string'],
      ['POST', '/summarize/text', (b) => typeof b.error === 'string'],
      ['POST', '/summarize/file', (b) => typeof b.error === 'string'],
      ['POST', '/summarize/image', (b) => typeof b.error === 'string'],
      ['POST', '/batch/summarize', (b) => typeof b.error === 'string'],
      ['GET', '/v1/models', (b) => (b.error as { type?: string })?.type === 'authentication_error'],
      ['POST', '/v1/chat/completions', (b) => (b.error as { type?: string })?.type === 'authentication_error'],
    ];
    for (const [method, path, shape] of routes) {
      const res = await call(method, path);
      assert.equal(res.statusCode, 401, `${method} ${path}`);
      assert.ok(shape(res.json()), `${method} ${path}: ${res.body}`);
    }
  });

  test('public: /health, /ready, the playground page and the docs', async () => {
    for (const path of ['/health', '/ready', '/ui', '/docs/', '/openapi.json'])
      assert.equal((await call('GET', path)).statusCode, 200, path);
    assert.equal((await call('GET', '/', { accept: 'text/html' })).statusCode, 200);
  });

  test('Bearer and X-API-Key both work; a wrong key is refused', async () => {
    assert.equal((await call('GET', '/api/v1/models', { authorization: `Bearer ${full.key}` })).statusCode, 200);
    assert.equal((await call('GET', '/api/v1/models', { 'x-api-key': full.key })).statusCode, 200);
    assert.equal((await call('GET', '/api/v1/models', { authorization: `Bearer ${full.key}x` })).statusCode, 401);
    assert.equal((await call('GET', '/api/v1/models', { authorization: `Basic ${full.key}` })).statusCode, 401);
  });

  test('the openai SDK sees AuthenticationError and PermissionDeniedError', async () => {
    const anonymous = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await assert.rejects(anonymous.models.list(), OpenAI.AuthenticationError);
    const ocr = new OpenAI({ baseURL: `${url}/v1`, apiKey: ocrOnly.key, maxRetries: 0 });
    await assert.rejects(
      ocr.chat.completions.create({ model: 'got_ocr', messages: [{ role: 'user', content: 'x' }] }),
      OpenAI.PermissionDeniedError,
    );
  });

  test('scopes and model lists: an OCR-only key reads with got_ocr, nothing else', async () => {
    const page = await renderPage({ lines: ['Scoped key'] });
    const form = multipart({ name: 'a.png', bytes: page });
    const allowed = await app.inject({
      method: 'POST',
      url: '/ocr?model=got_ocr',
      payload: form.payload,
      headers: { ...form.headers, authorization: `Bearer ${ocrOnly.key}` },
    });
    assert.equal(allowed.statusCode, 200, allowed.body);
    const otherModel = await app.inject({
      method: 'POST',
      url: '/ocr?model=qwen3_vl_2b',
      payload: form.payload,
      headers: { ...form.headers, authorization: `Bearer ${ocrOnly.key}` },
    });
    assert.equal(otherModel.statusCode, 403);
    assert.match(otherModel.json<{ detail: string }>().detail, /may not use model 'qwen3_vl_2b'/);
    const summarize = await call(
      'POST',
      '/api/v1/summarize',
      { authorization: `Bearer ${ocrOnly.key}` },
      { text: 'x y z.' },
    );
    assert.equal(summarize.statusCode, 403);
    const admin = await call('DELETE', '/api/v1/models/got_ocr', { authorization: `Bearer ${ocrOnly.key}` });
    assert.equal(admin.statusCode, 403);
  });

  test('a per-key rate limit answers 429 with Retry-After', async () => {
    const headers = { authorization: `Bearer ${limited.key}` };
    assert.equal((await call('GET', '/api/v1/models', headers)).statusCode, 200);
    assert.equal((await call('GET', '/api/v1/models', headers)).statusCode, 200);
    const third = await call('GET', '/api/v1/models', headers);
    assert.equal(third.statusCode, 429);
    assert.ok(Number(third.headers['retry-after']) >= 1);
    assert.equal(
      (await call('GET', '/api/v1/models', { authorization: `Bearer ${full.key}` })).statusCode,
      200,
      'other keys are not affected',
    );
  });

  test('a per-key concurrency limit answers 429 while its request runs', async () => {
    const page = await renderPage({ lines: ['Concurrency limit page'], width: 2480, height: 3300 });
    const first = fetch(`${url}/api/v1/ocr?output=text`, {
      method: 'POST',
      body: new Uint8Array(page),
      headers: { 'content-type': 'image/png', authorization: `Bearer ${single.key}` },
    });
    await new Promise((r) => setTimeout(r, 100));
    const second = await fetch(`${url}/api/v1/models`, { headers: { authorization: `Bearer ${single.key}` } });
    assert.equal(second.status, 429);
    assert.equal((await first).status, 200);
  });

  test('daily quotas in what costs: after 2 pages the key is refused until the day turns', async () => {
    const page = await renderPage({ lines: ['Metered page'] });
    const read = () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/ocr?output=text',
        payload: page,
        headers: { 'content-type': 'image/png', authorization: `Bearer ${metered.key}` },
      });
    assert.equal((await read()).statusCode, 200);
    assert.equal((await read()).statusCode, 200);
    const third = await read();
    assert.equal(third.statusCode, 429);
    assert.match(third.json<{ detail: string }>().detail, /daily quota of 2 pages \(2 used\)/);
    const retry = Number(third.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 86_400);
    assert.equal(
      (
        await app.inject({
          method: 'POST',
          url: '/api/v1/ocr?output=text',
          payload: page,
          headers: { 'content-type': 'image/png', authorization: `Bearer ${full.key}` },
        })
      ).statusCode,
      200,
      'other keys are not affected',
    );
  });

  test('keys never appear in the logs', () => {
    assert.ok(logs.includes('"reqId"'), 'request logs were captured');
    for (const { key } of [full, ocrOnly, limited, single, metered]) assert.ok(!logs.includes(key), 'a key was logged');
  });
});
