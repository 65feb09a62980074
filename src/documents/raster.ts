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

/** Binary PGM (P5): the cheapest container Tesseract (CLI and WASM) reads directly. */
export function toPgm(image: GreyImage): Buffer {
  const header = Buffer.from(`P5\n${image.width} ${image.height}\n255\n`, 'latin1');
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
