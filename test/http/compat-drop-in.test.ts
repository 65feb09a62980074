/**
 * The details a seed client meets beyond the happy path, each built from the seed's own code or
 * documentation (quoted above each test): ChatVLMLLM (001), the InternVL service (002) and the
 * DeepSynth summarizer (000).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { secureFilename } from '../../src/http/compat/secure-filename.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { form } from '../helpers/form.js';
import { renderPage } from '../fixtures/pages.js';

/** A FormData body as inject takes it (the same bytes fetch would send). */
async function injectable(body: FormData): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const request = new Request('http://localhost/', { method: 'POST', body });
  return {
    payload: Buffer.from(await request.arrayBuffer()),
    headers: { 'content-type': request.headers.get('content-type')! },
  };
}

const gif = Buffer.concat([Buffer.from('GIF89a'), Buffer.from([1, 0, 1, 0, 0, 0, 0, 0x3b])]);

describe('001 ChatVLMLLM', () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp({ models: { qwen3_vl_2b: { device: 'NVIDIA GeForce RTX 4090' } } });
  });
  after(() => t.close());

  test("GET /health reports the GPU of the default model's backend when the config names it", async () => {
    // 001: {"status": "healthy", "gpu_available": true, "gpu_name": "NVIDIA GeForce RTX 4090", …}
    const body = (await t.app.inject({ method: 'GET', url: '/health' })).json() as Record<string, unknown>;
    assert.equal(body.gpu_name, 'NVIDIA GeForce RTX 4090');
    assert.equal(body.gpu_available, true);
  });

  test("an unknown model → the seed's own words", async () => {
    // 001: {"detail": "Failed to load model: Model 'invalid_model' not found"}
    const jpg = await renderPage({ lines: ['Hello'] }, 'jpeg');
    const body = await injectable(
      form([{ field: 'file', name: 'document.jpg', bytes: jpg }], { model: 'invalid_model' }),
    );
    const res = await t.app.inject({ method: 'POST', url: '/ocr', ...body });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { detail: "Failed to load model: Model 'invalid_model' not found" });
    const unload = await t.app.inject({ method: 'DELETE', url: '/models/invalid_model' });
    assert.deepEqual(unload.json(), { detail: "Failed to load model: Model 'invalid_model' not found" });
  });

  test('/chat checks the file format as /ocr does', async () => {
    // 001 "Ограничения": "Поддерживаемые форматы: JPG, PNG, BMP, TIFF"
    const body = await injectable(
      form([{ field: 'file', name: 'image.gif', bytes: gif }], {
        prompt: 'Что изображено на картинке?',
        model: 'qwen3_vl_2b',
      }),
    );
    for (const url of ['/chat', '/ocr']) {
      const res = await t.app.inject({ method: 'POST', url, ...body });
      assert.equal(res.statusCode, 400, url);
      assert.deepEqual(
        res.json(),
        { detail: 'Unsupported file format: .gif. Supported formats: JPG, PNG, BMP, TIFF' },
        url,
      );
    }
  });
});

describe('002 InternVL: no batch cap the seed did not have', () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp({ jobs: { maxBatchItems: 30 }, limits: { maxBatchBytes: 64 * 1024 } });
  });
  after(() => t.close());

  const batch = async (files: Buffer[]) => {
    // 002: "- `files`: 多个上传文件 (form-data)" — no count given.
    const body = await injectable(form(files.map((bytes, i) => ({ field: 'files', name: `page${i}.gif`, bytes }))));
    return t.app.inject({ method: 'POST', url: '/ocr/batch', ...body });
  };

  test("25 files (past the old cap of 20) are all taken, each answered in the seed's per-file shape", async () => {
    const res = await batch(Array.from({ length: 25 }, () => gif));
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { total: number; failed: number; results: Array<{ status: string; error?: string }> };
    assert.equal(body.total, 25);
    assert.equal(body.results.length, 25);
    // GIF is not among SUPPORTED_FORMATS = [".jpg", ".jpeg", ".png", ".pdf", ".bmp", ".tiff"]: each fails alone.
    assert.equal(body.failed, 25);
    assert.match(body.results[24]!.error!, /Unsupported file format: \.gif/);
  });

  test('past jobs.maxBatchItems → 400 {"detail": …}', async () => {
    const res = await batch(Array.from({ length: 31 }, () => gif));
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { detail: 'Maximum 30 files per batch' });
  });

  test('past limits.maxBatchBytes together → 413 {"detail": …}', async () => {
    const res = await batch([
      Buffer.concat([gif, Buffer.alloc(40 * 1024)]),
      Buffer.concat([gif, Buffer.alloc(40 * 1024)]),
    ]);
    assert.equal(res.statusCode, 413);
    assert.match(res.json().detail, /exceed 64 KB together \(limits\.maxBatchBytes\)/);
  });
});

