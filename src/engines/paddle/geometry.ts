/**
 * Geometry of PP-OCR text boxes: connected regions of the detector's probability map,
 * their minimum-area (rotated) rectangles, the unclip expansion, a rotated crop sampled
 * straight to the recogniser's input size, and a transitive reading order.
 */
import type { GreyImage } from '../../documents/raster.js';
import type { Bbox } from '../../shared/ocr-text.js';

export interface Point {
  x: number;
  y: number;
}

/**
 * A rotated rectangle: `origin` is its top-left corner, `u` the unit vector along the text
 * (pointing right), `v` the unit normal pointing down; `width` runs along u, `height` along v.
 */
export interface TextBox {
  origin: Point;
  u: Point;
  v: Point;
  width: number;
  height: number;
  /** Mean detector probability inside the region. */
  score: number;
}

/** Connected regions of the thresholded map (4-connected), as the corner points of each pixel row run, with mean probability. */
export function regions(
  prob: Float32Array,
  w: number,
  h: number,
  threshold: number,
): Array<{ points: Point[]; score: number; pixels: number }> {
  const seen = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  const found: Array<{ points: Point[]; score: number; pixels: number }> = [];
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || prob[start]! < threshold) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    // Extent of each pixel row the region touches: enough for its convex hull.
    const rows = new Map<number, [number, number]>();
    let sum = 0;
    let count = 0;
    while (top) {
      const at = stack[--top]!;
      const x = at % w;
      const y = (at - x) / w;
      const row = rows.get(y);
      if (row) {
        if (x < row[0]) row[0] = x;
        if (x > row[1]) row[1] = x;
      } else rows.set(y, [x, x]);
      sum += prob[at]!;
      count++;
      if (x > 0 && !seen[at - 1] && prob[at - 1]! >= threshold) (seen[at - 1] = 1), (stack[top++] = at - 1);
      if (x < w - 1 && !seen[at + 1] && prob[at + 1]! >= threshold) (seen[at + 1] = 1), (stack[top++] = at + 1);
      if (y > 0 && !seen[at - w] && prob[at - w]! >= threshold) (seen[at - w] = 1), (stack[top++] = at - w);
      if (y < h - 1 && !seen[at + w] && prob[at + w]! >= threshold) (seen[at + w] = 1), (stack[top++] = at + w);
    }
    const points: Point[] = [];
    for (const [y, [x0, x1]] of rows)
      points.push({ x: x0, y }, { x: x1 + 1, y }, { x: x0, y: y + 1 }, { x: x1 + 1, y: y + 1 });
    found.push({ points, score: sum / count, pixels: count });
  }
  return found;
}

/** Convex hull (Andrew's monotone chain), counter-clockwise in y-down coordinates' mirror. */
export function convexHull(points: Point[]): Point[] {
  const sorted = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (sorted.length <= 2) return sorted;
  const cross = (o: Point, a: Point, b: Point): number => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const lower: Point[] = [];
  for (const p of sorted) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (const p of sorted.reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/**
 * Minimum-area rectangle of a point set (rotating calipers over the hull's edges), with
 * u the side nearest to horizontal, pointing right.
 */
export function minAreaRect(points: Point[], score = 1): TextBox {
  const hull = convexHull(points);
  let best: TextBox | undefined;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const length = Math.hypot(b.x - a.x, b.y - a.y);
    if (length === 0) continue;
    let u = { x: (b.x - a.x) / length, y: (b.y - a.y) / length };
    // Take the edge direction or its normal, whichever is nearer to horizontal, pointing right.
    if (Math.abs(u.y) > Math.abs(u.x)) u = { x: -u.y, y: u.x };
    if (u.x < 0) u = { x: -u.x, y: -u.y };
    const v = { x: -u.y, y: u.x };
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const pu = p.x * u.x + p.y * u.y;
      const pv = p.x * v.x + p.y * v.y;
      minU = Math.min(minU, pu);
      maxU = Math.max(maxU, pu);
      minV = Math.min(minV, pv);
      maxV = Math.max(maxV, pv);
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea) {
      bestArea = area;
      best = {
        origin: { x: u.x * minU + v.x * minV, y: u.y * minU + v.y * minV },
        u,
        v,
        width: maxU - minU,
        height: maxV - minV,
        score,
      };
    }
  }
  if (best) return best;
  const p = points[0] ?? { x: 0, y: 0 };
  return { origin: p, u: { x: 1, y: 0 }, v: { x: 0, y: 1 }, width: 1, height: 1, score };
}

/** Grows a box on every side by DB's unclip distance (area × ratio / perimeter). */
export function unclip(box: TextBox, ratio: number): TextBox {
  const d = (box.width * box.height * ratio) / (2 * (box.width + box.height));
  return {
    ...box,
    origin: { x: box.origin.x - d * (box.u.x + box.v.x), y: box.origin.y - d * (box.u.y + box.v.y) },
    width: box.width + 2 * d,
    height: box.height + 2 * d,
  };
}

/** Scales a box from detector-map to page coordinates (x and y scale may differ slightly). */
export function scaleBox(box: TextBox, sx: number, sy: number): TextBox {
  const corner = (p: Point): Point => ({ x: p.x * sx, y: p.y * sy });
  const o = corner(box.origin);
  const along = corner({ x: box.u.x * box.width, y: box.u.y * box.width });
  const down = corner({ x: box.v.x * box.height, y: box.v.y * box.height });
  const width = Math.hypot(along.x, along.y);
  const height = Math.hypot(down.x, down.y);
  const u = { x: along.x / width, y: along.y / width };
  return { origin: o, u, v: { x: -u.y, y: u.x }, width, height, score: box.score };
}

