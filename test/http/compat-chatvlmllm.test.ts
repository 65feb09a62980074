/**
 * The ChatVLMLLM seed's own requests (curl examples, Python requests snippets, the aiohttp
 * example and the ChatVLMClient class), replayed against the running server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { characterErrorRate } from '../helpers/cer.js';
import { form, postForm } from '../helpers/form.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { renderPage } from '../fixtures/pages.js';
import { needs } from '../helpers/system-parts.js';

const english = ['Quarterly inspection of the cooling system.', 'No leaks were found in the primary circuit.'];
const russian = ['Отчёт о проверке системы охлаждения.', 'Утечек в первом контуре не обнаружено.'];
const seedIds = ['got_ocr', 'qwen_vl_2b', 'qwen_vl_7b', 'qwen3_vl_2b', 'qwen3_vl_4b', 'qwen3_vl_8b', 'dots_ocr'];

let server: ServerProcess;
let documentJpg: Buffer;
let russianJpg: Buffer;
before(async () => {
  server = await startServer();
  documentJpg = await renderPage({ lines: english }, 'jpeg');
  russianJpg = await renderPage({ lines: russian }, 'jpeg');
});
after(() => server.stop());

const get = async (path: string): Promise<Record<string, unknown>> =>
  (await fetch(`${server.url}${path}`)).json() as Promise<Record<string, unknown>>;

describe('ChatVLMLLM system routes', () => {
  test('GET / → message, version, docs, health', async () => {
    const body = await get('/');
    assert.equal(typeof body.message, 'string');
    assert.equal(typeof body.version, 'string');
    assert.equal(body.docs, '/docs');
    assert.equal(body.health, '/health');
  });

  test('GET /health → status, gpu_available, gpu_name, models_loaded, loaded_models (honest: no GPU)', async () => {
    const body = await get('/health');
    assert.equal(body.status, 'healthy');
    assert.equal(body.gpu_available, false);
    assert.equal(body.gpu_name, null);
    assert.equal(typeof body.models_loaded, 'number');
    assert.ok(Array.isArray(body.loaded_models));
    assert.equal(body.models_loaded, (body.loaded_models as string[]).length);
  });

  test('GET /models → every seed id with name and params, and what is loaded', async () => {
    const body = (await get('/models')) as {
      available: Array<{ id: string; name: string; params: string }>;
      loaded: string[];
    };
    for (const id of seedIds)
      assert.ok(
        body.available.some((m) => m.id === id),
        id,
      );
    assert.deepEqual(
      body.available.find((m) => m.id === 'got_ocr'),
      { id: 'got_ocr', name: 'GOT-OCR 2.0', params: '580M' },
    );
    assert.deepEqual(
      body.available.find((m) => m.id === 'dots_ocr'),
      { id: 'dots_ocr', name: 'dots.ocr', params: '1.7B' },
    );
    assert.ok(Array.isArray(body.loaded));
  });

  test('/docs, /redoc and /openapi.json are served', async () => {
    assert.equal((await fetch(`${server.url}/docs/`)).status, 200);
    const redoc = await fetch(`${server.url}/redoc`);
    assert.match(await redoc.text(), /redoc spec-url="\/openapi.json"/);
    const spec = (await get('/openapi.json')) as { openapi: string; paths: Record<string, unknown> };
    assert.match(spec.openapi, /^3\./);
    for (const path of ['/ocr', '/chat', '/batch/ocr', '/models', '/ocr/process', '/model/info'])
      assert.ok(spec.paths[path], path);
  });
});

describe('POST /ocr', () => {
  test('curl -F file=@document.jpg -F model=qwen3_vl_2b → text, model, processing_time, image_size, language', async () => {
    const { status, json } = await postForm(
      `${server.url}/ocr`,
      form([{ field: 'file', name: 'document.jpg', bytes: documentJpg, type: 'image/jpeg' }], { model: 'qwen3_vl_2b' }),
    );
    assert.equal(status, 200, JSON.stringify(json));
    assert.ok(characterErrorRate(english.join('\n'), String(json.text)) <= 0.02, String(json.text));
    assert.equal(json.model, 'qwen3_vl_2b');
    assert.equal(typeof json.processing_time, 'number');
    assert.ok((json.processing_time as number) > 0);
    assert.deepEqual(json.image_size, [2000, (json.image_size as number[])[1]]);
    assert.equal(json.language, null);
  });

  test(
    "requests.post(files=, params={'model', 'language': 'Russian'}) reads Russian",
    needs('tesseract-rus'),
    async () => {
      const { status, json } = await postForm(
        `${server.url}/ocr?model=qwen3_vl_2b&language=Russian`,
        form([{ field: 'file', name: 'document.jpg', bytes: russianJpg }]),
      );
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(json.language, 'Russian');
      assert.ok(characterErrorRate(russian.join('\n'), String(json.text)) <= 0.03, String(json.text));
      const loaded = (await get('/models')) as { loaded: string[] };
      assert.ok(loaded.loaded.includes('qwen3_vl_2b'));
    },
  );

  test("aiohttp FormData add_field('file', f, filename='image.jpg'), params model", async () => {
    const { status, json } = await postForm(
      `${server.url}/ocr?model=qwen3_vl_2b`,
      form([{ field: 'file', name: 'image.jpg', bytes: documentJpg }]),
    );
    assert.equal(status, 200);
    assert.match(String(json.text), /cooling system/);
  });

  test('limits and errors as FastAPI gives them', async () => {
    const big = Buffer.concat([documentJpg, Buffer.alloc(11 * 1024 * 1024)]);
    const tooLarge = await postForm(`${server.url}/ocr`, form([{ field: 'file', name: 'big.jpg', bytes: big }]));
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.json.detail, 'File too large. Maximum size: 10MB');
    const gif = await postForm(
      `${server.url}/ocr`,
      form([{ field: 'file', name: 'a.gif', bytes: await renderPage({ lines: ['x'] }, 'gif') }]),
    );
    assert.equal(gif.status, 400);
    assert.equal(gif.json.detail, 'Unsupported file format: .gif. Supported formats: JPG, PNG, BMP, TIFF');
    const unknown = await postForm(
      `${server.url}/ocr`,
      form([{ field: 'file', name: 'd.jpg', bytes: documentJpg }], { model: 'gpt_vision_9000' }),
    );
    assert.equal(unknown.status, 404);
    // 001: {"detail": "Failed to load model: Model 'invalid_model' not found"}
    assert.equal(unknown.json.detail, "Failed to load model: Model 'gpt_vision_9000' not found");
    const missing = await postForm(`${server.url}/ocr`, form([], { model: 'qwen3_vl_2b' }));
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.json.detail, [
      { type: 'missing', loc: ['body', 'file'], msg: 'Field required', input: null },
    ]);
  });
});

describe('POST /chat', () => {
  test('with no chat model bound: 503 with a detail saying how to configure one, never a fake answer', async () => {
    const { status, json } = await postForm(
      `${server.url}/chat`,
      form([{ field: 'file', name: 'image.jpg', bytes: documentJpg }], {
        prompt: 'Опишите содержимое этого документа',
        model: 'qwen3_vl_2b',
        temperature: 0.7,
        max_tokens: 512,
      }),
    );
    assert.equal(status, 503);
    assert.match(String(json.detail), /No chat model is configured for 'qwen3_vl_2b'.*models\.qwen3_vl_2b\.chat/);
    assert.equal(json.response, undefined);
  });

  test('temperature outside 0–1 → 422 naming the field; unknown model → 404; missing file → 422', async () => {
    const hot = await postForm(
      `${server.url}/chat`,
      form([{ field: 'file', name: 'image.jpg', bytes: documentJpg }], { temperature: 1.5 }),
    );
    assert.equal(hot.status, 422);
    assert.deepEqual((hot.json.detail as Array<{ loc: string[] }>)[0]!.loc, ['body', 'temperature']);
    const unknown = await postForm(
      `${server.url}/chat`,
      form([{ field: 'file', name: 'image.jpg', bytes: documentJpg }], { model: 'nope' }),
    );
    assert.equal(unknown.status, 404);
    const missing = await postForm(`${server.url}/chat`, form([], { prompt: 'hi' }));
    assert.equal(missing.status, 422);
  });
});

describe('POST /batch/ocr and DELETE /models/{name}', () => {
  test('curl -F files=@doc1.jpg -F files=@doc2.jpg -F files=@doc3.jpg -F model=qwen3_vl_2b', async () => {
    const docs = await Promise.all(
      [1, 2, 3].map((n) => renderPage({ lines: [`Document number ${n} of the batch.`] }, 'jpeg')),
    );
    const { status, json } = await postForm(
      `${server.url}/batch/ocr`,
      form(
        docs.map((bytes, i) => ({ field: 'files', name: `doc${i + 1}.jpg`, bytes })),
        { model: 'qwen3_vl_2b' },
      ),
    );
    assert.equal(status, 200, JSON.stringify(json));
    const results = json.results as Array<{ filename: string; text: string; processing_time: number; status: string }>;
    assert.equal(json.total, 3);
    assert.equal(json.successful, 3);
    assert.equal(json.failed, 0);
    results.forEach((r, i) => {
      assert.equal(r.filename, `doc${i + 1}.jpg`);
      assert.equal(r.status, 'success');
      assert.match(r.text, new RegExp(`Document number ${i + 1}`));
      assert.equal(typeof r.processing_time, 'number');
    });
  });

  test('one bad file fails alone; params={model} works for batches too', async () => {
    const good = await renderPage({ lines: ['A good page.'] }, 'png');
    const { status, json } = await postForm(
      `${server.url}/batch/ocr?model=got_ocr`,
      form([
        { field: 'files', name: 'good.png', bytes: good },
        { field: 'files', name: 'broken.png', bytes: good.subarray(0, 100) },
        { field: 'files', name: 'notes.txt', bytes: Buffer.from('plain text') },
      ]),
    );
    assert.equal(status, 200);
    assert.equal(json.total, 3);
    assert.equal(json.successful, 1);
    assert.equal(json.failed, 2);
    const results = json.results as Array<{ status: string; error?: string }>;
    assert.deepEqual(
      results.map((r) => r.status),
      ['success', 'error', 'error'],
    );
    assert.ok(results[1]!.error && results[2]!.error);
  });

  test('11 files → 400', async () => {
    const tiny = await renderPage({ lines: ['x'], width: 200, height: 80 });
    const { status, json } = await postForm(
      `${server.url}/batch/ocr`,
      form(Array.from({ length: 11 }, (_, i) => ({ field: 'files', name: `d${i}.png`, bytes: tiny }))),
    );
    assert.equal(status, 400);
    assert.equal(json.detail, 'Maximum 10 files per batch');
  });

  test('curl -X DELETE /models/qwen3_vl_2b → status, message; unknown → 404', async () => {
    const res = await fetch(`${server.url}/models/qwen3_vl_2b`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'success', message: 'Model qwen3_vl_2b unloaded' });
    const models = (await get('/models')) as { loaded: string[] };
    assert.ok(!models.loaded.includes('qwen3_vl_2b'));
    const missing = await fetch(`${server.url}/models/nope`, { method: 'DELETE' });
    assert.equal(missing.status, 404);
  });
});

describe('the ChatVLMClient class', () => {
  test('health(), ocr(path, language="Russian"), chat(path, prompt)', needs('tesseract-rus'), async () => {
    const base = server.url;
    const client = {
      health: async () => (await fetch(`${base}/health`)).json() as Promise<Record<string, unknown>>,
      ocr: async (bytes: Buffer, model = 'qwen3_vl_2b', language?: string) => {
        const params = new URLSearchParams({ model, ...(language ? { language } : {}) });
        return (await postForm(`${base}/ocr?${params}`, form([{ field: 'file', name: 'document.jpg', bytes }]))).json
          .text as string;
      },
      chat: async (bytes: Buffer, prompt: string, model = 'qwen3_vl_2b') =>
        postForm(`${base}/chat`, form([{ field: 'file', name: 'diagram.png', bytes }], { prompt, model })),
    };
    assert.equal((await client.health()).status, 'healthy');
    assert.ok(characterErrorRate(russian.join('\n'), await client.ocr(russianJpg, 'qwen3_vl_2b', 'Russian')) <= 0.03);
    const chat = await client.chat(documentJpg, 'Объясните эту диаграмму');
    assert.equal(chat.status, 503);
  });
});
