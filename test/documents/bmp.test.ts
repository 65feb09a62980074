/**
 * Every BMP variant Pillow's BmpImagePlugin decodes (the seeds read uploads with Pillow):
 * 1/4/8/16/24/32 bits, RLE4/RLE8, bitfields (565, 555, 32-bit with alpha), top-down rows,
 * OS/2 1.x and V4/V5 headers. The files are written here, byte by byte, from the format's
 * layout; ImageMagick cross-checks the same files when it is installed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { decodeBmp } from '../../src/documents/bmp.js';
import { buildTestApp } from '../helpers/app.js';
import { needs } from '../helpers/system-parts.js';
import { renderPage } from '../fixtures/pages.js';

type Rgb = [number, number, number];
const luma = ([r, g, b]: Rgb): number => Math.round(0.299 * r + 0.587 * g + 0.114 * b);
const width = 7;
const height = 5;

interface BmpSpec {
  header: 12 | 40 | 108 | 124;
  bitsPerPixel: number;
  compression?: number;
  palette?: Rgb[];
  masks?: number[];
  topDown?: boolean;
  /** Pixel data as stored (rows already in file order, padded; or an RLE stream). */
  pixels: Buffer;
  width?: number;
  height?: number;
}

/** A BMP file from its parts: file header, DIB header, masks (after a 40-byte header), palette, pixels. */
function writeBmp(spec: BmpSpec): Buffer {
  const w = spec.width ?? width;
  const h = spec.height ?? height;
  const core = spec.header === 12;
  const dib = Buffer.alloc(spec.header);
  dib.writeUInt32LE(spec.header, 0);
  if (core) {
    dib.writeUInt16LE(w, 4);
    dib.writeInt16LE(h, 6);
    dib.writeUInt16LE(1, 8);
    dib.writeUInt16LE(spec.bitsPerPixel, 10);
  } else {
    dib.writeInt32LE(w, 4);
    dib.writeInt32LE(spec.topDown ? -h : h, 8);
    dib.writeUInt16LE(1, 12);
    dib.writeUInt16LE(spec.bitsPerPixel, 14);
    dib.writeUInt32LE(spec.compression ?? 0, 16);
    dib.writeUInt32LE(spec.pixels.length, 20);
    dib.writeUInt32LE(spec.palette?.length ?? 0, 32);
    if (spec.header > 40) for (const [i, m] of (spec.masks ?? []).entries()) dib.writeUInt32LE(m >>> 0, 40 + i * 4);
  }
  const masks =
    spec.header === 40 && spec.masks
      ? Buffer.concat(
          spec.masks.map((m) => {
            const b = Buffer.alloc(4);
            b.writeUInt32LE(m >>> 0);
            return b;
          }),
        )
      : Buffer.alloc(0);
  const palette = Buffer.concat((spec.palette ?? []).map(([r, g, b]) => Buffer.from(core ? [b, g, r] : [b, g, r, 0])));
  const offset = 14 + dib.length + masks.length + palette.length;
  const file = Buffer.alloc(14);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(offset + spec.pixels.length, 2);
  file.writeUInt32LE(offset, 10);
  return Buffer.concat([file, dib, masks, palette, spec.pixels]);
}

/** Rows in file order (bottom-up unless top-down), each padded to 4 bytes. */
function rows(
  bitsPerPixel: number,
  value: (x: number, y: number) => number,
  topDown = false,
  w = width,
  h = height,
): Buffer {
  const stride = Math.ceil((w * bitsPerPixel) / 32) * 4;
  const out = Buffer.alloc(stride * h);
  for (let fileRow = 0; fileRow < h; fileRow++) {
    const y = topDown ? fileRow : h - 1 - fileRow;
    for (let x = 0; x < w; x++) {
      const v = value(x, y);
      const at = fileRow * stride;
      if (bitsPerPixel < 8) {
        const bit = x * bitsPerPixel;
        out[at + (bit >> 3)]! |= v << (8 - bitsPerPixel - (bit & 7));
      } else if (bitsPerPixel === 8) out[at + x] = v;
      else if (bitsPerPixel === 16) out.writeUInt16LE(v, at + x * 2);
      else if (bitsPerPixel === 24) out.writeUIntLE(v, at + x * 3, 3);
      else out.writeUInt32LE(v >>> 0, at + x * 4);
    }
  }
  return out;
}

