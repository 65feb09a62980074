/**
 * Finds checkboxes on a page image: square frames with straight, inked sides, sized like
 * text, and decides checked/unchecked from the ink inside them. Runs in worker threads.
 */
import type { Bbox } from '../shared/ocr-text.js';
import type { GreyImage } from './raster.js';

export interface Checkbox {
  bbox: Bbox;
  checked: boolean;
  /** Share of the inner area that is inked. */
  fill: number;
}

const inkLevel = 150;
const minSide = 10;
const maxSide = 160;

export function detectCheckboxes(image: GreyImage): Checkbox[] {
  const { width, height, data } = image;
  const ink = (x: number, y: number): boolean => data[y * width + x]! < inkLevel;
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const found: Checkbox[] = [];
  for (let start = 0; start < width * height; start++) {
    if (seen[start] || data[start]! >= inkLevel) continue;
    // 8-connected component of inked pixels.
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let x0 = width;
    let y0 = height;
    let x1 = 0;
    let y1 = 0;
    while (top) {
      const at = stack[--top]!;
      const x = at % width;
      const y = (at - x) / width;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const n = ny * width + nx;
          if (!seen[n] && data[n]! < inkLevel) {
            seen[n] = 1;
            stack[top++] = n;
          }
        }
      }
    }
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    if (w < minSide || h < minSide || w > maxSide || h > maxSide || w / h < 0.8 || w / h > 1.25) continue;
    if (!framed(ink, x0, y0, x1, y1)) continue;
    const fill = innerInk(ink, x0, y0, x1, y1);
    found.push({ bbox: [x0, y0, x1 + 1, y1 + 1], checked: fill > 0.06, fill: Math.round(fill * 1000) / 1000 });
  }
  return found;
}

/** Each side is a straight inked line along (nearly) its whole length. */
function framed(ink: (x: number, y: number) => boolean, x0: number, y0: number, x1: number, y1: number): boolean {
  const band = Math.max(1, Math.round((x1 - x0) * 0.12));
  const covered = (along: number[], hit: (p: number, d: number) => boolean): number => {
    let count = 0;
    for (const p of along) {
      for (let d = 0; d <= band; d++) {
        if (hit(p, d)) {
          count++;
          break;
        }
      }
    }
    return count / along.length;
  };
  const xs = Array.from({ length: x1 - x0 + 1 }, (_, i) => x0 + i);
  const ys = Array.from({ length: y1 - y0 + 1 }, (_, i) => y0 + i);
  const sides = [
    covered(xs, (x, d) => ink(x, y0 + d)),
    covered(xs, (x, d) => ink(x, y1 - d)),
    covered(ys, (y, d) => ink(x0 + d, y)),
    covered(ys, (y, d) => ink(x1 - d, y)),
  ];
  return sides.every((s) => s >= 0.9);
}

/** Inked share of the box's inside, away from its frame. */
function innerInk(ink: (x: number, y: number) => boolean, x0: number, y0: number, x1: number, y1: number): number {
  const inset = Math.max(2, Math.round((x1 - x0) * 0.2));
  let inked = 0;
  let total = 0;
  for (let y = y0 + inset; y <= y1 - inset; y++) {
    for (let x = x0 + inset; x <= x1 - inset; x++) {
      total++;
      if (ink(x, y)) inked++;
    }
  }
  return total ? inked / total : 0;
}
