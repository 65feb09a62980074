import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, multipart, type TestApp } from '../helpers/app.js';
import { orderAgreement, wordF1 } from '../helpers/word-f1.js';
import { textLayerLines, type TextRun } from '../../src/documents/text-layer.js';
import { openDocument, textRuns } from '../../src/documents/document.js';
import { WorkerPool } from '../../src/runtime/worker-pool.js';
import type { WorkerTask } from '../../src/runtime/worker-tasks.js';
import { loadConfig } from '../../src/config/load.js';
import { makePdf, renderPage } from '../fixtures/pages.js';

// Real PDFs with what pdftotext prints for them beside them (test/fixtures/pdf/README.md).
const fixtures = new URL('../../../test/fixtures/pdf/', import.meta.url);
const pdf = (name: string): Buffer => readFileSync(new URL(`${name}.pdf`, fixtures));
const pdftotext = (name: string): string => readFileSync(new URL(`${name}.pdftotext.txt`, fixtures), 'utf8');

interface OcrBody {
  text: string;
  pages: Array<{ page: number; source: string; engine: string; text: string }>;
}

let t: TestApp;
before(async () => {
  t = await buildTestApp();
});
after(() => t.close());

async function read(name: string): Promise<OcrBody> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/ocr',
    ...multipart({ name: `${name}.pdf`, bytes: pdf(name) }),
  });
  assert.equal(res.statusCode, 200, res.body.slice(0, 300));
  return res.json() as OcrBody;
}

describe('PDF text layer against pdftotext on real PDFs', () => {
  for (const name of ['dash', 'curl', 'two-column', 'split-words', 'columns']) {
    test(`${name}.pdf: word F1 ≥ 0.99 and the same reading order, every page from the text layer`, async () => {
      const body = await read(name);
      assert.ok(body.pages.every((p) => p.source === 'text-layer' && p.engine === 'pdf-text-layer'));
      const reference = pdftotext(name);
      const { f1, missing, extra } = wordF1(reference, body.text);
      assert.ok(
        f1 >= 0.99,
        `word F1 ${f1.toFixed(4)}; missing ${missing.slice(0, 20).join(' ')}; extra ${extra.slice(0, 20).join(' ')}`,
      );
      // pdftotext ends every page with a form feed.
      const referencePages = reference.split('\f').slice(0, body.pages.length);
      assert.equal(referencePages.length, body.pages.length);
      const order = body.pages.map((p, i) => orderAgreement(referencePages[i]!, p.text));
      const mean = order.reduce((a, b) => a + b, 0) / order.length;
      assert.ok(
        mean >= 0.97,
        `reading order agreement ${mean.toFixed(3)} (worst page ${Math.min(...order).toFixed(3)})`,
      );
    });
  }

  test('words drawn in several runs come out whole: maintainers, underscore, gz1', async () => {
    const { text } = await read('split-words');
    for (const word of ['maintainers', 'underscore', 'gz1', 'logfile', 'gzip,', 'tar;', 'zcat.', 'file(5)'])
      assert.ok(text.split(/\s+/).includes(word), `"${word}" whole in ${JSON.stringify(text)}`);
    assert.doesNotMatch(text, /main tainers|under score|gz 1\b|log file|gzip ,/);
  });

  test('ligature glyphs (ﬁ, ﬀ, ﬄ) read as their letters, inside whole words', async () => {
    const { text } = await read('columns');
    assert.doesNotMatch(text, /[\ufb00-\ufb06]/);
    const words = text.split(/\s+/);
    for (const word of ['affluent', 'official', 'shuffle', 'waffle', 'classified'])
      assert.ok(words.includes(word) || words.includes(`${word}.`), `"${word}" whole`);
    assert.doesNotMatch(text, /\ba ffluent|o fficial|shu ffle|cla ssified/);
  });

  test('a password-protected PDF is refused with 422 pdf_encrypted, not read or a 500', async () => {
    const bytes = readFileSync(new URL('../pdf-bad/password.pdf', fixtures));
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ocr',
      ...multipart({ name: 'password.pdf', bytes }),
    });
    assert.equal(res.statusCode, 422, res.body);
    assert.match(res.body, /pdf_encrypted/);
    assert.match(res.body, /password-protected/);
  });

  test('hyphenated line ends are joined and columns read one after the other', async () => {
    const { text, pages } = await read('two-column');
    // "mea-" ends a line of the left column, "surements" starts the next.
    assert.match(text, /the measurements\s+filed/);
    assert.doesNotMatch(text, /\bmea-/);
    // Page 1: the whole left column (its last paragraph starts "The temperature of district"), then the right one.
    const first = pages[0]!.text;
    const left = ['1. Section 1', 'Into identify flow', 'The temperature of district'].map((s) => first.indexOf(s));
    const right = ['Historical identify environmental', '2. Section 2'].map((s) => first.indexOf(s));
    assert.ok(
      [...left, ...right].every((i) => i >= 0),
      first,
    );
    assert.ok(Math.max(...left) < Math.min(...right), `left column at ${left}, right column at ${right}`);
  });
});