/** Palette index of each pixel in the test images. */
const indexOf =
  (levels: number) =>
  (x: number, y: number): number =>
    (x * 3 + y * 5) % levels;
const palette = (levels: number): Rgb[] =>
  Array.from({ length: levels }, (_, i) => [(i * 37) % 256, 255 - ((i * 53) % 256), (i * 91) % 256]);

function expectPalette(levels: number, w = width, h = height): number[] {
  const colours = palette(levels);
  return Array.from({ length: w * h }, (_, p) => luma(colours[indexOf(levels)(p % w, Math.floor(p / w))]!));
}

/**
 * RLE rows (bottom-up): each row a run of its first pixel repeated 3 times, then the rest in
 * absolute mode, then end-of-line; end-of-bitmap at the close. For RLE4 a run of 3 holds the
 * first pixel twice and the second once (runs alternate two nibbles), so rows start [a, b, a].
 */
function rle(four: boolean, value: (x: number, y: number) => number): Buffer {
  const out: number[] = [];
  for (let fileRow = 0; fileRow < height; fileRow++) {
    const y = height - 1 - fileRow;
    const row = Array.from({ length: width }, (_, x) => value(x, y));
    if (four) out.push(3, (row[0]! << 4) | row[1]!);
    else out.push(3, row[0]!);
    const rest = row.slice(3);
    out.push(0, rest.length);
    // RLE4 packs two pixels a byte, high nibble first.
    const bytes = four ? rest.flatMap((v, i) => (i % 2 === 0 ? [(v << 4) | (rest[i + 1] ?? 0)] : [])) : rest;
    out.push(...bytes);
    if (bytes.length % 2) out.push(0);
    out.push(0, 0);
  }
  out.push(0, 1);
  return Buffer.from(out);
}

const grey = (bmp: Buffer): number[] => [...decodeBmp(bmp).data];

const files: Record<string, { bmp: Buffer; expected: number[] }> = {};