/** The four corners: top-left, top-right, bottom-right, bottom-left. */
export function corners(box: TextBox): Point[] {
  const { origin: o, u, v, width: w, height: h } = box;
  return [
    o,
    { x: o.x + u.x * w, y: o.y + u.y * w },
    { x: o.x + u.x * w + v.x * h, y: o.y + u.y * w + v.y * h },
    { x: o.x + v.x * h, y: o.y + v.y * h },
  ];
}

/** Axis-aligned page box around a rotated box, clipped to the page. */
export function boundingBox(box: TextBox, pageWidth: number, pageHeight: number): Bbox {
  const c = corners(box);
  const xs = c.map((p) => p.x);
  const ys = c.map((p) => p.y);
  return [
    Math.max(0, Math.floor(Math.min(...xs))),
    Math.max(0, Math.floor(Math.min(...ys))),
    Math.min(pageWidth, Math.ceil(Math.max(...xs))),
    Math.min(pageHeight, Math.ceil(Math.max(...ys))),
  ];
}

/** Vertical text (much taller than wide) is read turned a quarter anticlockwise, as PaddleOCR does. */
export const isVertical = (box: TextBox): boolean => box.height >= 1.5 * box.width;

/**
 * Samples the rotated box straight into an `outWidth` × `outHeight` grey crop (bilinear);
 * `quarter` turns it a quarter anticlockwise (vertical text), `flip` half a turn (the
 * direction classifier's 180° answer).
 */
export function sampleCrop(
  image: GreyImage,
  box: TextBox,
  outWidth: number,
  outHeight: number,
  options: { quarter: boolean; flip: boolean },
): Uint8Array {
  const out = new Uint8Array(outWidth * outHeight);
  const { quarter: vertical, flip } = options;
  const { origin: o, u, v } = box;
  const d = image.data;
  const maxX = image.width - 1;
  const maxY = image.height - 1;
  for (let oy = 0; oy < outHeight; oy++) {
    for (let ox = 0; ox < outWidth; ox++) {
      let fx = (ox + 0.5) / outWidth;
      let fy = (oy + 0.5) / outHeight;
      if (flip) (fx = 1 - fx), (fy = 1 - fy);
      // Upright crop coordinates (along u, along v); vertical text is turned a quarter.
      const a = vertical ? (1 - fy) * box.width : fx * box.width;
      const b = vertical ? fx * box.height : fy * box.height;
      const px = Math.min(maxX, Math.max(0, o.x + u.x * a + v.x * b - 0.5));
      const py = Math.min(maxY, Math.max(0, o.y + u.y * a + v.y * b - 0.5));
      const x0 = Math.floor(px);
      const y0 = Math.floor(py);
      const x1 = Math.min(maxX, x0 + 1);
      const y1 = Math.min(maxY, y0 + 1);
      const wx = px - x0;
      const wy = py - y0;
      const topRow = d[y0 * image.width + x0]! * (1 - wx) + d[y0 * image.width + x1]! * wx;
      const bottomRow = d[y1 * image.width + x0]! * (1 - wx) + d[y1 * image.width + x1]! * wx;
      out[oy * outWidth + ox] = topRow * (1 - wy) + bottomRow * wy;
    }
  }
  return out;
}

/** Width and height of the crop as read (turned a quarter or not). */
export const readSize = (box: TextBox, quarter: boolean): { width: number; height: number } =>
  quarter ? { width: box.height, height: box.width } : { width: box.width, height: box.height };

/**
 * Reading order of boxes: de-skew their centres by the page's median text angle, sort by
 * de-skewed y, group boxes whose centres sit within half a text height of a line's into
 * that line, then read each line left to right. Sorting by a key keeps it transitive.
 */
export function readingOrderOfBoxes(boxes: TextBox[]): { boxes: TextBox[]; skew: number | undefined } {
  // Only long boxes tell the text's angle; a box a few characters long can sit at any angle.
  const slopes = boxes.filter((b) => !isVertical(b) && b.width >= 4 * b.height).map((b) => b.u.y / b.u.x);
  const skew = slopes.length ? [...slopes].sort((a, b) => a - b)[Math.floor(slopes.length / 2)]! : undefined;
  const slope = skew ?? 0;
  const placed = boxes.map((box) => {
    const [tl, , br] = corners(box);
    const cx = (tl!.x + br!.x) / 2;
    const cy = (tl!.y + br!.y) / 2;
    return { box, x: cx + slope * cy, y: cy - slope * cx, h: isVertical(box) ? box.width : box.height };
  });
  placed.sort((a, b) => a.y - b.y);
  const lines: Array<typeof placed> = [];
  for (const p of placed) {
    const line = lines[lines.length - 1];
    const centre = line ? line.reduce((s, q) => s + q.y, 0) / line.length : 0;
    const lineHeight = line ? Math.min(...line.map((q) => q.h)) : 0;
    if (line && Math.abs(p.y - centre) < 0.5 * Math.min(lineHeight, p.h)) line.push(p);
    else lines.push([p]);
  }
  return { boxes: lines.flatMap((line) => line.sort((a, b) => a.x - b.x).map((p) => p.box)), skew };
}
