import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { characterErrorRate } from '../helpers/cer.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { makePdf, renderPage } from '../fixtures/pages.js';
import { needs } from '../helpers/system-parts.js';

const lines = ['Health must answer while every core reads pages.', 'This page is one of several read at once.'];

describe('the real server process', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  test('/health answers while OCR keeps both cores busy (the event loop is free)', async () => {
    const png = await renderPage({ lines, width: 2480, height: 3300 });
    let finished = 0;
    const jobs = Array.from({ length: 4 }, () =>
      fetch(`${server.url}/api/v1/ocr?output=text`, {
        method: 'POST',
        body: png,
        headers: { 'content-type': 'image/png' },
      }).then(async (r) => {
        finished++;
        return { status: r.status, text: await r.text() };
      }),
    );
    await new Promise((r) => setTimeout(r, 300)); // let the OCR start
    let answered = 0;
    while (finished === 0) {
      const res = await fetch(`${server.url}/health`);
      assert.equal(res.status, 200);
      answered++;
      if (answered >= 20) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const results = await Promise.all(jobs);
    assert.ok(answered >= 3, `/health answered ${answered} times before the first OCR finished`);
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.ok(characterErrorRate(lines.join('\n'), r.text) <= 0.02, r.text);
    }
  });

  test('x-request-id is echoed, or made when absent', async () => {
    const given = await fetch(`${server.url}/health`, { headers: { 'x-request-id': 'trace-123' } });
    assert.equal(given.headers.get('x-request-id'), 'trace-123');
    const made = await fetch(`${server.url}/health`);
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('a client that disconnects mid-document does not take the server down', async () => {
    const page = await renderPage({ lines, width: 2480, height: 1200 });
    const pdf = await makePdf(Array.from({ length: 6 }, () => ({ image: page })));
    const controller = new AbortController();
    const request = fetch(`${server.url}/api/v1/ocr`, {
      method: 'POST',
      body: pdf,
      headers: { 'content-type': 'application/pdf' },
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 500);
    await assert.rejects(request);
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    const again = await fetch(`${server.url}/api/v1/ocr?output=text`, {
      method: 'POST',
      body: page,
      headers: { 'content-type': 'image/png' },
    });
    assert.equal(again.status, 200);
  });
});

test('a bad config value stops start-up with a message naming the key', async () => {
  await assert.rejects(startServer({ VISIONGATE_LIMITS__MAX_PAGES: 'lots' }), /limits\.maxPages/);
});

test('CLI: visiongate ocr FILE prints the text; --format json gives the result shape', needs('tesseract'), async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vg-cli-'));
  const file = join(dir, 'page.png');
  writeFileSync(file, await renderPage({ lines }));
  const run = promisify(execFile);
  const text = await run(process.execPath, ['bin/visiongate.js', 'ocr', file, '--lang', 'eng']);
  assert.ok(characterErrorRate(lines.join('\n'), text.stdout) <= 0.02, text.stdout);
  const json = await run(process.execPath, [
    'bin/visiongate.js',
    'ocr',
    file,
    '--format',
    'json',
    '--engine',
    'tesseract-cli',
  ]);
  const parsed = JSON.parse(json.stdout) as { pages: Array<{ engine: string; words: unknown[] }> };
  assert.equal(parsed.pages[0]!.engine, 'tesseract-cli');
  assert.ok(parsed.pages[0]!.words.length > 10);
  await assert.rejects(run(process.execPath, ['bin/visiongate.js', 'ocr', file, '--engine', 'nope']), /engine: "nope"/);
});
