import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { buildTestApp } from '../helpers/app.js';
import { startServer } from '../helpers/server-process.js';
import { renderPage } from '../fixtures/pages.js';

const slowPage = () =>
  renderPage({ lines: ['Drain test page, read while the server stops.'], width: 2480, height: 3300 });

test('SIGTERM: no new connections, the request in flight finishes, then exit 0', async () => {
  const server = await startServer();
  const page = await slowPage();
  const inFlight = fetch(`${server.url}/api/v1/ocr?output=text`, {
    method: 'POST',
    body: new Uint8Array(page),
    headers: { 'content-type': 'image/png' },
  });
  await new Promise((r) => setTimeout(r, 300));
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  const refused = await fetch(`${server.url}/health`, { headers: { connection: 'close' } }).then(
    (r) => r.status,
    (e: Error) => e.message,
  );
  assert.ok(
    refused === 503 || /fetch failed|ECONNREFUSED/.test(String(refused)),
    `after SIGTERM, new requests are turned away: ${refused}`,
  );
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.match(await res.text(), /Drain test page/);
  const [code] = await exited;
  assert.equal(code, 0);
});

test('a second signal leaves at once', async () => {
  const server = await startServer();
  const page = await slowPage();
  const inFlight = fetch(`${server.url}/api/v1/ocr`, {
    method: 'POST',
    body: new Uint8Array(page),
    headers: { 'content-type': 'image/png' },
  }).catch(() => 'aborted');
  await new Promise((r) => setTimeout(r, 300));
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 50));
  server.child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 1);
  await inFlight;
});

test('CORS is closed unless origins are configured', async () => {
  const closed = await buildTestApp();
  const open = await buildTestApp({ server: { corsOrigins: ['https://app.example'] } });
  try {
    const preflight = {
      method: 'OPTIONS' as const,
      url: '/api/v1/ocr',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    };
    assert.equal((await closed.app.inject(preflight)).headers['access-control-allow-origin'], undefined);
    assert.equal(
      (await closed.app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } })).headers[
        'access-control-allow-origin'
      ],
      undefined,
    );
    assert.equal((await open.app.inject(preflight)).headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(
      (await open.app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } })).headers[
        'access-control-allow-origin'
      ],
      undefined,
    );
  } finally {
    await closed.close();
    await open.close();
  }
});