describe('text layer assembly (pdf.js runs → words)', () => {
  const identity = [1, 0, 0, 1, 0, 0];
  // A run at (x, baseline) in a 10-unit font; width from a fixed 5 units per character.
  const run = (str: string, x: number, y = 100, size = 10): TextRun => ({
    str,
    transform: [size, 0, 0, size, x, y],
    width: str.length * 5 * (size / 10),
  });
  const text = (runs: TextRun[]): string[] =>
    textLayerLines(runs, identity, 1).map((l) => l.words.map((w) => w.text).join(' '));

  test('runs that touch are one word; a space glyph or a gap over a tenth of the font size separates', () => {
    assert.deepEqual(text([run('main', 0), run('tainers', 20)]), ['maintainers']);
    assert.deepEqual(text([run('main', 0), run(' ', 20), run('tainers', 20)]), ['main tainers']);
    assert.deepEqual(text([run('main', 0), run('tainers', 21.5)]), ['main tainers']);
    // A different font size on the same baseline joins only when it truly touches.
    assert.deepEqual(text([run('gz', 0), run('1', 10, 100, 8)]), ['gz1']);
  });

  test('a wide gap on one baseline separates columns; lines of a column are read before the next column', () => {
    const left = [run('left one', 0, 100), run('left two', 0, 112), run('left three', 0, 124)];
    const right = [run('right one', 200, 100), run('right two', 200, 112)];
    const expected = ['left one', 'left two', 'left three', 'right one', 'right two'];
    assert.deepEqual(text([...left, ...right]), expected);
    // Content order does not matter: a PDF may draw the right column first or row by row.
    assert.deepEqual(text([right[0]!, left[0]!, right[1]!, left[1]!, left[2]!]), expected);
  });

  test('a hyphen ending a line joins the word on the next line of the same block', () => {
    assert.deepEqual(text([run('a possi-', 0, 100), run('ble end', 0, 112)]), ['a possible', 'end']);
    assert.deepEqual(text([run('a possi-', 0, 100), run('far below', 0, 300)]), ['a possi-', 'far below']);
  });
});

describe('PDF pages through the worker pool', () => {
  /** A real pool that counts the tasks it is given, by type. */
  const countingPool = (): WorkerPool & { counts: Map<string, number> } => {
    const pool = new WorkerPool(2);
    const counts = new Map<string, number>();
    const run = pool.run.bind(pool);
    pool.run = ((task: WorkerTask, signal?: AbortSignal) => {
      counts.set(task.type, (counts.get(task.type) ?? 0) + 1);
      return run(task, signal);
    }) as WorkerPool['run'];
    return Object.assign(pool, { counts });
  };
  const limits = loadConfig({ overrides: { log: { level: 'silent' } } }).limits;
  const options = { dpi: 300, renderTimeoutMs: 60_000, minTextChars: 8, forceOcr: false };

  test('a 23-page PDF: text layers in a few runs of pages, not a task per page, nothing rendered', async () => {
    const pool = countingPool();
    try {
      const doc = await openDocument(pdf('dash'), limits, pool);
      const pages = Array.from({ length: doc.pageCount }, (_, i) => i + 1);
      const read = await Promise.all([...doc.readTextLayers!(pages, options).values()]);
      assert.equal(read.length, 23);
      assert.ok(read.every((p) => p?.source === 'text-layer'));
      assert.equal(pool.counts.get('pdf-page'), undefined);
      // At most four runs per thread (two threads here), never a task per page.
      assert.ok((pool.counts.get('pdf-text-pages') ?? 0) <= 8, `text tasks: ${pool.counts.get('pdf-text-pages')}`);
      await doc.close();
    } finally {
      await pool.close();
    }
  });

  test('runs share the pages out evenly: as many per thread, sizes one page apart at most, none tiny', () => {
    const sizes = (n: number, threads: number): number[] =>
      textRuns(
        Array.from({ length: n }, (_, i) => i + 1),
        threads,
      ).map((run) => run.length);
    assert.deepEqual(sizes(23, 2), [4, 4, 4, 4, 4, 3]);
    assert.deepEqual(sizes(20, 2), [4, 4, 3, 3, 3, 3]);
    assert.deepEqual(sizes(88, 2), [11, 11, 11, 11, 11, 11, 11, 11]);
    assert.deepEqual(sizes(5, 2), [5]);
    assert.deepEqual(sizes(0, 2), []);
    assert.deepEqual(
      textRuns([4, 9, 10, 11, 12, 13, 20], 2).flat(),
      [4, 9, 10, 11, 12, 13, 20],
      'every page once, in order',
    );
  });

  test('a scan among text pages is left for readPage, which renders it', async () => {
    const pool = countingPool();
    try {
      const bytes = await makePdf([
        { text: ['A page with a text layer of its own.'] },
        { image: await renderPage({ lines: ['Scanned page'], width: 1200, height: 600 }) },
      ]);
      const doc = await openDocument(bytes, limits, pool);
      const [first, second] = await Promise.all([...doc.readTextLayers!([1, 2], options).values()]);
      assert.equal(first?.source, 'text-layer');
      assert.equal(second, undefined);
      const scan = await doc.readPage(2, options);
      assert.equal(scan.source, 'ocr');
      assert.ok(scan.source === 'ocr' && scan.image.width > 1000);
      await doc.close();
    } finally {
      await pool.close();
    }
  });
});
