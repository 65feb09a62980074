/**
 * The InternVL OCR service's own requests (curl, Python requests, InterVLAPIClient),
 * replayed against the running server, every response field checked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { characterErrorRate } from '../helpers/cer.js';
import { form, postForm } from '../helpers/form.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { makePdf, renderPage } from '../fixtures/pages.js';

const drawing = [
  'Part No: AB-1234-X',
  'Material: Stainless steel 316L',
  'Bore diameter Ø25 ±0.05 mm',
  'Overall size 120 x 80 mm',
  'NOTE: Break all sharp edges before assembly.',
];
const table = ['Item        Qty        Finish', 'Bolt        4          Zinc', 'Washer      8          Plain'];

let server: ServerProcess;
let technical: Buffer;
before(async () => {
  server = await startServer();
  technical = await renderPage({ lines: [...drawing, '', ...table], font: 'DejaVu Sans Mono', fontSize: 40 }, 'jpeg');
});
after(() => server.stop());

type Processed = {
  status: string;
  raw_text: string;
  confidence: number;
  metadata: {
    model: string;
    device: string;
    prompt: string;
    processing_time: number;
    image_patches: number;
    total_processing_time: number;
  };
  structured_content: {
    tables: Array<{ type: string; content: string; rows: string[][] }>;
    diagrams: unknown[];
    annotations: Array<{ text: string }>;
    specifications: Array<{ type: string; text: string; key?: string; value?: string }>;
  };
  file_info: { filename: string; size: number; format: string; image_size: string };
};

describe('InternVL OCR service routes', () => {
  test('GET /health → status, service, model, model_loaded, device, gpu_available, timestamp', async () => {
    const body = (await (await fetch(`${server.url}/health`)).json()) as Record<string, unknown>;
    assert.equal(body.status, 'healthy');
    assert.equal(typeof body.service, 'string');
    assert.equal(body.model, 'internvl3-8b');
    assert.equal(body.model_loaded, true);
    assert.equal(body.device, 'cpu');
    assert.equal(body.gpu_available, false);
    assert.ok(!Number.isNaN(Date.parse(String(body.timestamp))));
  });

  test('GET /model/info → model_name, model_path, device, is_loaded, supported_formats, max_file_size_mb 50, gpu_available', async () => {
    const body = (await (await fetch(`${server.url}/model/info`)).json()) as Record<string, unknown>;
    assert.equal(body.model_name, 'internvl3-8b');
    assert.match(String(body.model_path), /embedded OCR/);
    assert.equal(body.device, 'cpu');
    assert.equal(typeof body.is_loaded, 'boolean');
    assert.deepEqual(body.supported_formats, ['.jpg', '.jpeg', '.png', '.pdf', '.bmp', '.tiff']);
    assert.equal(body.max_file_size_mb, 50);
    assert.equal(body.gpu_available, false);
  });

  test('curl -F file=@image.jpg -F prompt=… → real text and real structured content', async () => {
    const { status, json } = await postForm(
      `${server.url}/ocr/process`,
      form([{ field: 'file', name: 'technical_manual.jpg', bytes: technical, type: 'image/jpeg' }], {
        prompt: '请描述图片内容',
      }),
    );
    assert.equal(status, 200, JSON.stringify(json));
    const body = json as unknown as Processed;
    assert.equal(body.status, 'success');
    assert.ok(characterErrorRate([...drawing, ...table].join('\n'), body.raw_text) <= 0.05, body.raw_text);
    assert.ok(body.confidence > 0.5 && body.confidence <= 1);
    assert.equal(body.metadata.model, 'internvl3-8b');
    assert.equal(body.metadata.device, 'cpu');
    assert.equal(body.metadata.prompt, '请描述图片内容');
    assert.ok(
      body.metadata.processing_time > 0 && body.metadata.total_processing_time >= body.metadata.processing_time,
    );
    assert.equal(body.metadata.image_patches, 1);
    assert.deepEqual(body.file_info, {
      filename: 'technical_manual.jpg',
      size: technical.length,
      format: '.jpg',
      image_size: body.file_info.image_size,
    });
    assert.match(body.file_info.image_size, /^2000x\d+$/);

    const sc = body.structured_content;
    assert.deepEqual(sc.diagrams, []);
    assert.equal(sc.tables.length, 1, JSON.stringify(sc.tables));
    assert.equal(sc.tables[0]!.type, 'detected_table');
    assert.deepEqual(sc.tables[0]!.rows, [
      ['Item', 'Qty', 'Finish'],
      ['Bolt', '4', 'Zinc'],
      ['Washer', '8', 'Plain'],
    ]);
    assert.match(sc.tables[0]!.content, /^\| Item \| Qty \| Finish \|/);
    assert.ok(sc.annotations.some((a) => /Break all sharp edges/.test(a.text)));
    const byType = (t: string) => sc.specifications.filter((s) => s.type === t);
    assert.ok(
      byType('part_number').some((s) => s.value === 'AB-1234-X'),
      JSON.stringify(sc.specifications),
    );
    assert.ok(
      byType('tolerance').some((s) => /[±+]0\.05/.test(s.text)),
      JSON.stringify(sc.specifications),
    );
    assert.ok(byType('dimension').some((s) => /120 x 80 mm/.test(s.text)));
    assert.ok(byType('key_value').some((s) => s.key === 'Material' && /316L/.test(s.value ?? '')));
  });

  test('InterVLAPIClient.process_document(file) with no prompt; a digital PDF works too', async () => {
    const pdf = await makePdf([{ text: ['Drawing list', 'Part No: ZX-778'] }]);
    const { status, json } = await postForm(
      `${server.url}/ocr/process`,
      form([{ field: 'file', name: 'drawings.pdf', bytes: pdf }]),
    );
    assert.equal(status, 200);
    const body = json as unknown as Processed;
    assert.match(body.raw_text, /Drawing list\s+Part No: ZX-778/);
    assert.equal(body.file_info.format, '.pdf');
    assert.ok(body.metadata.prompt.length > 0, 'a default prompt is reported');
    assert.ok(body.structured_content.specifications.some((s) => s.type === 'part_number' && s.value === 'ZX-778'));
  });

  test('POST /ocr/batch with files and a prompt; one bad file fails alone', async () => {
    const { status, json } = await postForm(
      `${server.url}/ocr/batch`,
      form(
        [
          { field: 'files', name: 'a.png', bytes: await renderPage({ lines: ['Sheet A'] }) },
          { field: 'files', name: 'b.gif', bytes: await renderPage({ lines: ['Sheet B'] }, 'gif') },
        ],
        { prompt: 'batch' },
      ),
    );
    assert.equal(status, 200);
    assert.equal(json.total, 2);
    assert.equal(json.successful, 1);
    const results = json.results as Array<Processed & { error?: string }>;
    assert.match(results[0]!.raw_text, /Sheet A/);
    assert.equal(results[0]!.metadata.prompt, 'batch');
    assert.equal(results[1]!.status, 'error');
    assert.match(String(results[1]!.error), /Unsupported file format: \.gif/);
  });

  test('POST /model/reload → the model is loaded again', async () => {
    const res = await fetch(`${server.url}/model/reload`, { method: 'POST' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.status, 'success');
    assert.equal(body.model_loaded, true);
    const info = (await (await fetch(`${server.url}/model/info`)).json()) as Record<string, unknown>;
    assert.equal(info.is_loaded, true);
  });

  test('errors: unsupported format 400, over 50 MB 413, missing file 422', async () => {
    const gif = await postForm(
      `${server.url}/ocr/process`,
      form([{ field: 'file', name: 'x.gif', bytes: await renderPage({ lines: ['x'] }, 'gif') }]),
    );
    assert.equal(gif.status, 400);
    assert.equal(
      gif.json.detail,
      'Unsupported file format: .gif. Supported formats: .jpg, .jpeg, .png, .pdf, .bmp, .tiff',
    );
    const big = await postForm(
      `${server.url}/ocr/process`,
      form([{ field: 'file', name: 'big.pdf', bytes: Buffer.alloc(51 * 1024 * 1024, 32) }]),
    );
    assert.equal(big.status, 413);
    assert.equal(big.json.detail, 'File too large. Maximum size: 50MB');
    const missing = await postForm(`${server.url}/ocr/process`, form([], { prompt: 'x' }));
    assert.equal(missing.status, 422);
  });
});
