/**
 * The DeepSynth seed's own requests (the DeepSynthSummarizerClient class and every curl
 * example), replayed against the running server; every field and error body checked.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { multipart } from '../helpers/app.js';
import { postReadingEarlyAnswer } from '../helpers/early-response.js';
import { form } from '../helpers/form.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { articles } from '../fixtures/articles.js';
import { makePdf, renderPage } from '../fixtures/pages.js';

let server: ServerProcess;
// The server gets a temp folder of its own, so "nothing left on disk" can be checked exactly.
const serverTmp = mkdtempSync(join(tmpdir(), 'vg-deepsynth-tmp-'));
before(async () => {
  server = await startServer({ TMPDIR: serverTmp });
});
after(() => server.stop());

const isoNoZone = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/;
const words = (s: string): number => s.split(/\s+/).filter(Boolean).length;

async function post(path: string, body: FormData | object): Promise<{ status: number; json: Record<string, unknown> }> {
  const init: RequestInit =
    body instanceof FormData
      ? { method: 'POST', body }
      : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function rawMultipart(
  path: string,
  body: { payload: Buffer; headers: Record<string, string> },
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    body: new Uint8Array(body.payload),
    headers: body.headers,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The seed's Python client class, method for method. */
const client = {
  summarizeText: (text: string, max_length = 128, temperature = 0.7) =>
    post('/summarize/text', { text, max_length, temperature }),
  summarizeFile: (name: string, bytes: Buffer, max_length = 128, temperature = 0.7) =>
    post('/summarize/file', form([{ field: 'file', name, bytes }], { max_length, temperature })),
  summarizeImage: (name: string, bytes: Buffer, max_length = 128, temperature = 0.7) =>
    post('/summarize/image', form([{ field: 'image', name, bytes }], { max_length, temperature })),
  batchSummarize: (texts: unknown, max_length = 128, temperature = 0.7) =>
    post('/batch/summarize', { texts, max_length, temperature }),
};

describe('DeepSynth summarizer routes', () => {
  test('curl -X GET /health → status, model_loaded, timestamp', async () => {
    const body = (await (await fetch(`${server.url}/health`)).json()) as Record<string, unknown>;
    assert.equal(body.status, 'healthy');
    assert.equal(body.model_loaded, true);
    assert.ok(!Number.isNaN(Date.parse(String(body.timestamp))));
  });

  test('summarize_text: summary keeps the key sentences, respects max_length; every field', async () => {
    const article = articles[0]!;
    const { status, json } = await client.summarizeText(article.text, 60);
    assert.equal(status, 200, JSON.stringify(json));
    const summary = String(json.summary);
    assert.match(summary, /The city council voted on Monday to build a new bridge across the harbour/);
    assert.ok(words(summary) <= 60);
    assert.equal(json.original_length, article.text.length);
    assert.equal(json.summary_length, summary.length);
    assert.equal(json.compression_ratio, Math.round((article.text.length / summary.length) * 100) / 100);
    assert.deepEqual(json.parameters, { max_length: 60, temperature: 0.7 });
    assert.match(String(json.timestamp), isoNoZone);
  });

  test('the seed usage example and the curl example with defaults', async () => {
    const text = `
    This is a long article about artificial intelligence and machine learning.
    It discusses various aspects of neural networks, deep learning, and their applications
    in natural language processing and computer vision.
    `;
    const { status, json } = await client.summarizeText(text);
    assert.equal(status, 200);
    assert.match(String(json.summary), /artificial intelligence and machine learning/);
    assert.equal(typeof json.compression_ratio, 'number');
    const curl = await post('/summarize/text', { text: 'Your long text here...', max_length: 128, temperature: 0.7 });
    assert.equal(curl.status, 200);
    assert.deepEqual(curl.json.parameters, { max_length: 128, temperature: 0.7 });
    const defaults = await post('/summarize/text', { text: articles[1]!.text });
    assert.deepEqual(defaults.json.parameters, { max_length: 128, temperature: 0.7 });
  });

  test('summarize_file (curl -F file=@document.txt -F max_length=128 -F temperature=0.7)', async () => {
    const article = articles[2]!;
    const { status, json } = await client.summarizeFile('document.txt', Buffer.from(article.text));
    assert.equal(status, 200, JSON.stringify(json));
    assert.match(String(json.summary), /wheat harvest by an estimated thirty percent/);
    assert.equal(json.filename, 'document.txt');
    assert.equal(json.original_length, article.text.length);
    assert.equal(json.summary_length, String(json.summary).length);
    assert.equal(typeof json.compression_ratio, 'number');
    assert.match(String(json.timestamp), isoNoZone);
  });

  test('summarize_file of a scanned PDF: the summary comes from its OCR text', async () => {
    const page = await renderPage({
      lines: ['The harbour bridge will open in 2029.', 'It replaces the ferry service.'],
      width: 2000,
      height: 600,
    });
    const { status, json } = await client.summarizeFile('scan.pdf', await makePdf([{ image: page }]));
    assert.equal(status, 200, JSON.stringify(json));
    assert.match(String(json.summary), /harbour bridge will open in 2029/);
  });

  test('summarize_image (curl -F image=@document.png): the summary comes from OCR of the page', async () => {
    const png = await renderPage({
      lines: [
        'The library robots shelve nine hundred books an hour.',
        'Librarians keep their jobs and run reading clubs.',
      ],
    });
    const { status, json } = await client.summarizeImage('document.png', png);
    assert.equal(status, 200, JSON.stringify(json));
    assert.match(String(json.summary), /library robots shelve nine hundred books an hour/);
    assert.equal(json.filename, 'document.png');
    assert.equal(json.summary_length, String(json.summary).length);
    assert.match(String(json.timestamp), isoNoZone);
  });

  test('batch_summarize: per-item results, ratios rounded to 2 decimals, total ratio', async () => {
    const texts = articles.map((a) => a.text);
    const { status, json } = await client.batchSummarize(texts, 40);
    assert.equal(status, 200);
    const results = json.results as Array<{
      index: number;
      summary: string;
      original_length: number;
      summary_length: number;
      compression_ratio: number;
    }>;
    assert.equal(json.batch_size, 3);
    results.forEach((r, i) => {
      assert.equal(r.index, i);
      assert.equal(r.original_length, texts[i]!.length);
      assert.equal(r.summary_length, r.summary.length);
      assert.equal(r.compression_ratio, Math.round((r.original_length / r.summary_length) * 100) / 100);
    });
    const total =
      results.reduce((s, r) => s + r.original_length, 0) / results.reduce((s, r) => s + r.summary_length, 0);
    assert.equal(json.total_compression_ratio, Math.round(total * 100) / 100);
    assert.match(String(json.timestamp), isoNoZone);
    const curl = await post('/batch/summarize', {
      texts: ['Text 1...', 'Text 2...', 'Text 3...'],
      max_length: 128,
      temperature: 0.7,
    });
    assert.equal(curl.status, 200);
    assert.equal(curl.json.batch_size, 3);
  });
});

