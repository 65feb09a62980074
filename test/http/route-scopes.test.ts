import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createKey } from '../../src/auth/keys.js';
import { declaredRoutes, type RouteScope, type Scope } from '../../src/http/plugins/auth.js';
import { renderPage } from '../fixtures/pages.js';
import { buildTestApp, multipart, type TestApp } from '../helpers/app.js';

const scopes: Scope[] = ['ocr', 'chat', 'summarize', 'image', 'admin'];
/** One key per scope holding only it, one holding none, and one limited to a single model. */
const only = Object.fromEntries(scopes.map((s) => [s, createKey(`only-${s}`)])) as Record<
  Scope,
  ReturnType<typeof createKey>
>;
const none = createKey('no-scopes');
const oneModel = createKey('got-ocr-only');

let t: TestApp;
let app: FastifyInstance;

before(async () => {
  t = await buildTestApp({
    auth: {
      enabled: true,
      keys: [
        ...scopes.map((s) => ({ ...only[s].entry, scopes: [s] })),
        { ...none.entry, scopes: [] },
        { ...oneModel.entry, models: ['got_ocr'] },
      ],
    },
  });
  app = t.app;
});
after(async () => {
  await t?.close();
});

/** A concrete path for a route pattern (parameters and wildcards filled with harmless values). */
const pathOf = (url: string): string =>
  url
    .replace(/:model_name|:model|:name/g, 'got_ocr')
    .replace(/:id/g, 'job_none')
    .replace(/:file/g, 'nothing.txt')
    .replace(/\*$/, 'index.html');

const call = (method: string, url: string, key?: string) =>
  app.inject({ method: method as 'GET', url: pathOf(url), headers: key ? { authorization: `Bearer ${key}` } : {} });

const refused = (status: number): boolean => status === 401 || status === 403;

describe('every route declares its scope and the one auth hook honours it', () => {
  test('the table comes from the app itself and covers every route, HEAD routes included', () => {
    const routes = declaredRoutes(app);
    assert.ok(routes.length > 40, `only ${routes.length} routes found`);
    for (const r of routes) assert.ok(r.scope, `${r.method} ${r.url} has no scope`);
    const scopeOf = (method: string, url: string): RouteScope | undefined =>
      routes.find((r) => r.method === method && r.url === url)?.scope;
    assert.equal(scopeOf('GET', '/metrics'), 'admin');
    assert.equal(scopeOf('HEAD', '/metrics'), 'admin', 'HEAD /metrics runs the GET handler: it needs admin too');
    assert.equal(scopeOf('GET', '/health'), 'public');
    assert.ok(
      routes.some((r) => r.url.startsWith('/docs') && r.scope === 'public'),
      'Swagger UI routes are declared public',
    );
  });

  test('each route: public ones answer without a key; the others want a key, and the scope they declare', {
    timeout: 300_000,
  }, async () => {
    for (const { method, url, scope } of declaredRoutes(app)) {
      const name = `${method} ${url} (${scope})`;
      const anonymous = await call(method, url);
      if (scope === 'public') {
        assert.ok(!refused(anonymous.statusCode), `${name}: ${anonymous.statusCode} without a key`);
        continue;
      }
      assert.equal(anonymous.statusCode, 401, `${name} without a key`);
      if (scope === 'key') {
        const res = await call(method, url, none.key);
        assert.ok(
          !refused(res.statusCode),
          `${name}: a valid key with no scopes got ${res.statusCode} ${res.body.slice(0, 200)}`,
        );
        continue;
      }
      const other = scopes.find((s) => s !== scope)!;
      const wrong = await call(method, url, only[other].key);
      assert.equal(wrong.statusCode, 403, `${name} with a key holding only ${other}`);
      if (method !== 'HEAD')
        assert.match(
          wrong.body,
          new RegExp(`no \\\\?"${scope}\\\\?" scope`),
          `${name}: the 403 names the missing scope`,
        );
      const right = await call(method, url, only[scope!].key);
      assert.ok(
        !refused(right.statusCode),
        `${name}: a key holding ${scope} got ${right.statusCode} ${right.body.slice(0, 200)}`,
      );
    }
  });

  test('an unknown path still needs a key; the playground page at / is public, its JSON is not', async () => {
    assert.equal((await call('GET', '/no/such/route')).statusCode, 401);
    assert.equal((await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } })).statusCode, 200);
    assert.equal((await call('GET', '/')).statusCode, 401);
  });
});

test('with CORS origins configured, a preflight needs no key (browsers send none), the request itself does', async () => {
  const cors = await buildTestApp({
    server: { corsOrigins: ['https://app.example'] },
    auth: { enabled: true, keys: [none.entry] },
  });
  try {
    // The CORS plugin's OPTIONS route needs a key; a real preflight passes the auth hook by itself.
    assert.ok(declaredRoutes(cors.app).some((r) => r.method === 'OPTIONS' && r.scope === 'key'));
    const preflight = await cors.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/ocr',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.statusCode, 204, preflight.body);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(
      (await cors.app.inject({ method: 'POST', url: '/api/v1/ocr', headers: { origin: 'https://app.example' } }))
        .statusCode,
      401,
    );
  } finally {
    await cors.close();
  }
});

describe('model access is checked where the model name is resolved, on every surface', () => {
  const denied = (res: { statusCode: number; body: string }, model: string): void => {
    assert.equal(res.statusCode, 403, res.body);
    assert.match(res.body, new RegExp(`may not use model '${model}'`));
  };
  const auth = { authorization: `Bearer ${oneModel.key}` };

  test('summarize with a model, a chat job, and the InternVL routes refuse a model the key may not use', {
    timeout: 120_000,
  }, async () => {
    denied(
      await app.inject({
        method: 'POST',
        url: '/api/v1/summarize',
        headers: auth,
        payload: { text: 'Some text to summarize. It has two sentences.', model: 'qwen3_vl_2b' },
      }),
      'qwen3_vl_2b',
    );
    denied(
      await app.inject({
        method: 'POST',
        url: '/api/v1/jobs',
        headers: auth,
        payload: { type: 'summarize', input: { text: 'Some text. More text.' }, options: { model: 'qwen3_vl_2b' } },
      }),
      'qwen3_vl_2b',
    );
    denied(
      await app.inject({
        method: 'POST',
        url: '/api/v1/jobs',
        headers: auth,
        payload: { type: 'chat', input: { model: 'qwen3_vl_2b', messages: [{ role: 'user', content: 'hello' }] } },
      }),
      'qwen3_vl_2b',
    );
    const page = await renderPage({ lines: ['Part 42-A'], fontSize: 40, width: 600 });
    const upload = multipart({ name: 'part.png', bytes: page, type: 'image/png' });
    const internvl = t.services.config.compat.internvlModel;
    denied(
      await app.inject({
        method: 'POST',
        url: '/ocr/process',
        headers: { ...auth, ...upload.headers },
        payload: upload.payload,
      }),
      internvl,
    );
    // The model it may use still works.
    const withModel = multipart({ name: 'part.png', bytes: page, type: 'image/png' }, { model: 'got_ocr' });
    const allowed = await app.inject({
      method: 'POST',
      url: '/ocr',
      headers: { ...auth, ...withModel.headers },
      payload: withModel.payload,
    });
    assert.ok(!refused(allowed.statusCode), allowed.body);
  });
});
