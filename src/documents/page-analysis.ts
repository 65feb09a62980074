/**
 * What OCR needs to know about a page image before reading it: is there ink in text-like
 * rows, how tall are the text lines (to read at the resolution the recogniser wants, not
 * more), how skewed is the page, and is it speckled (salt-and-pepper noise, which a median
 * filter removes). Pure computation on a reduced copy: runs in a worker thread.
 */
import type { GreyImage } from './raster.js';

export interface PageAnalysis {
  /** Text-like rows of ink were found (a page with visible text). */
  hasText: boolean;
  /** Median height in pixels of the page's text lines (ink extent), when found. */
  lineHeight?: number;
  /**
   * Some text lines are far taller than the median (a title over body text): Tesseract's
   * one-block segmentation drops such lines, its automatic layout keeps them.
   */
  largeText?: boolean;
  /** How many text lines (bands of ink rows) it holds, when found. */
  textLines?: number;
  /** Skew in degrees (positive: text rises to the right in image coordinates y-down means clockwise). */
  skew: number;
  /** Share of isolated dark pixels: above ~0.3 % the page is speckled. */
  speckle: number;
}

const inkLevel = 140;
/** A text line this many times the median height is a heading or title, not body text. */
const largeTextRatio = 2;

/** Box-averages the image down so that its width is at most `maxWidth`. */
function reduce(
  image: GreyImage,
  maxWidth: number,
): { width: number; height: number; data: Uint8Array; factor: number } {
  const factor = Math.max(1, Math.ceil(image.width / maxWidth));
  const width = Math.floor(image.width / factor);
  const height = Math.floor(image.height / factor);
  const data = new Uint8Array(width * height);
  const area = factor * factor;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let dy = 0; dy < factor; dy++) {
        const row = (y * factor + dy) * image.width + x * factor;
        for (let dx = 0; dx < factor; dx++) sum += image.data[row + dx]!;
      }
      data[y * width + x] = sum / area;
    }
  }
  return { width, height, data, factor };
}

function speckleShare(image: GreyImage): number {
  const { width, height, data } = image;
  let isolated = 0;
  let seen = 0;
  for (let y = 1; y < height - 1; y += 3) {
    for (let x = 1; x < width - 1; x++) {
      seen++;
      const at = y * width + x;
      if (data[at]! >= inkLevel) continue;
      if (
        data[at - 1]! >= inkLevel &&
        data[at + 1]! >= inkLevel &&
        data[at - width]! >= inkLevel &&
        data[at + width]! >= inkLevel
      )
        isolated++;
    }
  }
  return seen ? isolated / seen : 0;
}

/** Row profile of ink along lines tilted by `angle` degrees. */
function profile(xs: Int32Array, ys: Int32Array, count: number, height: number, angle: number): Int32Array {
  const t = Math.tan((angle * Math.PI) / 180);
  const bins = new Int32Array(height);
  for (let i = 0; i < count; i++) {
    const y = Math.round(ys[i]! - xs[i]! * t);
    if (y >= 0 && y < height) bins[y]!++;
  }
  return bins;
}

export function analyzePage(image: GreyImage): PageAnalysis {
  const small = reduce(image, 900);
  const { width, height, data, factor } = small;
  // Ink of the reduced page; a median-ish guard against speckle: a pixel counts when it is dark on average.
  const xs = new Int32Array(width * height);
  const ys = new Int32Array(width * height);
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x]! < inkLevel) {
        xs[count] = x;
        ys[count] = y;
        count++;
      }
    }
  }
  const speckle = speckleShare(image);
  if (count < 20) return { hasText: false, skew: 0, speckle };
  // Skew: the angle whose row profile is sharpest (sum of squares), coarse then fine.
  const sharpness = (angle: number): number => profile(xs, ys, count, height, angle).reduce((s, v) => s + v * v, 0);
  let best = 0;
  let bestScore = sharpness(0);
  for (let a = -4; a <= 4.001; a += 0.5) {
    const s = sharpness(a);
    if (s > bestScore) [best, bestScore] = [a, s];
  }
  const coarse = best;
  for (let a = coarse - 0.4; a <= coarse + 0.401; a += 0.1) {
    const s = sharpness(a);
    if (s > bestScore) [best, bestScore] = [a, s];
  }
  // Text lines: runs of rows whose ink stands well above the background (noise) level.
  const rows = profile(xs, ys, count, height, best);
  const sorted = [...rows].sort((a, b) => a - b);
  const floor = sorted[Math.floor(sorted.length * 0.3)]!;
  const peak = sorted[Math.floor(sorted.length * 0.98)]!;
  const threshold = floor + Math.max(2, (peak - floor) * 0.12);
  const heights: number[] = [];
  let start = -1;
  for (let y = 0; y <= height; y++) {
    const on = y < height && rows[y]! > threshold;
    if (on && start < 0) start = y;
    if (!on && start >= 0) {
      if (y - start >= 2) heights.push(y - start);
      start = -1;
    }
  }
  if (heights.length === 0) return { hasText: false, skew: Math.round(best * 10) / 10, speckle };
  heights.sort((a, b) => a - b);
  const median = heights[Math.floor(heights.length / 2)]!;
  const largeText = heights.length >= 3 && heights.at(-1)! >= median * largeTextRatio;
  return {
    hasText: true,
    lineHeight: median * factor,
    largeText,
    textLines: heights.length,
    skew: Math.round(best * 10) / 10,
    speckle,
  };
}
