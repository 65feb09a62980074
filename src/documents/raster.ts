/** An 8-bit greyscale image: what every OCR engine is fed (smallest form, no re-encoding). */
export interface GreyImage {
  width: number;
  height: number;
  data: Uint8Array;
  /**
   * Resolution in dots per inch when known (a PDF page's rendering, an image's own density):
   * Tesseract reads it instead of guessing from the text, and its guesses mislead its layout
   * analysis (a 300 dpi table page guessed at 450 lost most of its cells).
   */
  dpi?: number;
}

const pgmHeader = (width: number, height: number): Buffer => Buffer.from(`P5\n${width} ${height}\n255\n`, 'latin1');

/**
 * A blank grey image in shared memory, its PGM header written just before its pixels: it
 * crosses threads without a copy, and toPgm hands it to an engine without one either (a copy
 * of a 40 MP page costs the event loop a fifth of a second on a busy machine).
 */
export function sharedGreyImage(width: number, height: number): GreyImage {
  const header = pgmHeader(width, height);
  const memory = new SharedArrayBuffer(header.length + width * height);
  new Uint8Array(memory).set(header);
  return { width, height, data: new Uint8Array(memory, header.length, width * height) };
}

/**
 * Binary PGM (P5): the cheapest container Tesseract (CLI and WASM) reads directly. An image
 * made by sharedGreyImage is already one (a view of its memory is returned); others are copied.
 */
export function toPgm(image: GreyImage): Buffer {
  const header = pgmHeader(image.width, image.height);
  const { buffer, byteOffset, byteLength } = image.data;
  if (
    buffer instanceof SharedArrayBuffer &&
    byteOffset === header.length &&
    byteOffset + byteLength === buffer.byteLength
  )
    return Buffer.from(buffer);
  return Buffer.concat([header, image.data]);
}

/**
 * Uncompressed greyscale TIFF, one strip, with the image's resolution: as cheap as PGM (a
 * 174-byte header before the pixels) and the one such container that carries dpi to Tesseract
 * page by page (PGM has no field for it). PGM when the resolution is unknown.
 */
export function toTesseractImage(image: GreyImage): { bytes: Buffer; extension: 'tif' | 'pgm' } {
  if (!image.dpi) return { bytes: toPgm(image), extension: 'pgm' };
  const header = Buffer.alloc(174);
  header.write('II*\0', 0, 'latin1');
  header.writeUInt32LE(8, 4);
  const entries: Array<[tag: number, type: number, value: number]> = [
    [256, 4, image.width],
    [257, 4, image.height],
    [258, 3, 8], // bits per sample
    [259, 3, 1], // no compression
    [262, 3, 1], // black is zero
    [273, 4, 174], // the strip starts after this header
    [277, 3, 1], // samples per pixel
    [278, 4, image.height], // rows per strip
    [279, 4, image.width * image.height],
    [282, 5, 158], // x resolution (a rational, stored at 158)
    [283, 5, 166], // y resolution
    [296, 3, 2], // per inch
  ];
  header.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    header.writeUInt16LE(tag, at);
    header.writeUInt16LE(type, at + 2);
    header.writeUInt32LE(1, at + 4);
    if (type === 3) header.writeUInt16LE(value, at + 8);
    else header.writeUInt32LE(value, at + 8);
  });
  // Next IFD offset (0) sits at 154; then the two resolutions as dpi/1.
  for (const at of [158, 166]) {
    header.writeUInt32LE(Math.round(image.dpi), at);
    header.writeUInt32LE(1, at + 4);
  }
  return { bytes: Buffer.concat([header, image.data]), extension: 'tif' };
}

/**
 * RGBA → grey into `grey` (one byte per RGBA pixel), with Rec. 601 luma and alpha composited
 * over white. `premultiplied`: the colour is already multiplied by alpha (a canvas's own pixels).
 * Shortcuts give the formula's own result: an opaque pixel needs no compositing, and an opaque
 * grey one (r = g = b: nearly all of a page, its white and its black text) is its own luma.
 */
export function rgbaToGrey(rgba: Uint8Array | Uint8ClampedArray, grey: Uint8Array, premultiplied = false): void {
  for (let i = 0, p = 0; p < grey.length; i += 4, p++) {
    const r = rgba[i]!;
    const g = rgba[i + 1]!;
    const b = rgba[i + 2]!;
    const alpha = rgba[i + 3]!;
    if (alpha === 255 && r === g && g === b) {
      grey[p] = r;
      continue;
    }
    const luma = 0.299 * r + 0.587 * g + 0.114 * b;
    if (alpha === 255) grey[p] = Math.round(luma);
    else {
      const a = alpha / 255;
      grey[p] = Math.round((premultiplied ? luma : luma * a) + 255 * (1 - a));
    }
  }
}
