/**
 * SSRF campaign: URLs in every disguise aimed at a listener on loopback (and at private,
 * link-local and metadata space). Every one must be refused before connecting: the
 * listener counts zero connections.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type Server as NetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { isAppError } from '../../src/errors/app-error.js';
import type { Resolver } from '../../src/net/address-guard.js';
import { guardedFetch, type FetchPolicy } from '../../src/net/guarded-fetch.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

let trap: NetServer;
let port: number;
let connections = 0;
let redirector: Server;
let redirectPort: number;
let t: TestApp;

/** A test resolver: names under .test resolve to forbidden addresses, others fail. */
const zone: Record<string, string[]> = {
  'loop.test': ['127.0.0.1'],
  'loop6.test': ['::1'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'mixed.test': ['93.184.216.34', '127.0.0.1'],
  'metadata.test': ['169.254.169.254'],
  'private.test': ['10.1.2.3'],
  'cgnat.test': ['100.64.1.1'],
  'zero.test': ['0.0.0.0'],
  'nat64.test': ['64:ff9b::7f00:1'],
  'sixtofour.test': ['2002:7f00:1::1'],
  'ula.test': ['fd12:3456::1'],
  'linklocal6.test': ['fe80::1'],
};
const resolve: Resolver = (hostname, callback) => {
  const addresses = zone[hostname.toLowerCase().replace(/\.$/, '')];
  if (!addresses) return callback(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), []);
  callback(
    null,
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
  );
};

before(async () => {
  trap = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
  port = (trap.address() as AddressInfo).port;
  // An allowed host (by the allowlist) that redirects into forbidden space.
  redirector = createHttpServer((req, res) =>
    res.writeHead(302, { location: decodeURIComponent((req.url ?? '/').slice(1)) || '/' }).end(),
  );
  await new Promise<void>((r) => redirector.listen(0, '127.0.0.2', r));
  redirectPort = (redirector.address() as AddressInfo).port;
  t = await buildTestApp();
});
after(async () => {
  trap.close();
  redirector.close();
  await t.close();
});

function hostForms(p: number): string[] {
  return [
    `127.0.0.1:${p}`,
    `127.1:${p}`,
    `127.0.1:${p}`,
    `2130706433:${p}`,
    `0x7f000001:${p}`,
    `0x7f.0x0.0x0.0x1:${p}`,
    `0177.0.0.1:${p}`,
    `0177.0000.0000.0001:${p}`,
    `017700000001:${p}`,
    `127.000.000.001:${p}`,
    `0x7f.1:${p}`,
    `127.0.0.1.:${p}`,
    `[::ffff:127.0.0.1]:${p}`,
    `[::ffff:7f00:1]:${p}`,
    `[0:0:0:0:0:ffff:7f00:1]:${p}`,
    `[::1]:${p}`,
    `[0000::1]:${p}`,
    `[::127.0.0.1]:${p}`,
    `[64:ff9b::127.0.0.1]:${p}`,
    `[2002:7f00:0001::]:${p}`,
    `localhost:${p}`,
    `LOCALHOST:${p}`,
    `localhost.:${p}`,
    `loop.test:${p}`,
    `loop6.test:${p}`,
    `mapped.test:${p}`,
    `mixed.test:${p}`,
    `nat64.test:${p}`,
    `sixtofour.test:${p}`,
    `0.0.0.0:${p}`,
    `0:${p}`,
    `zero.test:${p}`,
  ];
}
const privateHosts = [
  '10.0.0.1',
  '10.255.255.255',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.0.1',
  '192.168.255.254',
  '169.254.169.254',
  '169.254.0.1',
  '100.64.0.1',
  '100.127.255.254',
  '198.18.0.1',
  '224.0.0.1',
  '239.255.255.250',
  '255.255.255.255',
  '[fe80::1]',
  '[fc00::1]',
  '[fd00::abcd]',
  '[ff02::1]',
  '[::]',
  'metadata.test',
  'private.test',
  'cgnat.test',
  'ula.test',
  'linklocal6.test',
];
const badSchemes = [
  'file:///etc/passwd',
  'ftp://example.com/x',
  'gopher://127.0.0.1:70/',
  'dict://127.0.0.1:11211/',
  'data:text/plain,hi',
  'javascript:alert(1)',
  'ws://example.com/',
  `http://user:pass@127.0.0.1:${0}/`,
];

function campaign(): string[] {
  const urls: string[] = [];
  for (const host of hostForms(port))
    for (const path of ['/', '/scan.png', '/a/../b.pdf?x=1']) urls.push(`http://${host}${path}`);
  for (const host of hostForms(port).slice(0, 12)) urls.push(`https://${host}/`);
  for (const host of privateHosts) urls.push(`http://${host}/`, `http://${host}:8080/latest/meta-data/`);
  urls.push(...badSchemes.map((u) => u.replace(':0/', `:${port}/`)));
  // Redirects from an allowed host into forbidden space, each re-checked.
  for (const target of [
    ...hostForms(port)
      .slice(0, 14)
      .map((h) => `http://${h}/`),
    'http://169.254.169.254/',
    'file:///etc/passwd',
  ]) {
    urls.push(`http://127.0.0.2:${redirectPort}/${encodeURIComponent(target)}`);
  }
  return urls;
}

const policy = (): FetchPolicy => ({
  allowPrivateAddresses: false,
  allowHosts: [`127.0.0.2:${redirectPort}`],
  timeoutMs: 2000,
  maxRedirects: 3,
  maxBytes: 1024 * 1024,
  resolve,
});

test('at least 150 disguised URLs: every one refused as forbidden, zero connections reach the listener', async () => {
  const urls = campaign();
  assert.ok(urls.length >= 150, `${urls.length} cases`);
  const wrong: string[] = [];
  for (const url of urls) {
    try {
      await guardedFetch(url, policy());
      wrong.push(`${url}: fetched`);
    } catch (error) {
      if (!isAppError(error) || error.code !== 'url_forbidden')
        wrong.push(`${url}: ${isAppError(error) ? error.code : String(error)}`);
    }
  }
  assert.deepEqual(wrong, []);
  assert.equal(connections, 0, 'no connection reached the forbidden listener');
});

test('the same guard behind the HTTP surfaces: document URLs and image_url parts', async () => {
  for (const url of [
    `http://127.0.0.1:${port}/x.png`,
    `http://2130706433:${port}/`,
    `http://[::ffff:127.0.0.1]:${port}/`,
    `http://localhost:${port}/`,
    'http://169.254.169.254/latest/meta-data/',
  ]) {
    const ocr = await t.app.inject({ method: 'POST', url: '/api/v1/ocr', payload: { url } });
    assert.equal(ocr.statusCode, 422, url);
    assert.equal(ocr.json<{ code: string }>().code, 'url_forbidden');
    const chat = await t.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'got_ocr', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }] },
    });
    assert.equal(chat.statusCode, 400, url);
    assert.equal(chat.json<{ error: { code: string } }>().error.code, 'url_forbidden');
  }
  assert.equal(connections, 0);
});

test('an allowlisted host is fetched; too many redirects are refused', async () => {
  // The redirector sends every request to its own root, which redirects again: a loop.
  const loop = await guardedFetch(
    `http://127.0.0.2:${redirectPort}/${encodeURIComponent(`http://127.0.0.2:${redirectPort}/`)}`,
    { ...policy(), maxRedirects: 2 },
  ).catch((e: unknown) => e);
  assert.ok(
    isAppError(loop) && loop.code === 'url_fetch_failed' && /too many redirects/.test(loop.message),
    isAppError(loop) ? `${loop.code}: ${loop.message}` : String(loop),
  );
});
