import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { characterErrorRate } from '../helpers/cer.js';
import { buildTestApp, multipart, type TestApp } from '../helpers/app.js';
import { committedPage, makePdf, multiPageTiff, renderPage, renderScan, type ImageFormat } from '../fixtures/pages.js';
import { needs } from '../helpers/system-parts.js';

const lines = [
  'Annual maintenance report for pump station 4.',
  'All valves were inspected and two were replaced.',
  'The next inspection is due in September.',
];
const reference = lines.join('\n');

interface OcrBody {
  text: string;
  markdown: string;
  pages: Array<{
    page: number;
    width: number;
    height: number;
    source: string;
    engine: string;
    text: string;
    confidence: number;
    words: Array<{ text: string; bbox: number[]; confidence: number }>;
    lines: unknown[];
    blocks: Array<{ type: string }>;
  }>;
  document: { type: string; page_count: number; pages_processed: number };
  timings: { total_ms: number };
}

let t: TestApp;
before(async () => {
  t = await buildTestApp({ fetch: { allowPrivateAddresses: true } });
});
after(() => t.close());

async function ocr(
  bytes: Buffer,
  fields: Record<string, string> = {},
  name = 'page.bin',
): Promise<{ status: number; body: OcrBody; raw: string; type: string }> {
  const form = multipart({ name, bytes }, fields);
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/ocr', ...form });
  return {
    status: res.statusCode,
    body: String(res.headers['content-type']).includes('json') ? (res.json() as OcrBody) : ({} as OcrBody),
    raw: res.body,
    type: String(res.headers['content-type']),
  };
}

