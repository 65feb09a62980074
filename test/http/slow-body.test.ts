/**
 * A slow-body flood from one valid key: 260 connections sending their bodies at 1 byte/s.
 * The key gets limits.maxConcurrentPerKey slots (32 here) and 429 for the rest at once;
 * the admitted ones are cut with 408 after limits.bodyTimeoutMs; another key's OCR and
 * /health answer meanwhile.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createKey } from '../../src/auth/keys.js';
import { renderPage } from '../fixtures/pages.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const flooder = createKey('flooder');
const other = createKey('other');
let server: ServerProcess;
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vg-slow-body-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ auth: { enabled: true, keys: [flooder.entry, other.entry] } }));
  server = await startServer({
    VISIONGATE_CONFIG: config,
    VISIONGATE_LIMITS__BODY_TIMEOUT_MS: '4000',
    VISIONGATE_LIMITS__MAX_CONCURRENT_PER_KEY: '32',
  });
});
after(() => server?.stop());

interface Slow {
  socket: Socket;
  /** The status line of the answer, when one came. */
  status?: number;
  answeredAt?: number;
  closedAt?: number;
}

/** One connection that sends its headers, then one body byte a second. */
function slowUpload(url: URL, key: string, started: number): Slow {
  const socket = connect(Number(url.port), url.hostname);
  const slow: Slow = { socket };
  let received = '';
  socket.on('data', (d: Buffer) => {
    received += d.toString('latin1');
    const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
    if (match && slow.status === undefined) {
      slow.status = Number(match[1]);
      slow.answeredAt = performance.now() - started;
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => (slow.closedAt = performance.now() - started));
  socket.write(
    `POST /api/v1/ocr HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${key}\r\nContent-Type: image/png\r\nContent-Length: 1000000\r\n\r\n`,
  );
  const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write('x')), 1000);
  socket.on('close', () => clearInterval(drip));
  return slow;
}

test('260 slow bodies from one key: 32 admitted then cut at the body timeout, 228 refused at once, others served', async () => {
  const url = new URL(server.url);
  const started = performance.now();
  const flood = Array.from({ length: 260 }, () => slowUpload(url, flooder.key, started));
  try {
    await new Promise((r) => setTimeout(r, 1500));
    // Another client, meanwhile: /health and a real OCR.
    const health = performance.now();
    assert.equal((await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(5000) })).status, 200);
    const healthMs = performance.now() - health;
    const png = await renderPage({ lines: ['Still served'] });
    const ocr = await fetch(`${server.url}/api/v1/ocr?engine=tesseract-js&output=text`, {
      method: 'POST',
      body: png,
      headers: { 'content-type': 'image/png', authorization: `Bearer ${other.key}` },
      signal: AbortSignal.timeout(120_000),
    });
    assert.equal(ocr.status, 200);
    assert.match(await ocr.text(), /Still served/);

    // On a loaded machine some answers are still on their way: wait (bounded) for every connection to be answered or closed.
    const settle = performance.now() + 20_000;
    while (flood.some((s) => s.status === undefined && s.closedAt === undefined) && performance.now() < settle)
      await new Promise((r) => setTimeout(r, 250));
    const refused = flood.filter((s) => s.status === 429);
    assert.ok(refused.length >= 228, `${refused.length} refused with 429`);
    assert.ok(
      refused.every((s) => s.answeredAt! < 30_000),
      'refused long before their bodies could arrive (1 MB at 1 byte/s)',
    );

    // The admitted ones are cut once limits.bodyTimeoutMs (4 s) passes (Node checks every second).
    const deadline = performance.now() + 20_000;
    while (flood.some((s) => s.closedAt === undefined) && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    const admitted = flood.filter((s) => s.status !== 429);
    assert.equal(admitted.length, 260 - refused.length);
    for (const s of admitted) {
      assert.ok(s.closedAt !== undefined, 'closed by the server');
      assert.ok(s.status === 408 || s.status === undefined, `status ${s.status}`);
      assert.ok(s.closedAt! < 15_000, `closed after ${Math.round(s.closedAt!)} ms`);
    }
    console.log(
      `# slow-body flood: ${refused.length} × 429, ${admitted.filter((s) => s.status === 408).length} × 408 (${admitted.length} admitted); /health took ${healthMs.toFixed(0)} ms meanwhile`,
    );
    assert.ok(healthMs < 1000, `/health took ${healthMs.toFixed(0)} ms`);
  } finally {
    for (const s of flood) s.socket.destroy();
  }
});
