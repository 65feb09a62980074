/**
 * The native engine's long-lived processes: pages read one after another by one process each
 * come back with their own text (never a neighbour's), an aborted page takes its process down
 * and the next page gets a fresh one, and no scratch file outlives the pages in flight.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import type { GreyImage } from '../../src/documents/raster.js';
import { TesseractProcessPool } from '../../src/engines/tesseract-cli/tesseract-process.js';
import { linesFromTsv } from '../../src/engines/tesseract-cli/tsv.js';
import { renderPage } from '../fixtures/pages.js';
import { needs } from '../helpers/system-parts.js';

async function page(text: string): Promise<GreyImage> {
  const png = await renderPage({ lines: [text], fontSize: 36, width: 900 });
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

const read = async (pool: TesseractProcessPool, image: GreyImage, signal?: AbortSignal): Promise<string> =>
  linesFromTsv(`header\n${await pool.read(image, ['-l', 'eng', '--oem', '1', '--psm', '6'], signal)}`)
    .map((l) => l.text)
    .join(' ');

describe('tesseract processes kept across pages', needs('tesseract'), () => {
  const pool = new TesseractProcessPool('tesseract', 2);
  after(() => pool.close());

  test('each page comes back with its own text, in sequence and two at a time', async () => {
    const words = ['Invoice alpha is paid', 'Invoice bravo is open', 'Invoice charlie is late'];
    const images = await Promise.all(words.map(page));
    for (const [i, image] of images.entries()) assert.equal(await read(pool, image), words[i]);
    // Two in flight (two processes), then again (the same processes, reused).
    for (let round = 0; round < 2; round++) {
      const texts = await Promise.all([read(pool, images[2]!), read(pool, images[0]!)]);
      assert.deepEqual(texts, [words[2], words[0]]);
    }
  });

  test('an aborted page rejects and kills its process; the next page reads normally', async () => {
    const image = await page('Shipment forty two left the dock');
    const controller = new AbortController();
    const reading = read(pool, image, controller.signal);
    setTimeout(() => controller.abort(), 5);
    await assert.rejects(reading, /cancelled/);
    assert.equal(await read(pool, image), 'Shipment forty two left the dock');
  });

  test('no scratch file is left between pages, and a process kept alive reads the next page', async () => {
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('visiongate-tesseract-')).length;
    const image = await page('Invoice delta is paid');
    assert.equal(await read(pool, image), 'Invoice delta is paid');
    assert.equal(readdirSync(tmpdir()).filter((f) => f.startsWith('visiongate-tesseract-')).length, before);
    assert.equal(await read(pool, image), 'Invoice delta is paid');
  });
});
