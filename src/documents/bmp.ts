import { appError } from '../errors/app-error.js';
import type { GreyImage } from './raster.js';

/**
 * BMP, every variant Pillow's BmpImagePlugin reads (the seeds decoded uploads with Pillow):
 * OS/2 1.x (12-byte) and 2.x headers, BITMAPINFOHEADER and its V2-V5 successors; 1, 4, 8,
 * 16, 24 and 32 bits; BI_RGB, BI_RLE8, BI_RLE4, BI_BITFIELDS and BI_ALPHABITFIELDS; bottom-up
 * and top-down rows. libvips (sharp) has no BMP loader, so this decodes to grey itself. No
 * npm decoder handled RLE and 1-bit files correctly (bmp-ts 1.0.9 was checked: wrong pixels).
 */

const compressions = { rgb: 0, rle8: 1, rle4: 2, bitfields: 3, alphaBitfields: 6 } as const;

/** What the BMP header says; read before decoding so the pixel limit applies first. */
export interface BmpHeader {
  width: number;
  height: number;
  bitsPerPixel: number;
  compression: number;
  topDown: boolean;
  pixelOffset: number;
  paletteOffset: number;
  /** Palette entries to read (bounded to 256). */
  paletteSize: number;
  /** Bytes per palette entry: 3 in OS/2 1.x files, else 4. */
  paletteEntryBytes: number;
  /** Channel masks for 16- and 32-bit pixels (alpha 0 when there is none). */
  masks: { red: number; green: number; blue: number; alpha: number };
}

const defaultMasks: Record<number, BmpHeader['masks']> = {
  16: { red: 0x7c00, green: 0x03e0, blue: 0x001f, alpha: 0 },
  32: { red: 0xff0000, green: 0xff00, blue: 0xff, alpha: 0 },
};

export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  if (bytes.length < 26)
    throw appError('corrupt_document', 'BMP file is truncated: its header is incomplete', {
      received: `${bytes.length} bytes`,
    });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dibSize = view.getUint32(14, true);
  const core = dibSize === 12;
  if (!core && (dibSize < 16 || 14 + Math.min(dibSize, 40) > bytes.length)) {
    throw appError('corrupt_document', `BMP header is truncated or unknown (DIB header of ${dibSize} bytes)`, {
      received: `${bytes.length} bytes`,
    });
  }
  const width = core ? view.getUint16(18, true) : view.getInt32(18, true);
  const rawHeight = core ? view.getInt16(20, true) : view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(core ? 24 : 28, true);
  const compression = core || dibSize < 20 ? 0 : view.getUint32(30, true);
  const colorsUsed = !core && dibSize >= 36 ? view.getUint32(46, true) : 0;
  // BITFIELDS masks: inside a V2+ header, or right after a 40-byte one (where the palette would start).
  const maskCount = compression === compressions.alphaBitfields ? 4 : 3;
  const masksAfterHeader =
    (compression === compressions.bitfields || compression === compressions.alphaBitfields) && dibSize === 40
      ? maskCount * 4
      : 0;
  let masks = defaultMasks[bitsPerPixel] ?? { red: 0, green: 0, blue: 0, alpha: 0 };
  if (compression === compressions.bitfields || compression === compressions.alphaBitfields) {
    if (54 + maskCount * 4 > bytes.length)
      throw appError('corrupt_document', 'BMP file is truncated: its colour masks are missing');
    const alpha = maskCount === 4 || dibSize >= 56 ? view.getUint32(66, true) : 0;
    masks = { red: view.getUint32(54, true), green: view.getUint32(58, true), blue: view.getUint32(62, true), alpha };
  } else if (bitsPerPixel === 32 && dibSize >= 56 && 70 <= bytes.length) {
    // A V3+ header may carry an alpha mask for BI_RGB 32-bit pixels.
    masks = { ...masks, alpha: view.getUint32(66, true) };
  }
  const paletteOffset = 14 + dibSize + masksAfterHeader;
  const paletteEntryBytes = core ? 3 : 4;
  const wanted = bitsPerPixel <= 8 ? Math.min(colorsUsed || 1 << bitsPerPixel, 1 << bitsPerPixel) : 0;
  const available = Math.max(
    0,
    Math.floor((Math.min(view.getUint32(10, true), bytes.length) - paletteOffset) / paletteEntryBytes),
  );
  return {
    width,
    height: Math.abs(rawHeight),
    bitsPerPixel,
    compression,
    topDown: rawHeight < 0,
    pixelOffset: view.getUint32(10, true),
    paletteOffset,
    paletteSize: Math.min(wanted, available),
    paletteEntryBytes,
    masks,
  };
}

const grey = (r: number, g: number, b: number): number => Math.round(0.299 * r + 0.587 * g + 0.114 * b);

/** A channel of a packed pixel, scaled to 0-255 whatever its width (5, 6, 8, 10 bits…). */
function channel(mask: number): (pixel: number) => number {
  if (mask === 0) return () => 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  return (pixel) => Math.round((((pixel & mask) >>> shift) * 255) / max);
}

function unsupported(h: BmpHeader): Error {
  return appError(
    'unsupported_media_type',
    `BMP with ${h.bitsPerPixel} bits per pixel and compression ${h.compression} is not supported (JPEG- or PNG-in-BMP, or an unknown variant); convert it to PNG`,
    {
      allowed: '1/4/8/16/24/32-bit BMP, uncompressed, RLE4, RLE8 or bitfields',
    },
  );
}

