import { loadSharp } from '../shared/lazy-modules.js';
import type { GreyImage } from '../documents/raster.js';

export interface PagePreview {
  /** A PNG of the page, as a data: URL. */
  data_url: string;
  width: number;
  height: number;
}

/** Longest side of a preview; boxes stay in page pixels (scale by preview.width / page.width). */
const maxSide = 1600;

/** A small PNG of a page, for showing word boxes over it (encoded on libuv's threads by sharp). */
export async function pagePreview(image: GreyImage): Promise<PagePreview> {
  const scale = Math.min(1, maxSide / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const sharp = await loadSharp();
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 1 } })
    .resize(width, height)
    .png({ compressionLevel: 6, palette: false })
    .toBuffer();
  return { data_url: `data:image/png;base64,${png.toString('base64')}`, width, height };
}
