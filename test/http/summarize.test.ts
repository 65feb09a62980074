import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, multipart, type TestApp } from '../helpers/app.js';
import { articles } from '../fixtures/articles.js';
import { makeDocx } from '../fixtures/docx.js';
import { makePdf, renderPage } from '../fixtures/pages.js';

let t: TestApp;
before(async () => {
  t = await buildTestApp();
});
after(() => t.close());

interface Summary {
  summary: string;
  engine: string;
  model: string | null;
  original_length: number;
  summary_length: number;
  compression_ratio: number;
  source: string;
  sentences: { total: number; selected: number[] };
  parameters: { max_length: number; temperature: number };
  timings: { total_ms: number };
}

const key = 'The city council voted on Monday to build a new bridge across the harbour';
const article = articles[0]!;

async function summarizeFile(
  name: string,
  bytes: Buffer,
  fields: Record<string, string> = {},
): Promise<{ status: number; body: Summary }> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/summarize', ...multipart({ name, bytes }, fields) });
  return { status: res.statusCode, body: res.json() };
}

describe('POST /api/v1/summarize', () => {
  test('JSON text → summary, engine, lengths, ratio, sentences, timings', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/summarize',
      payload: { text: article.text, max_length: 50 },
    });
    assert.equal(res.statusCode, 200);
    const body = res.json<Summary>();
    assert.ok(body.summary.includes(key));
    assert.equal(body.engine, 'extractive');
    assert.equal(body.model, null);
    assert.equal(body.original_length, article.text.length);
    assert.equal(body.summary_length, body.summary.length);
    assert.equal(body.compression_ratio, Math.round((article.text.length / body.summary.length) * 100) / 100);
    assert.equal(body.sentences.total, 12);
    assert.equal(body.source, 'text');
    assert.deepEqual(body.parameters, { max_length: 50, temperature: 0.7 });
  });

  test('a text/plain body', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/summarize?max_length=40',
      payload: article.text,
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(res.statusCode, 200);
    assert.ok(res.json<Summary>().summary.includes(key));
  });

  test('files: TXT, Markdown, HTML, DOCX and a digital PDF, each through its parser', async () => {
    const markdown = `# Harbour news\n\n${article.text.replace(/\n/g, '\n\n')}\n\n- a list item\n`;
    const html = `<!doctype html><html><body><nav>Home | News</nav><h1>Harbour news</h1>${article.text
      .split('\n')
      .map((p) => `<p>${p}</p>`)
      .join('')}</body></html>`;
    const cases: Array<[string, Buffer, string]> = [
      ['story.txt', Buffer.from(article.text), 'text'],
      ['story.md', Buffer.from(markdown), 'markdown'],
      ['story.html', Buffer.from(html), 'html'],
      ['story.docx', await makeDocx(article.text.split('\n')), 'docx'],
      [
        'story.pdf',
        await makePdf([
          {
            text: article.text
              .split('\n')
              .flatMap((l) => l.match(/.{1,80}(\s|$)/g) ?? [])
              .slice(0, 30),
            fontSize: 9,
          },
        ]),
        'pdf-text-layer',
      ],
    ];
    for (const [name, bytes, source] of cases) {
      const { status, body } = await summarizeFile(name, bytes, { max_length: '60' });
      assert.equal(status, 200, `${name}: ${JSON.stringify(body)}`);
      assert.equal(body.source, source, name);
      assert.match(body.summary, /city council voted on Monday to build a new bridge/, name);
      assert.doesNotMatch(body.summary, /<p>|^#|Home \| News/, name);
    }
  });

  test('abstractive without a chat model → 503 saying so; bad parameters → 422 naming the field', async () => {
    const abstractive = await t.app.inject({
      method: 'POST',
      url: '/api/v1/summarize',
      payload: { text: article.text, engine: 'abstractive' },
    });
    assert.equal(abstractive.statusCode, 503);
    assert.match(abstractive.json<{ detail: string }>().detail, /needs a chat model/);
    for (const [payload, field] of [
      [{ text: 'x y z', max_length: 0 }, 'max_length'],
      [{ text: 'x', temperature: 5 }, 'temperature'],
      [{ text: 'x', engine: 'magic' }, 'engine'],
      [{ text: '   ' }, 'text'],
      [{ text: 42 }, 'text'],
    ] as const) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/summarize', payload });
      assert.equal(res.statusCode, 422, JSON.stringify(payload));
      assert.equal(res.json<{ field: string }>().field, field);
    }
    const binary = await summarizeFile('blob.bin', Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x92]));
    assert.equal(binary.status, 415);
    // engine names the summarizer; ocr_engine the OCR engine of scanned pages.
    const withEngines = await summarizeFile('story.txt', Buffer.from(article.text), {
      engine: 'extractive',
      ocr_engine: 'tesseract-cli',
    });
    assert.equal(withEngines.status, 200);
    const badOcr = await summarizeFile('story.txt', Buffer.from(article.text), { ocr_engine: 'nope' });
    assert.equal(badOcr.status, 422);
  });
});

describe('GET /metrics', () => {
  test('Prometheus text format that changes as requests run', async () => {
    const parse = (text: string): Map<string, number> => {
      const values = new Map<string, number>();
      for (const line of text.split('\n')) {
        if (!line || line.startsWith('#')) continue;
        const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$/i.exec(line);
        assert.ok(match, `a valid sample line: ${line}`);
        values.set(match[1]!, Number(match[2]));
      }
      return values;
    };
    const before = parse((await t.app.inject({ method: 'GET', url: '/metrics' })).body);
    await t.app.inject({ method: 'POST', url: '/api/v1/summarize', payload: { text: article.text } });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(String(res.headers['content-type']), /text\/plain/);
    const after = parse(res.body);
    const key = 'visiongate_http_requests_total{route="/api/v1/summarize",method="POST",status="200"}';
    assert.equal((after.get(key) ?? 0) - (before.get(key) ?? 0), 1);
    assert.ok(
      (after.get('visiongate_summarize_duration_seconds_count{engine="extractive"}') ?? 0) >
        (before.get('visiongate_summarize_duration_seconds_count{engine="extractive"}') ?? 0),
    );
    assert.ok(after.has('visiongate_process_resident_memory_bytes'));
    assert.ok(after.has('visiongate_worker_queue_depth'));
    assert.ok(after.has('visiongate_http_requests_in_flight'));
    // Model load/unload are counted.
    await t.app.inject({
      method: 'POST',
      url: '/ocr?model=dots_ocr',
      ...multipart({ name: 'p.png', bytes: await renderPage({ lines: ['Metrics page'] }) }),
    });
    await t.app.inject({ method: 'DELETE', url: '/models/dots_ocr' });
    const final = parse((await t.app.inject({ method: 'GET', url: '/metrics' })).body);
    assert.equal(final.get('visiongate_model_events_total{model="dots_ocr",event="load"}'), 1);
    assert.equal(final.get('visiongate_model_events_total{model="dots_ocr",event="unload"}'), 1);
    const engine = (await t.services.engines.choose('auto', ['eng'])).name; // auto's first choice reads the page
    assert.ok((final.get(`visiongate_ocr_pages_total{engine="${engine}",source="ocr"}`) ?? 0) >= 1);
  });
});