describe('BMP variants decode to the right grey pixels', () => {
  test('1-bit, 4-bit and 8-bit palettes (BITMAPINFOHEADER), coloured palette entries', () => {
    for (const bits of [1, 4, 8]) {
      const levels = 1 << Math.min(bits, 4);
      const bmp = writeBmp({
        header: 40,
        bitsPerPixel: bits,
        palette: palette(levels),
        pixels: rows(bits, indexOf(levels)),
      });
      files[`${bits}-bit`] = { bmp, expected: expectPalette(levels) };
      assert.deepEqual(grey(bmp), expectPalette(levels), `${bits}-bit`);
    }
  });

  test('RLE8 (what ImageMagick writes with -compress RLE) and RLE4', () => {
    const rle8 = writeBmp({
      header: 40,
      bitsPerPixel: 8,
      compression: 1,
      palette: palette(16),
      pixels: rle(false, indexOf(16)),
    });
    const expected8 = expectPalette(16).map((v, p) => (p % width < 3 ? expectPalette(16)[p - (p % width)]! : v));
    files.rle8 = { bmp: rle8, expected: expected8 };
    assert.deepEqual(grey(rle8), expected8);
    const rle4 = writeBmp({
      header: 40,
      bitsPerPixel: 4,
      compression: 2,
      palette: palette(16),
      pixels: rle(true, indexOf(16)),
    });
    const base = expectPalette(16);
    const expected4 = base.map((v, p) => {
      const x = p % width;
      const start = p - x;
      return x === 0 || x === 2 ? base[start]! : x === 1 ? base[start + 1]! : v;
    });
    files.rle4 = { bmp: rle4, expected: expected4 };
    assert.deepEqual(grey(rle4), expected4);
  });

  test('RLE8 delta escapes skip pixels (left at index 0) and a stream without end-of-bitmap is taken as far as it goes', () => {
    // Row 0: 2 pixels of index 1, delta (+3, +1), 1 pixel of index 2 at (5, 1); then the data ends.
    const stream = Buffer.from([2, 1, 0, 2, 3, 1, 1, 2]);
    const colours: Rgb[] = [
      [255, 255, 255],
      [0, 0, 0],
      [100, 100, 100],
    ];
    const out = grey(writeBmp({ header: 40, bitsPerPixel: 8, compression: 1, palette: colours, pixels: stream }));
    const at = (x: number, yFromBottom: number): number => out[(height - 1 - yFromBottom) * width + x]!;
    assert.equal(at(0, 0), 0);
    assert.equal(at(1, 0), 0);
    assert.equal(at(2, 0), 255);
    assert.equal(at(5, 1), 100);
    assert.equal(at(4, 1), 255);
  });

  test('16-bit: BI_RGB (5-5-5) and BI_BITFIELDS 5-6-5', () => {
    const colour = (x: number, y: number): Rgb => [(x * 36) % 256, (y * 60) % 256, ((x + y) * 23) % 256];
    const pack555 = (x: number, y: number): number => {
      const [r, g, b] = colour(x, y);
      return ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
    };
    const pack565 = (x: number, y: number): number => {
      const [r, g, b] = colour(x, y);
      return ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3);
    };
    const expect = (r: (v: number) => number, g: (v: number) => number, b: (v: number) => number): number[] =>
      Array.from({ length: width * height }, (_, p) => {
        const [cr, cg, cb] = colour(p % width, Math.floor(p / width));
        return luma([r(cr), g(cg), b(cb)]);
      });
    const five = (v: number): number => Math.round(((v >> 3) * 255) / 31);
    const six = (v: number): number => Math.round(((v >> 2) * 255) / 63);
    const b555 = writeBmp({ header: 40, bitsPerPixel: 16, pixels: rows(16, pack555) });
    files['16-bit 555'] = { bmp: b555, expected: expect(five, five, five) };
    assert.deepEqual(grey(b555), expect(five, five, five));
    const b565 = writeBmp({
      header: 40,
      bitsPerPixel: 16,
      compression: 3,
      masks: [0xf800, 0x07e0, 0x001f],
      pixels: rows(16, pack565),
    });
    files['16-bit 565'] = { bmp: b565, expected: expect(five, six, five) };
    assert.deepEqual(grey(b565), expect(five, six, five));
  });

  test('24-bit, and 32-bit BI_RGB; bitfields in another channel order (V4 header)', () => {
    const colour = (x: number, y: number): Rgb => [(x * 40) % 256, (y * 50) % 256, 200 - x * 10];
    const expected = Array.from({ length: width * height }, (_, p) => luma(colour(p % width, Math.floor(p / width))));
    const bgr = (x: number, y: number): number => {
      const [r, g, b] = colour(x, y);
      return (r << 16) | (g << 8) | b;
    };
    const b24 = writeBmp({ header: 40, bitsPerPixel: 24, pixels: rows(24, bgr) });
    files['24-bit'] = { bmp: b24, expected };
    assert.deepEqual(grey(b24), expected);
    const b32 = writeBmp({ header: 40, bitsPerPixel: 32, pixels: rows(32, bgr) });
    files['32-bit'] = { bmp: b32, expected };
    assert.deepEqual(grey(b32), expected);
    // Red in the low byte, blue high: only the masks say so.
    const rgbx = (x: number, y: number): number => {
      const [r, g, b] = colour(x, y);
      return r | (g << 8) | (b << 16);
    };
    const v4 = writeBmp({
      header: 108,
      bitsPerPixel: 32,
      compression: 3,
      masks: [0xff, 0xff00, 0xff0000, 0],
      pixels: rows(32, rgbx),
    });
    files['32-bit bitfields V4'] = { bmp: v4, expected };
    assert.deepEqual(grey(v4), expected);
  });

  test('32-bit with alpha (V5): composited over white; an all-zero alpha channel is ignored', () => {
    const pixel = (x: number): number => ((x % 2 ? 0 : 255) << 24) | 0x000000; // black, opaque or transparent
    const out = grey(
      writeBmp({
        header: 124,
        bitsPerPixel: 32,
        compression: 3,
        masks: [0xff0000, 0xff00, 0xff, 0xff000000],
        pixels: rows(32, (x) => pixel(x)),
      }),
    );
    assert.deepEqual(out.slice(0, width), [0, 255, 0, 255, 0, 255, 0]);
    const unused = grey(
      writeBmp({
        header: 124,
        bitsPerPixel: 32,
        compression: 3,
        masks: [0xff0000, 0xff00, 0xff, 0xff000000],
        pixels: rows(32, () => 0x404040),
      }),
    );
    assert.ok(
      unused.every((v) => v === 64),
      'alpha mask present but every alpha 0: the colours count',
    );
  });

  test('top-down rows (negative height) and the OS/2 1.x header with 3-byte palette entries', () => {
    const topDown = writeBmp({
      header: 40,
      bitsPerPixel: 8,
      palette: palette(16),
      topDown: true,
      pixels: rows(8, indexOf(16), true),
    });
    files['top-down'] = { bmp: topDown, expected: expectPalette(16) };
    assert.deepEqual(grey(topDown), expectPalette(16));
    const os2 = writeBmp({ header: 12, bitsPerPixel: 8, palette: palette(256), pixels: rows(8, indexOf(256)) });
    files['OS/2 1.x'] = { bmp: os2, expected: expectPalette(256) };
    assert.deepEqual(grey(os2), expectPalette(256));
  });

  test('truncated pixels, impossible sizes and JPEG-in-BMP are clear errors', () => {
    const full = writeBmp({ header: 40, bitsPerPixel: 24, pixels: rows(24, () => 0) });
    assert.throws(() => decodeBmp(full.subarray(0, full.length - 10)), /truncated/);
    assert.throws(() => decodeBmp(full.subarray(0, 20)), /truncated/);
    assert.throws(
      () => decodeBmp(writeBmp({ header: 40, bitsPerPixel: 24, compression: 4, pixels: Buffer.alloc(8) })),
      (e: Error & { code?: string }) => e.code === 'unsupported_media_type',
    );
    assert.throws(
      () => decodeBmp(writeBmp({ header: 40, bitsPerPixel: 8, compression: 1, pixels: Buffer.alloc(0), width: 0 })),
      /impossible dimensions/,
    );
  });
});