describe('000 DeepSynth (Flask)', () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(() => t.close());
  const text =
    'The harbour bridge opened on Monday after two years of work. Traffic moved smoothly across it all day. Engineers said the structure performed as designed.';

  test('max_length and temperature out of our ranges are clamped, and the used values echoed', async () => {
    // 000: max_length = data.get('max_length', 128); temperature = data.get('temperature', 0.7) — passed on unchecked
    const res = await t.app.inject({
      method: 'POST',
      url: '/summarize/text',
      payload: { text, max_length: 100_000, temperature: 5 },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().parameters, { max_length: 4096, temperature: 2 });
    const low = await t.app.inject({
      method: 'POST',
      url: '/summarize/text',
      payload: { text, max_length: 0, temperature: -1 },
    });
    assert.deepEqual(low.json().parameters, { max_length: 1, temperature: 0 });
    // 000: max_length = int(request.form.get('max_length', 128)); temperature = float(request.form.get('temperature', 0.7))
    const body = await injectable(
      form([{ field: 'file', name: 'document.txt', bytes: Buffer.from(text) }], { max_length: 9999, temperature: 3.5 }),
    );
    const file = await t.app.inject({ method: 'POST', url: '/summarize/file', ...body });
    assert.equal(file.statusCode, 200, file.body);
    assert.deepEqual(file.json().parameters, { max_length: 4096, temperature: 2 });
  });

  test('a blank image is summarized (to nothing), not refused', async () => {
    // 000: summary = summarizer.summarize_image(temp_path, …); 'summary_length': len(summary)
    const blank = await renderPage({ lines: [] }, 'png');
    const body = await injectable(form([{ field: 'image', name: 'blank.png', bytes: blank }]));
    const res = await t.app.inject({ method: 'POST', url: '/summarize/image', ...body });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().summary, '');
    assert.equal(res.json().summary_length, 0);
  });

  test("original_length counts code points, as Python's len() does", async () => {
    // 000: 'original_length': len(text)
    const emoji = `${text} 🎉🎉 𠀀`; // two emoji and a CJK Extension B character: 3 code points, 6 UTF-16 units
    const res = await t.app.inject({ method: 'POST', url: '/summarize/text', payload: { text: emoji } });
    assert.equal(res.json().original_length, [...emoji].length);
    assert.equal(res.json().original_length, emoji.length - 3);
    const batch = await t.app.inject({ method: 'POST', url: '/batch/summarize', payload: { texts: [emoji] } });
    assert.equal(batch.json().results[0].original_length, [...emoji].length);
  });

  test("the filename is echoed through werkzeug's secure_filename", async () => {
    // 000: filename = secure_filename(file.filename) … 'filename': filename
    const body = await injectable(
      form([{ field: 'file', name: '../../my report (final).txt', bytes: Buffer.from(text) }]),
    );
    const res = await t.app.inject({ method: 'POST', url: '/summarize/file', ...body });
    assert.equal(res.json().filename, 'my_report_final.txt');
  });

  test("secure_filename: werkzeug's own documented examples and edge cases", () => {
    // werkzeug docstring: secure_filename("My cool movie.mov") → 'My_cool_movie.mov';
    // secure_filename("../../../etc/passwd") → 'etc_passwd'; secure_filename('i contain cool \xfcml\xe4uts.txt') → 'i_contain_cool_umlauts.txt'
    assert.equal(secureFilename('My cool movie.mov'), 'My_cool_movie.mov');
    assert.equal(secureFilename('../../../etc/passwd'), 'etc_passwd');
    assert.equal(secureFilename('i contain cool \xfcml\xe4uts.txt'), 'i_contain_cool_umlauts.txt');
    assert.equal(secureFilename('отчёт.txt'), 'txt');
    assert.equal(secureFilename('  ..__hidden file\t\tname_.pdf._ '), 'hidden_file_name_.pdf');
    assert.equal(secureFilename('ﬁle①.png'), 'file1.png'); // NFKD: the ligature and the circled digit decompose
    assert.equal(secureFilename('a\\b.txt'), 'ab.txt'); // Linux: a backslash is no separator, just stripped
  });

  test('which summarizer is a config choice shown in /health; binding a chat model does not switch it', async () => {
    const withChat = await buildTestApp({
      models: { 'some-chat': { chat: { backend: 'openai', urls: ['http://127.0.0.1:9/v1'] } } },
    });
    try {
      const health = (await withChat.app.inject({ method: 'GET', url: '/health' })).json() as { summarizer: unknown };
      assert.deepEqual(health.summarizer, { engine: 'extractive', model: null });
      // The chat server at port 9 is unreachable: an abstractive summary would fail; extractive answers.
      const res = await withChat.app.inject({ method: 'POST', url: '/summarize/text', payload: { text } });
      assert.equal(res.statusCode, 200, res.body);
    } finally {
      await withChat.close();
    }
    const chosen = await buildTestApp({
      compat: { deepsynthSummarizer: 'some-chat' },
      models: { 'some-chat': { chat: { backend: 'openai', urls: ['http://127.0.0.1:9/v1'], maxRetries: 0 } } },
    });
    try {
      assert.deepEqual((await chosen.app.inject({ method: 'GET', url: '/health' })).json().summarizer, {
        engine: 'abstractive',
        model: 'some-chat',
      });
      const res = await chosen.app.inject({ method: 'POST', url: '/summarize/text', payload: { text } });
      assert.equal(res.statusCode, 503, 'the configured model was asked (and is unreachable)');
    } finally {
      await chosen.close();
    }
    await assert.rejects(
      buildTestApp({ compat: { deepsynthSummarizer: 'no-such-model' } }),
      /compat\.deepsynthSummarizer/,
    );
  });
});
