import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, multipart, type TestApp } from '../helpers/app.js';
import { blankPdf, makePdf, renderPage } from '../fixtures/pages.js';

let t: TestApp;
// This file's uploads spool to a folder of its own (tmpdir() is read at each upload), so the leftover
// check below sees only them: other test files, run at the same time, spool big uploads to /tmp.
const spoolDir = mkdtempSync(join(tmpdir(), 'vg-bad-input-'));
const tmpBefore = process.env.TMPDIR;
before(async () => {
  t = await buildTestApp({ limits: { maxDocumentBytes: 2 * 1024 * 1024, maxPages: 500 } });
  process.env.TMPDIR = spoolDir;
});
after(async () => {
  await t.close();
  if (tmpBefore === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = tmpBefore;
  rmSync(spoolDir, { recursive: true, force: true });
});

/** A PNG whose header claims width × height, with a tiny valid IDAT. */
function pngClaiming(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer): number =>
    (b.reduce((c, x) => crcTable[(c ^ x) & 0xff]! ^ (c >>> 8), 0xffffffff) ^ 0xffffffff) >>> 0;
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function expectRejected(
  bytes: Buffer,
  status: number,
  code: string,
  detail: RegExp,
  name = 'upload.png',
): Promise<void> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/ocr', ...multipart({ name, bytes }) });
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /application\/problem\+json/);
  const body = res.json() as { code: string; detail: string; status: number; title: string };
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.match(body.detail, detail);
  const health = await t.app.inject({ method: 'GET', url: '/health' });
  assert.equal(health.statusCode, 200, 'the server stays healthy');
}

describe('bad input gets a clear 4xx and the server stays healthy', () => {
  test('truncated PNG → 422 corrupt_document', async () => {
    const png = await renderPage({ lines: ['Truncated'] });
    await expectRejected(
      png.subarray(0, Math.floor(png.length / 2)),
      422,
      'corrupt_document',
      /cannot be decoded|cannot be read/,
    );
  });

  test('PNG claiming 100000×100000 pixels → 422 too_many_pixels, before any decoding', async () => {
    await expectRejected(
      pngClaiming(100_000, 100_000),
      422,
      'too_many_pixels',
      /100000x100000.*limit is 40,000,000 pixels/,
    );
  });

  test('empty file → 422 naming it empty', async () => {
    await expectRejected(Buffer.alloc(0), 422, 'corrupt_document', /empty/);
  });

  test('a ZIP named .png → 415 saying what it is', async () => {
    const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(100, 1)]);
    await expectRejected(
      zip,
      415,
      'unsupported_media_type',
      /received a ZIP archive.*supported documents are JPEG, PNG/,
    );
  });

  test('PDF with 5000 pages → 422 too_many_pages naming the limit', async () => {
    await expectRejected(await blankPdf(5000), 422, 'too_many_pages', /5000 pages; the limit is 500/, 'big.pdf');
  });

  test('PDF with JavaScript → 422 pdf_javascript', async () => {
    await expectRejected(
      await makePdf([{ text: ['Hello'] }], { javascript: 'app.alert("hi")' }),
      422,
      'pdf_javascript',
      /JavaScript/,
      'js.pdf',
    );
  });

  test('a corrupt PDF → 422', async () => {
    await expectRejected(
      Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage'),
      422,
      'corrupt_document',
      /PDF cannot be parsed/,
      'bad.pdf',
    );
  });

  test('over the byte limit → 413 naming the limit, for multipart, raw and base64', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    await expectRejected(big, 413, 'payload_too_large', /2 MB/);
    const raw = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ocr',
      payload: big,
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(raw.statusCode, 413);
    assert.match(raw.json<{ detail: string }>().detail, /2 MB/);
    const json = await t.app.inject({ method: 'POST', url: '/api/v1/ocr', payload: { data: big.toString('base64') } });
    assert.equal(json.statusCode, 413);
  });

  test('broken JSON, missing document, bad parameters → 400/422 naming the field', async () => {
    const broken = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ocr',
      payload: '{"data": ',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(broken.statusCode, 400);
    const none = await t.app.inject({ method: 'POST', url: '/api/v1/ocr', payload: { engine: 'auto' } });
    assert.equal(none.statusCode, 422);
    assert.equal(none.json<{ code: string }>().code, 'missing_document');
    const png = await renderPage({ lines: ['x'], width: 200, height: 100 });
    for (const [fields, field] of [
      [{ engine: 'magic' }, 'engine'],
      [{ dpi: '9000' }, 'dpi'],
      [{ output: 'pdf' }, 'output'],
      [{ languages: 'klingon!' }, 'languages'],
      [{ languages: 'tlh' }, undefined],
    ] as const) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/ocr',
        ...multipart({ name: 'a.png', bytes: png }, fields),
      });
      assert.equal(res.statusCode, 422, JSON.stringify(fields));
      if (field) assert.equal(res.json<{ field: string }>().field, field);
    }
  });

  test('a private URL is refused (SSRF guard on by default)', async () => {
    for (const url of [
      'http://127.0.0.1:1/x.png',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/',
      'http://2130706433/',
      'file:///etc/passwd',
      'http://localhost:9/',
    ]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/ocr', payload: { url } });
      assert.equal(res.statusCode, 422, url);
      assert.equal(res.json<{ code: string }>().code, 'url_forbidden', url);
    }
  });

  test("unknown routes → 404 (problem+json under /api, both seeds' body at the root); nothing left in the temp folder", async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/nope' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json<{ code: string }>().code, 'not_found');
    const root = await t.app.inject({ method: 'GET', url: '/nope' });
    assert.deepEqual(root.json(), { detail: 'Not Found', error: 'Endpoint not found' });
    assert.ok(
      readdirSync(spoolDir).every((f) => !f.startsWith('visiongate-upload')),
      'no spooled upload is left behind',
    );
    assert.equal(tmpdir(), spoolDir);
    assert.ok(existsSync(spoolDir));
  });
});
