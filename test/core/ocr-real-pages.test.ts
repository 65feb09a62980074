/**
 * OCR defects seen on real pages (issue 21), on small committed pages cut from Debian's manual
 * pages (test/fixtures/pages/make-real-pages.sh): a large heading, a Russian page with Latin
 * words read with the ChatVLMLLM seed's `language=Russian`, and a grainy scan turned by 2°
 * that the native CLI alone reads as nothing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, multipart, type TestApp } from '../helpers/app.js';
import { needs } from '../helpers/system-parts.js';
import { withLatin } from '../../src/shared/languages.js';
import { analyzePage } from '../../src/documents/page-analysis.js';
import sharp from 'sharp';

const page = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/pages/${name}`, import.meta.url));
const fold = (s: string): string => s.replace(/\s+/g, ' ').trim();

let t: TestApp;
before(async () => {
  t = await buildTestApp();
});
after(() => t.close());

async function ocr(
  file: string,
  fields: Record<string, string>,
  url = '/api/v1/ocr?output=json',
): Promise<{ status: number; text: string; engine?: string; body: Record<string, unknown> }> {
  const form = multipart({ name: file, bytes: readFileSync(page(file)) }, fields);
  const res = await t.app.inject({ method: 'POST', url, ...form });
  const body = res.json() as Record<string, unknown> & { text?: string; pages?: Array<{ engine: string }> };
  return {
    status: res.statusCode,
    text: body.text ?? '',
    body,
    ...(body.pages?.[0] ? { engine: body.pages[0].engine } : {}),
  };
}

describe('mixed scripts', () => {
  test('a non-Latin language gets English added, unless asked exactly or its model reads Latin', () => {
    assert.deepEqual(withLatin(['rus']), ['rus', 'eng']);
    assert.deepEqual(withLatin(['rus'], true), ['rus']);
    assert.deepEqual(withLatin(['rus', 'fra']), ['rus', 'fra']);
    assert.deepEqual(withLatin(['fra']), ['fra']);
    assert.deepEqual(withLatin(['chi_sim']), ['chi_sim']);
  });

  test(
    'ChatVLMLLM /ocr with language=Russian reads the Russian and the Latin words of ls(1)',
    needs('tesseract-rus'),
    async () => {
      const { status, body } = await ocr('ru-mixed-scripts.png', { model: 'qwen3_vl_2b', language: 'Russian' }, '/ocr');
      assert.equal(status, 200, JSON.stringify(body));
      const text = fold(String(body.text));
      assert.match(text, /выводит список содержимого каталога/);
      // Read by the Cyrillic model alone these come out as "езсаре", "а110$1-аП", "ЫосК-$17е".
      for (const word of ['escape', 'almost-all', 'block-size'])
        assert.ok(text.includes(word), `"${word}" missing from: ${text.slice(0, 400)}`);
      assert.equal(body.language, 'Russian');
    },
  );

  test('exact_languages=true reads with the one language asked for', needs('tesseract-rus'), async () => {
    const { status, body } = await ocr('ru-mixed-scripts.png', { languages: 'rus', exact_languages: 'true' });
    assert.equal(status, 200);
    assert.deepEqual(body.languages, ['rus']);
  });
});

describe('large headings', () => {
  const heading = readFileSync(page('heading-ru.txt'), 'utf8').trim();
  for (const engine of ['auto', 'tesseract-js', 'tesseract-cli'] as const) {
    test(`${engine} keeps a 34 pt heading above 10 pt text`, needs('tesseract-rus'), async () => {
      const { status, text, body } = await ocr('heading-ru.png', { languages: 'rus', engine });
      assert.equal(status, 200, JSON.stringify(body));
      assert.ok(fold(text).includes(heading), `"${heading}" missing from: ${fold(text).slice(0, 300)}`);
      assert.match(fold(text), /The passwd command changes passwords/);
    });
  }
});

describe('a grainy scan turned by 2 degrees', () => {
  test('the page analysis sees its text and its skew', async () => {
    const { data, info } = await sharp(page('noisy-rotated-fr.jpg'))
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const analysis = analyzePage({ width: info.width, height: info.height, data: new Uint8Array(data) });
    assert.equal(analysis.hasText, true);
    assert.ok(Math.abs(analysis.skew - 2) <= 0.5, `skew ${analysis.skew}`);
  });

  test(
    'the native CLI by itself reads nothing on it (what the engines must do better)',
    needs('tesseract'),
    async () => {
      const { stdout } = await promisify(execFile)('tesseract', [page('noisy-rotated-fr.jpg'), 'stdout', '-l', 'fra'], {
        timeout: 120_000,
      });
      assert.equal(stdout.trim(), '');
    },
  );

  for (const [engine, languages] of [
    ['auto', 'fra'],
    ['tesseract-js', 'fra'],
    ['tesseract-cli', 'fra'],
    ['paddle', 'eng'],
  ] as const) {
    test(
      `${engine} reads its text (never an empty answer)`,
      engine === 'tesseract-cli' ? needs('tesseract') : {},
      async () => {
        const { status, text, body } = await ocr('noisy-rotated-fr.jpg', { languages, engine });
        assert.equal(status, 200, JSON.stringify(body));
        assert.match(text, /Afficher le contenu de r.pertoires/);
        assert.match(text, /SYNOPSIS/);
      },
    );
  }
});