describe('DeepSynth error bodies, exactly', () => {
  const cases: Array<
    [string, string, () => Promise<{ status: number; json: Record<string, unknown> }>, number, string]
  > = [
    ['missing text', '/summarize/text', () => post('/summarize/text', { max_length: 10 }), 400, 'Missing text field'],
    ['empty text', '/summarize/text', () => post('/summarize/text', { text: '   ' }), 400, 'Empty text provided'],
    [
      'no file',
      '/summarize/file',
      () => post('/summarize/file', form([], { max_length: 10 })),
      400,
      'No file provided',
    ],
    // A browser form submitted with no file chosen sends an empty filename (FormData would say "blob").
    [
      'file not selected',
      '/summarize/file',
      () => rawMultipart('/summarize/file', multipart({ name: '', bytes: Buffer.alloc(0) })),
      400,
      'No file selected',
    ],
    [
      'image not selected',
      '/summarize/image',
      () => rawMultipart('/summarize/image', multipart({ field: 'image', name: '', bytes: Buffer.alloc(0) })),
      400,
      'No image selected',
    ],
    [
      'no image',
      '/summarize/image',
      () => post('/summarize/image', form([{ field: 'file', name: 'a.png', bytes: Buffer.from('x') }])),
      400,
      'No image provided',
    ],
    [
      'texts not a list',
      '/batch/summarize',
      () => post('/batch/summarize', { texts: 'one text' }),
      400,
      'texts must be a list',
    ],
    [
      '11 texts',
      '/batch/summarize',
      () => post('/batch/summarize', { texts: Array.from({ length: 11 }, () => 'A text.') }),
      400,
      'Maximum 10 texts per batch',
    ],
    ['missing texts', '/batch/summarize', () => post('/batch/summarize', {}), 400, 'Missing texts field'],
  ];
  for (const [name, , call, status, error] of cases) {
    test(`${name} → ${status} {"error": "${error}"}`, async () => {
      const res = await call();
      assert.equal(res.status, status);
      assert.deepEqual(res.json, { error });
    });
  }

  test('unknown DeepSynth path → 404 {"error": "Endpoint not found"} (with FastAPI\'s detail beside it)', async () => {
    const res = await fetch(`${server.url}/summarize/pdf`, { method: 'POST' });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { detail: 'Not Found', error: 'Endpoint not found' });
  });

  test('a 17 MB upload → 413 {"error": "File too large (max 16MB)"}, nothing left on disk', async () => {
    const upload = multipart({ name: 'big.txt', bytes: Buffer.alloc(17 * 1024 * 1024, 'a') });
    const big = await postReadingEarlyAnswer(`${server.url}/summarize/file`, upload.payload, upload.headers);
    assert.equal(big.status, 413);
    assert.deepEqual(JSON.parse(big.body), { error: 'File too large (max 16MB)' });
    const json = await postReadingEarlyAnswer(
      `${server.url}/summarize/text`,
      Buffer.from(JSON.stringify({ text: 'a'.repeat(17 * 1024 * 1024) })),
      { 'content-type': 'application/json' },
    );
    assert.equal(json.status, 413);
    assert.deepEqual(JSON.parse(json.body), { error: 'File too large (max 16MB)' });
    // Only the language-data links tesseract.js reads from (made at start) may be there.
    assert.deepEqual(
      readdirSync(serverTmp).filter((f) => !f.startsWith('visiongate-tessdata-')),
      [],
    );
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });
});
