import { appError } from '../errors/app-error.js';
import type { GreyImage } from './raster.js';

/** What the BMP header says; read before decoding so the pixel limit applies first. */
export interface BmpHeader {
  width: number;
  height: number;
  bitsPerPixel: number;
  compression: number;
  topDown: boolean;
  pixelOffset: number;
  paletteOffset: number;
  paletteSize: number;
}

export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  if (bytes.length < 30) throw appError('corrupt_document', 'BMP file is truncated: its header is incomplete', { received: `${bytes.length} bytes` });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dibSize = view.getUint32(14, true);
  const core = dibSize === 12;
  const width = core ? view.getUint16(18, true) : view.getInt32(18, true);
  const rawHeight = core ? view.getInt16(20, true) : view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(core ? 24 : 28, true);
  const compression = core || bytes.length < 34 ? 0 : view.getUint32(30, true);
  const colorsUsed = !core && bytes.length >= 50 ? view.getUint32(46, true) : 0;
  return {
    width,
    height: Math.abs(rawHeight),
    bitsPerPixel,
    compression,
    topDown: rawHeight < 0,
    pixelOffset: view.getUint32(10, true),
    paletteOffset: 14 + dibSize,
    paletteSize: bitsPerPixel <= 8 ? colorsUsed || 1 << bitsPerPixel : 0,
  };
}

/**
 * Decodes uncompressed BMP (1, 4, 8, 24, 32 bits; BI_RGB or BI_BITFIELDS in the usual order) to grey.
 * libvips (sharp) has no BMP loader; RLE-compressed BMPs are rare and refused with a clear message.
 */
export function decodeBmp(bytes: Uint8Array): GreyImage {
  const h = readBmpHeader(bytes);
  if (h.width <= 0 || h.height <= 0) throw appError('corrupt_document', `BMP has impossible dimensions ${h.width}x${h.height}`);
  if (![0, 3].includes(h.compression) || ![1, 4, 8, 24, 32].includes(h.bitsPerPixel)) {
    throw appError('unsupported_media_type', `BMP with ${h.bitsPerPixel} bits per pixel and compression ${h.compression} is not supported; convert it to PNG`, { allowed: 'uncompressed 1/4/8/24/32-bit BMP' });
  }
  const stride = Math.ceil((h.width * h.bitsPerPixel) / 32) * 4;
  if (h.pixelOffset + stride * h.height > bytes.length) throw appError('corrupt_document', 'BMP file is truncated: pixel data ends early');
  const entry = h.paletteOffset + h.paletteSize * 4 <= bytes.length ? 4 : 3;
  const palette = new Uint8Array(h.paletteSize);
  for (let i = 0; i < h.paletteSize; i++) {
    const at = h.paletteOffset + i * entry;
    palette[i] = Math.round(0.114 * bytes[at]! + 0.587 * bytes[at + 1]! + 0.299 * bytes[at + 2]!);
  }
  const out = new Uint8Array(h.width * h.height);
  for (let row = 0; row < h.height; row++) {
    const src = h.pixelOffset + (h.topDown ? row : h.height - 1 - row) * stride;
    const dst = row * h.width;
    for (let x = 0; x < h.width; x++) {
      if (h.bitsPerPixel >= 24) {
        const at = src + x * (h.bitsPerPixel / 8);
        out[dst + x] = Math.round(0.114 * bytes[at]! + 0.587 * bytes[at + 1]! + 0.299 * bytes[at + 2]!);
      } else {
        const bit = x * h.bitsPerPixel;
        const byte = bytes[src + (bit >> 3)]!;
        const index = (byte >> (8 - h.bitsPerPixel - (bit & 7))) & ((1 << h.bitsPerPixel) - 1);
        out[dst + x] = palette[index] ?? 0;
      }
    }
  }
  return { width: h.width, height: h.height, data: out };
}
