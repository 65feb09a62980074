import { crc32 } from 'node:zlib';

const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const textTypes = new Set(['tEXt', 'iTXt', 'zTXt']);

export interface PngChunk {
  type: string;
  data: Buffer;
}

export const isPng = (bytes: Buffer): boolean => bytes.length > 8 && bytes.subarray(0, 8).equals(signature);

/** The chunks of a PNG, in order; throws on a truncated file or a bad CRC. */
export function pngChunks(png: Buffer): PngChunk[] {
  if (!isPng(png)) throw new Error('not a PNG');
  const chunks: PngChunk[] = [];
  for (let at = 8; at < png.length; ) {
    if (at + 12 > png.length) throw new Error('truncated PNG chunk');
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const end = at + 12 + length;
    if (end > png.length) throw new Error(`truncated PNG chunk ${type}`);
    const data = png.subarray(at + 8, at + 8 + length);
    if (crc32(png.subarray(at + 4, at + 8 + length)) !== png.readUInt32BE(at + 8 + length))
      throw new Error(`bad CRC in PNG chunk ${type}`);
    chunks.push({ type, data });
    at = end;
    if (type === 'IEND') break;
  }
  return chunks;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** tEXt when the text is Latin-1, else iTXt (UTF-8), as the PNG spec asks. */
function textChunk(keyword: string, text: string): Buffer {
  const latin1 = Buffer.from(text, 'latin1').toString('latin1') === text;
  if (latin1) return chunk('tEXt', Buffer.concat([Buffer.from(`${keyword}\0`, 'latin1'), Buffer.from(text, 'latin1')]));
  // keyword, NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, UTF-8 text
  return chunk('iTXt', Buffer.concat([Buffer.from(`${keyword}\0\0\0\0\0`, 'latin1'), Buffer.from(text, 'utf8')]));
}

/** Text chunks (tEXt, iTXt) as keyword → text. */
export function pngText(png: Buffer): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const { type, data } of pngChunks(png)) {
    const nul = data.indexOf(0);
    if (nul < 0) continue;
    const keyword = data.toString('latin1', 0, nul);
    if (type === 'tEXt') texts[keyword] = data.toString('latin1', nul + 1);
    if (type === 'iTXt' && data[nul + 1] === 0) {
      const language = data.indexOf(0, nul + 3);
      const translated = data.indexOf(0, language + 1);
      texts[keyword] = data.toString('utf8', translated + 1);
    }
  }
  return texts;
}

/**
 * The same PNG (pixels and other chunks untouched) with `texts` as text chunks right after
 * the header; text chunks of the same keywords the backend wrote are replaced.
 */
export function withText(png: Buffer, texts: Record<string, string>): Buffer {
  const keep = pngChunks(png).filter(
    ({ type, data }) =>
      !(textTypes.has(type) && data.indexOf(0) > 0 && data.toString('latin1', 0, data.indexOf(0)) in texts),
  );
  const parts: Buffer[] = [signature];
  for (const { type, data } of keep) {
    parts.push(chunk(type, data));
    if (type === 'IHDR') for (const [keyword, text] of Object.entries(texts)) parts.push(textChunk(keyword, text));
  }
  return Buffer.concat(parts);
}
