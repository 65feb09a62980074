/**
 * Puts a page image into the shape OCR reads best and fastest: straightened, median-filtered
 * when speckled, scaled to the text size the recogniser wants. sharp (libvips) does the
 * pixel work off the event loop; `unmap` takes boxes found on the prepared image back to the
 * page's own pixels.
 */
import { loadSharp } from '../shared/lazy-modules.js';
import type { GreyImage } from './raster.js';

export interface PrepSteps {
  /** Degrees to rotate (positive: clockwise); 0 for none. */
  rotate: number;
  /** Factor to resize by; 1 for none. */
  scale: number;
  /** Apply a 3×3 median filter (removes salt-and-pepper noise). */
  median: boolean;
}

export interface PreparedPage {
  image: GreyImage;
  /** Maps a point of the prepared image back to the original page. */
  unmap(x: number, y: number): [number, number];
}

export async function preparePage(image: GreyImage, steps: PrepSteps): Promise<PreparedPage> {
  if (steps.rotate === 0 && steps.scale === 1 && !steps.median) return { image, unmap: (x, y) => [x, y] };
  const sharp = await loadSharp();
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 1 } });
  if (steps.median) pipeline = pipeline.median(3);
  let width = image.width;
  let height = image.height;
  if (steps.rotate !== 0) {
    // rotate() does not chain with resize() in one pipeline; materialise the rotation first.
    const turned = await pipeline
      .rotate(steps.rotate, { background: { r: 255, g: 255, b: 255 } })
      .raw()
      .toBuffer({ resolveWithObject: true });
    pipeline = sharp(turned.data, {
      raw: { width: turned.info.width, height: turned.info.height, channels: turned.info.channels },
    });
    [width, height] = [turned.info.width, turned.info.height];
  }
  if (steps.scale !== 1)
    pipeline = pipeline.resize(
      Math.max(1, Math.round(width * steps.scale)),
      Math.max(1, Math.round(height * steps.scale)),
      { kernel: 'lanczos3' },
    );
  const { data, info } = await pipeline.extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  const out: GreyImage = {
    ...(image.dpi ? { dpi: Math.round(image.dpi * steps.scale) } : {}),
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
  // Undo the resize, then the rotation about the centres of the rotated and the original canvas.
  const turnedWidth = width;
  const turnedHeight = height;
  const radians = (steps.rotate * Math.PI) / 180;
  const cos = Math.cos(radians);
  const sin = Math.sin(radians);
  return {
    image: out,
    unmap(x, y) {
      const dx = x / steps.scale - turnedWidth / 2;
      const dy = y / steps.scale - turnedHeight / 2;
      // Inverse of a clockwise turn (y down) by `rotate` degrees.
      return [dx * cos + dy * sin + image.width / 2, -dx * sin + dy * cos + image.height / 2];
    },
  };
}
