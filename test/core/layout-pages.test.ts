/**
 * Reading order on committed real pages (test/fixtures/layout, made by make-layout-pages.ts):
 * tables row by row and as Markdown tables, two columns one after the other, and a noisy
 * Chinese scan turned 1.6° read as well as the clean page (by PaddleOCR, and by the default).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { characterErrorRate } from '../helpers/cer.js';
import { buildTestApp, multipart, type TestApp } from '../helpers/app.js';

const dir = 'test/fixtures/layout';
const page = (name: string): Buffer => readFileSync(`${dir}/${name}.png`);
const truth = (name: string): string => readFileSync(`${dir}/${name}.txt`, 'utf8').trim();

interface OcrBody {
  text: string;
  markdown: string;
  pages: Array<{ engine: string; blocks: Array<{ type: string; rows?: string[][] }> }>;
}

let t: TestApp;
before(async () => {
  t = await buildTestApp();
});
after(() => t.close());

async function ocr(name: string, fields: Record<string, string> = {}): Promise<OcrBody> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/ocr',
    ...multipart({ name: `${name}.png`, bytes: page(name) }, fields),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as OcrBody;
}

/** Each row's words, in order, as one line of the text. */
const rowsInOrder = (text: string, rows: string[][]): number => {
  const lines = text.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
  let at = -1;
  let found = 0;
  for (const row of rows) {
    const index = lines.findIndex((l, i) => i > at && l === row.join(' '));
    if (index > at) (at = index), found++;
  }
  return found;
};

describe('tables read row by row', () => {
  const rows = JSON.parse(readFileSync(`${dir}/table.cells.json`, 'utf8')) as string[][];
  for (const [name, engine] of [
    ['table', 'tesseract-js'],
    ['table-scan', 'tesseract-js'],
    ['table-scan', 'paddle'],
  ] as const) {
    test(`${name} (${engine}): rows in order in the text, and a Markdown table`, async () => {
      const body = await ocr(name, { engine });
      const cer = characterErrorRate(truth(name), body.text);
      assert.ok(cer <= 0.03, `CER ${cer}: ${body.text}`);
      // OCR may misread a character or two (Castiron, A4 → Ad): most rows must come back whole, in order.
      assert.ok(rowsInOrder(body.text, rows) >= rows.length - 3, body.text);
      const table = body.pages[0]!.blocks.find((b) => b.type === 'table');
      assert.ok(table?.rows, `a table block: ${JSON.stringify(body.pages[0]!.blocks.map((b) => b.type))}`);
      assert.equal(table.rows.length, rows.length);
      assert.ok(
        table.rows.every((r) => r.length === 4),
        JSON.stringify(table.rows),
      );
      // Each row starts with its own first cell (a stray '.' from a speck is allowed).
      for (const [i, r] of table.rows.entries()) {
        assert.ok(r[0]!.replace(/\s/g, '').startsWith(rows[i]![0]!.replace(/\s/g, '')), JSON.stringify(table.rows));
      }
      assert.match(
        body.markdown,
        /^\| Part \| Material \| Qty \| Price \|\n\| --- \| --- \| --- \| --- \|\n\| Valve body\.? \|/m,
      );
    });
  }

  test('the InternVL seed route returns the table as Markdown in structured_content, rows in order', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/ocr/process',
      ...multipart({ name: 'table.png', bytes: page('table') }),
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as {
      structured_content: { tables: Array<{ type: string; content: string; rows: string[][] }> };
    };
    const [table] = body.structured_content.tables;
    assert.equal(table?.type, 'detected_table');
    const lines = table.content.split('\n');
    assert.equal(lines.length, rows.length + 1);
    assert.deepEqual(
      [lines[0], ...lines.slice(2)],
      rows.map((r) => `| ${r.join(' | ')} |`),
    );
  });
});

describe('two columns read one after the other', () => {
  for (const [name, engine] of [
    ['columns', 'tesseract-js'],
    ['columns-scan', 'tesseract-js'],
    ['columns', 'paddle'],
    ['columns-scan', 'paddle'],
  ] as const) {
    test(`${name} (${engine})`, async () => {
      const body = await ocr(name, { engine });
      const cer = characterErrorRate(truth(name), body.text);
      // Paddle's model drops some spaces in English; mixed columns would cost far more (~60%).
      assert.ok(cer <= (engine === 'paddle' ? 0.08 : 0.03), `CER ${cer}: ${body.text}`);
      const flat = body.text.replace(/\s+/g, '');
      const leftEnd = flat.indexOf('withinoneday');
      const rightStart = flat.indexOf('Waterdemand');
      assert.ok(leftEnd > 0 && rightStart > leftEnd, `the left column ends before the right one starts: ${body.text}`);
      assert.ok(
        flat.indexOf('1987and') > 0 && flat.indexOf('1987andhasrun') > 0,
        'a left-column line continues with the next left-column line',
      );
    });
  }
});

for (const engine of ['paddle', 'auto'] as const) {
  test(`${engine}: a Chinese scan turned 1.6° with noise reads within 2 CER points of the clean page`, async () => {
    const clean = await ocr('zh-clean', { languages: 'chi_sim', engine });
    const scan = await ocr('zh-scan', { languages: 'chi_sim', engine });
    if (engine === 'paddle') assert.equal(scan.pages[0]!.engine, 'paddle');
    const cleanCer = characterErrorRate(truth('zh-clean'), clean.text);
    const scanCer = characterErrorRate(truth('zh-scan'), scan.text);
    assert.ok(cleanCer <= 0.03, `clean CER ${cleanCer}: ${clean.text}`);
    assert.ok(scanCer <= cleanCer + 0.02, `scan CER ${scanCer} vs clean ${cleanCer}: ${scan.text}`);
    assert.match(
      scan.text.replace(/\s/g, ''),
      /注[:：]本页内容仅供内部培训使用/,
      'the footnote block is kept (either width of colon)',
    );
  });
}
