/** An 8-bit greyscale image: what every OCR engine is fed (smallest form, no re-encoding). */
export interface GreyImage {
  width: number;
  height: number;
  data: Uint8Array;
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

/** RGBA → grey, with Rec. 601 luma and alpha composited over white. */
export function rgbaToGrey(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): GreyImage {
  const data = new Uint8Array(width * height);
  for (let i = 0, p = 0; p < data.length; i += 4, p++) {
    const a = rgba[i + 3]! / 255;
    const luma = 0.299 * rgba[i]! + 0.587 * rgba[i + 1]! + 0.114 * rgba[i + 2]!;
    data[p] = Math.round(luma * a + 255 * (1 - a));
  }
  return { width, height, data };
}
