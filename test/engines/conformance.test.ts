/**
 * One conformance suite every embedded OCR engine passes: real pages, real models.
 * An engine whose binary or models are not installed is reported, and its own
 * "not available" behaviour is what gets checked instead.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { PaddleEngine } from '../../src/engines/paddle/paddle-engine.js';
import type { OcrEngine } from '../../src/engines/ocr-spec.js';
import { TesseractCliEngine } from '../../src/engines/tesseract-cli/tesseract-cli-engine.js';
import { TesseractJsEngine } from '../../src/engines/tesseract-js/tesseract-js-engine.js';
import type { GreyImage } from '../../src/documents/raster.js';
import { characterErrorRate } from '../helpers/cer.js';
import { renderPage } from '../fixtures/pages.js';
import { needs } from '../helpers/system-parts.js';

const english = [
  'The quick brown fox jumps over the lazy dog.',
  'Invoice 2024-117 totals 1,234.56 EUR before tax.',
  'Please reply by Friday, 14 March.',
];

async function grey(png: Buffer): Promise<GreyImage> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

const engines: OcrEngine[] = [
  new TesseractJsEngine({ workers: 1 }),
  new TesseractCliEngine({ binary: 'tesseract', workers: 1 }),
  new PaddleEngine({ workers: 1 }),
];
after(() => Promise.all(engines.map((e) => e.unload())));

for (const engine of engines) {
  describe(`OCR engine conformance: ${engine.name}`, async () => {
    const status = await engine.status();

    test('status is well-formed', () => {
      assert.equal(status.name, engine.name);
      assert.ok(status.concurrency >= 1);
      if (status.available) assert.ok(status.languages.includes('eng'), 'every engine reads English');
      else assert.ok(status.reason && status.reason.length > 5, 'an unavailable engine says why');
    });

    if (engine.name === 'tesseract-cli') {
      test('the native binary is installed', needs('tesseract'), () => assert.ok(status.available, status.reason));
    }

    if (!status.available) {
      test('an unavailable engine refuses with engine_unavailable', async () => {
        const page = await grey(await renderPage({ lines: ['x'] }));
        await assert.rejects(
          engine.recognize(page, { languages: ['eng'] }),
          (e: { code?: string }) => e.code === 'engine_unavailable',
        );
      });
      return;
    }

    test('reads a clean English page at CER ≤ 2%, with words, boxes and confidences', async () => {
      const page = await grey(await renderPage({ lines: english }));
      const read = await engine.recognize(page, { languages: ['eng'] });
      const text = read.lines.map((l) => l.text).join('\n');
      const cer = characterErrorRate(english.join('\n'), text);
      assert.ok(cer <= 0.02, `CER ${cer.toFixed(3)} for ${JSON.stringify(text)}`);
      assert.equal(read.lines.length, english.length);
      const words = read.lines.flatMap((l) => l.words);
      assert.ok(words.length >= 20);
      for (const w of words) {
        const [x0, y0, x1, y1] = w.bbox;
        assert.ok(
          x0 >= 0 && y0 >= 0 && x1 <= page.width && y1 <= page.height && x1 > x0 && y1 > y0,
          `bbox of "${w.text}" inside the page`,
        );
        assert.ok(w.confidence >= 0 && w.confidence <= 1);
      }
      // Boxes follow the text: "quick" is right of "The", line 2 is below line 1.
      const the = words.find((w) => w.text === 'The')!;
      const quick = words.find((w) => w.text === 'quick')!;
      assert.ok(quick.bbox[0] > the.bbox[2]);
      assert.ok(read.lines[1]!.bbox[1] > read.lines[0]!.bbox[3]);
    });

    test('an empty page gives no lines', async () => {
      const blank = await grey(
        await sharp({ create: { width: 800, height: 600, channels: 3, background: '#fff' } })
          .png()
          .toBuffer(),
      );
      const read = await engine.recognize(blank, { languages: ['eng'] });
      assert.equal(read.lines.filter((l) => l.text.trim()).length, 0);
    });

    test('a language it lacks is refused with unsupported_language', async () => {
      const page = await grey(await renderPage({ lines: ['x'] }));
      await assert.rejects(
        engine.recognize(page, { languages: ['xyz'] }),
        (e: { code?: string }) => e.code === 'unsupported_language',
      );
    });

    test('an aborted request does not run', async () => {
      const page = await grey(await renderPage({ lines: english }));
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(engine.recognize(page, { languages: ['eng'] }, controller.signal));
    });

    test('unload frees it, and it loads again on next use', async () => {
      await engine.unload();
      const page = await grey(await renderPage({ lines: ['Reloaded after unload'] }));
      const read = await engine.recognize(page, { languages: ['eng'] });
      assert.match(read.lines.map((l) => l.text).join(' '), /Reloaded after unload/);
    });
  });
}