/**
 * Run-length pixels (BI_RLE8 / BI_RLE4) into palette indexes, bottom row first as the format
 * stores them. Pixels a delta skips stay index 0; a stream that ends early leaves the rest
 * at 0, as Pillow does with what it could read.
 */
function decodeRle(bytes: Uint8Array, h: BmpHeader): Uint8Array {
  const indexes = new Uint8Array(h.width * h.height);
  const four = h.compression === compressions.rle4;
  let at = h.pixelOffset;
  let x = 0;
  let y = 0;
  const put = (value: number): void => {
    if (x < h.width && y < h.height) indexes[(h.topDown ? y : h.height - 1 - y) * h.width + x] = value;
    x++;
  };
  while (at + 1 < bytes.length && y < h.height) {
    const count = bytes[at]!;
    const value = bytes[at + 1]!;
    at += 2;
    if (count > 0) {
      for (let i = 0; i < count; i++) put(four ? (i % 2 === 0 ? value >> 4 : value & 15) : value);
      continue;
    }
    if (value === 0) {
      x = 0;
      y++;
    } else if (value === 1) break;
    else if (value === 2) {
      x += bytes[at] ?? 0;
      y += bytes[at + 1] ?? 0;
      at += 2;
    } else {
      // Absolute mode: `value` pixels as they are, padded to a 16-bit boundary.
      const length = four ? Math.ceil(value / 2) : value;
      for (let i = 0; i < value; i++) {
        const byte = bytes[at + (four ? i >> 1 : i)] ?? 0;
        put(four ? (i % 2 === 0 ? byte >> 4 : byte & 15) : byte);
      }
      at += length + (length % 2);
    }
  }
  return indexes;
}

/** Decodes any BMP Pillow reads to grey (alpha, when there is any, over white). */
export function decodeBmp(bytes: Uint8Array): GreyImage {
  const h = readBmpHeader(bytes);
  if (h.width <= 0 || h.height <= 0)
    throw appError('corrupt_document', `BMP has impossible dimensions ${h.width}x${h.height}`);
  const rle = h.compression === compressions.rle8 || h.compression === compressions.rle4;
  const bitfields = h.compression === compressions.bitfields || h.compression === compressions.alphaBitfields;
  const fits =
    (h.compression === compressions.rgb && [1, 2, 4, 8, 16, 24, 32].includes(h.bitsPerPixel)) ||
    (h.compression === compressions.rle8 && h.bitsPerPixel === 8) ||
    (h.compression === compressions.rle4 && h.bitsPerPixel === 4) ||
    (bitfields && (h.bitsPerPixel === 16 || h.bitsPerPixel === 32));
  if (!fits) throw unsupported(h);
  const palette = new Uint8Array(256);
  for (let i = 0; i < h.paletteSize; i++) {
    const at = h.paletteOffset + i * h.paletteEntryBytes;
    palette[i] = grey(bytes[at + 2]!, bytes[at + 1]!, bytes[at]!);
  }
  const out = new Uint8Array(h.width * h.height);
  if (rle) {
    const indexes = decodeRle(bytes, h);
    for (let i = 0; i < out.length; i++) out[i] = palette[indexes[i]!]!;
    return { width: h.width, height: h.height, data: out };
  }
  const stride = Math.ceil((h.width * h.bitsPerPixel) / 32) * 4;
  if (h.pixelOffset + stride * h.height > bytes.length)
    throw appError('corrupt_document', 'BMP file is truncated: pixel data ends early');
  const [red, green, blue, alpha] = [
    channel(h.masks.red),
    channel(h.masks.green),
    channel(h.masks.blue),
    channel(h.masks.alpha),
  ];
  // Many writers declare an alpha mask and leave it all zero: then it means nothing.
  let alphaUsed = false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let pass = 0; pass < 2; pass++) {
    for (let row = 0; row < h.height; row++) {
      const src = h.pixelOffset + (h.topDown ? row : h.height - 1 - row) * stride;
      const dst = row * h.width;
      for (let x = 0; x < h.width; x++) {
        if (h.bitsPerPixel === 24) {
          const at = src + x * 3;
          out[dst + x] = grey(bytes[at + 2]!, bytes[at + 1]!, bytes[at]!);
        } else if (h.bitsPerPixel === 16 || h.bitsPerPixel === 32) {
          const pixel = h.bitsPerPixel === 16 ? view.getUint16(src + x * 2, true) : view.getUint32(src + x * 4, true);
          const value = grey(red(pixel), green(pixel), blue(pixel));
          if (pass === 0) {
            if (h.masks.alpha && alpha(pixel) !== 0) alphaUsed = true;
            out[dst + x] = value;
          } else {
            const a = alpha(pixel) / 255;
            out[dst + x] = Math.round(value * a + 255 * (1 - a));
          }
        } else {
          const bit = x * h.bitsPerPixel;
          const byte = bytes[src + (bit >> 3)]!;
          out[dst + x] = palette[(byte >> (8 - h.bitsPerPixel - (bit & 7))) & ((1 << h.bitsPerPixel) - 1)]!;
        }
      }
    }
    if (!alphaUsed) break;
  }
  return { width: h.width, height: h.height, data: out };
}