describe('ImageMagick reads the same files the same way', needs('imagemagick'), () => {
  const dir = mkdtempSync(join(tmpdir(), 'vg-bmp-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  test('every variant above, pixel for pixel (±1 grey level)', () => {
    assert.ok(Object.keys(files).length >= 12, 'the variants were built');
    for (const [name, { bmp, expected }] of Object.entries(files)) {
      const path = join(dir, 'x.bmp');
      writeFileSync(path, bmp);
      const rgb = execFileSync('/usr/bin/convert', [path, '-depth', '8', 'rgb:-'], { timeout: 20_000 });
      const theirs = Array.from({ length: expected.length }, (_, p) =>
        luma([rgb[p * 3]!, rgb[p * 3 + 1]!, rgb[p * 3 + 2]!]),
      );
      const worst = Math.max(...theirs.map((v, p) => Math.abs(v - expected[p]!)));
      assert.ok(worst <= 1, `${name}: ImageMagick differs by ${worst}`);
    }
  });
});

test('an RLE8 scan (as ImageMagick writes with -compress RLE) is read by OCR, no longer refused', async () => {
  const page = await renderPage({ lines: ['Invoice number 4711', 'Total due: 250 EUR'] }, 'png');
  const { data, info } = await sharp(page).greyscale().raw().toBuffer({ resolveWithObject: true });
  // A 256-level grey palette; each row as runs of equal pixels (count ≤ 255), end-of-line, end-of-bitmap.
  const stream: number[] = [];
  for (let y = info.height - 1; y >= 0; y--) {
    let x = 0;
    while (x < info.width) {
      const v = data[y * info.width + x]!;
      let n = 1;
      while (n < 255 && x + n < info.width && data[y * info.width + x + n] === v) n++;
      stream.push(n, v);
      x += n;
    }
    stream.push(0, 0);
  }
  stream.push(0, 1);
  const bmp = writeBmp({
    header: 40,
    bitsPerPixel: 8,
    compression: 1,
    palette: Array.from({ length: 256 }, (_, i) => [i, i, i] as Rgb),
    pixels: Buffer.from(stream),
    width: info.width,
    height: info.height,
  });
  const t = await buildTestApp();
  try {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ocr?output=text',
      headers: { 'content-type': 'image/bmp' },
      payload: bmp,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.body, /Invoice number 4711/);
    assert.match(res.body, /Total due: 250 EUR/);
  } finally {
    await t.close();
  }
});