describe('POST /api/v1/ocr on rendered images', () => {
  for (const format of ['png', 'jpeg', 'tiff', 'bmp', 'webp', 'gif'] as ImageFormat[]) {
    test(`${format}: text within 2% CER, one page with words and boxes`, async () => {
      const { status, body } = await ocr(await renderPage({ lines }, format), {}, `scan.${format}`);
      assert.equal(status, 200, JSON.stringify(body));
      const cer = characterErrorRate(reference, body.text);
      assert.ok(cer <= 0.02, `CER ${cer} for ${JSON.stringify(body.text)}`);
      assert.equal(body.pages.length, 1);
      const page = body.pages[0]!;
      assert.equal(page.source, 'ocr');
      // auto's first choice: the native binary when it reads with the npm best_int models, else tesseract.js.
      assert.equal(page.engine, (await t.services.engines.choose('auto', ['eng'])).name);
      assert.ok(page.width > 1000 && page.height > 200);
      assert.ok(page.confidence > 0.8);
      assert.ok(page.words.length >= 20);
      assert.ok(page.words.every((w) => w.bbox.length === 4 && w.bbox[2]! <= page.width && w.bbox[3]! <= page.height));
    });
  }

  test('multi-page TIFF: each directory is a page', async () => {
    const tiff = await multiPageTiff([
      await renderPage({ lines: ['First page of the fax.'] }),
      await renderPage({ lines: ['Second page of the fax.'] }),
    ]);
    const { status, body } = await ocr(tiff);
    assert.equal(status, 200);
    assert.equal(body.document.page_count, 2);
    assert.match(body.pages[0]!.text, /First page/);
    assert.match(body.pages[1]!.text, /Second page/);
  });

  test('raw body, base64 JSON and a data: URL give the same text', async () => {
    const png = await renderPage({ lines });
    const raw = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ocr?output=text',
      payload: png,
      headers: { 'content-type': 'image/png' },
    });
    assert.equal(raw.statusCode, 200);
    assert.match(String(raw.headers['content-type']), /text\/plain/);
    const json = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ocr',
      payload: { data: png.toString('base64'), output: 'text' },
    });
    const dataUrl = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ocr',
      payload: { data: `data:image/png;base64,${png.toString('base64')}` },
      headers: { accept: 'text/plain' },
    });
    assert.ok(characterErrorRate(reference, raw.body) <= 0.02);
    assert.equal(json.body, raw.body);
    assert.equal(dataUrl.body, raw.body);
  });

  test('a URL document is fetched (private addresses allowed by this test config)', async () => {
    const png = await renderPage({ lines });
    const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scan.png`;
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/ocr', payload: { url } });
      assert.equal(res.statusCode, 200);
      assert.ok(characterErrorRate(reference, (res.json() as OcrBody).text) <= 0.02);
    } finally {
      server.close();
    }
  });

  test('a noisy, rotated scan is still read (CER ≤ 8%)', async () => {
    const { status, body } = await ocr(await renderScan({ lines, fontSize: 46 }));
    assert.equal(status, 200);
    const cer = characterErrorRate(reference, body.text);
    assert.ok(cer <= 0.08, `CER ${cer} for ${JSON.stringify(body.text)}`);
  });

  test('French page with languages=fra (CER ≤ 3%)', async () => {
    const french = ['Le cœur de l’été à Montréal était très chaud.', 'Élève, garçon, où êtes-vous allés déjà ?'];
    const { status, body } = await ocr(await renderPage({ lines: french }), { languages: 'fra' });
    assert.equal(status, 200);
    const cer = characterErrorRate(french.join('\n'), body.text);
    assert.ok(cer <= 0.03, `CER ${cer} for ${JSON.stringify(body.text)}`);
  });

  test('Russian page with language=Russian, from Debian tessdata (CER ≤ 3%)', needs('tesseract-rus'), async () => {
    const russian = ['Съешь же ещё этих мягких французских булок.', 'Отчёт о проверке насосной станции номер четыре.'];
    const { status, body } = await ocr(await renderPage({ lines: russian }), { language: 'Russian' });
    assert.equal(status, 200, JSON.stringify(body));
    const cer = characterErrorRate(russian.join('\n'), body.text);
    assert.ok(cer <= 0.03, `CER ${cer} for ${JSON.stringify(body.text)}`);
  });

  test("Chinese page read by auto's first choice for Chinese (CER ≤ 5%)", async () => {
    const chinese = committedPage('chinese'); // no npm package ships a CJK font: a committed page
    const { status, body } = await ocr(chinese.png, { languages: 'chi_sim' });
    assert.equal(status, 200);
    assert.equal(body.pages[0]!.engine, (await t.services.engines.choose('auto', ['chi_sim'])).name);
    const cer = characterErrorRate(chinese.text, body.text);
    assert.ok(cer <= 0.05, `CER ${cer} for ${JSON.stringify(body.text)}`);
  });

  test('Markdown keeps the heading, list items and a table', async () => {
    const png = await renderPage({
      lines: [
        'Service Summary',
        'Two pumps were serviced this week.',
        '• Replace the inlet filter',
        '• Check the outlet pressure',
      ],
      headingSize: 84,
    });
    const { body } = await ocr(png, { output: 'json' });
    assert.match(body.markdown, /^#{1,3} Service Summary$/m);
    assert.match(body.markdown, /^- Replace the inlet filter$/m);
    assert.match(body.markdown, /^- Check the outlet pressure$/m);
    const table = await renderPage({
      lines: ['Part        Qty        Price', 'Valve        2          40.00', 'Gasket       10         2.50'],
      font: 'DejaVu Sans Mono',
    });
    const tableBody = (await ocr(table)).body;
    assert.match(tableBody.markdown, /^\| Part \| Qty \| Price \|$/m, tableBody.markdown);
    assert.match(tableBody.markdown, /^\| Valve \| 2 \| 40\.00 \|$/m);
  });

  test('engine can be chosen per request', needs('tesseract'), async () => {
    const { status, body } = await ocr(await renderPage({ lines }), { engine: 'tesseract-cli' });
    assert.equal(status, 200);
    assert.equal(body.pages[0]!.engine, 'tesseract-cli');
    assert.ok(characterErrorRate(reference, body.text) <= 0.02);
  });
});

describe('POST /api/v1/ocr on PDFs', () => {
  const digital = ['Digital contract, page one.', 'Payment is due within 30 days of delivery.'];

  test('digital PDF: exact text from the text layer, no OCR', async () => {
    const { status, body } = await ocr(await makePdf([{ text: digital }, { text: ['Second page: signatures.'] }]));
    assert.equal(status, 200);
    assert.equal(body.pages.length, 2);
    assert.deepEqual(
      body.pages.map((p) => [p.source, p.engine]),
      [
        ['text-layer', 'pdf-text-layer'],
        ['text-layer', 'pdf-text-layer'],
      ],
    );
    assert.equal(body.pages[0]!.text.replace(/\n+/g, '\n'), digital.join('\n'));
    assert.equal(body.pages[1]!.text, 'Second page: signatures.');
    const word = body.pages[0]!.words.find((w) => w.text === 'Digital')!;
    assert.ok(
      word.bbox[0]! > 250 && word.bbox[0]! < 350,
      `x of "Digital" at 72 pt ≈ 300 px at 300 dpi, got ${word.bbox[0]}`,
    );
  });

  test('scanned PDF: pages rendered and OCRed', async () => {
    const { status, body } = await ocr(
      await makePdf([{ image: await renderPage({ lines, width: 2480, height: 900 }) }]),
    );
    assert.equal(status, 200);
    assert.equal(body.pages[0]!.source, 'ocr');
    assert.ok(characterErrorRate(reference, body.text) <= 0.03, body.text);
  });

  test('mixed PDF: each page says which path it took; pages selects a range', async () => {
    const pdf = await makePdf([
      { text: digital },
      { image: await renderPage({ lines, width: 2480, height: 900 }) },
      { text: ['Third page.'] },
    ]);
    const { body } = await ocr(pdf);
    assert.deepEqual(
      body.pages.map((p) => p.source),
      ['text-layer', 'ocr', 'text-layer'],
    );
    const selected = await ocr(pdf, { pages: '2-3' });
    assert.deepEqual(
      selected.body.pages.map((p) => p.page),
      [2, 3],
    );
    assert.equal(selected.body.document.pages_processed, 2);
    const bad = await ocr(pdf, { pages: '4' });
    assert.equal(bad.status, 422);
    assert.match(bad.raw, /has 3 pages/);
  });
});
