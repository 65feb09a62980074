/**
 * Reading order of a page from positioned line pieces: skew estimated from the words'
 * own slope, then a recursive XY-cut on the de-skewed boxes that reads text columns one
 * after the other and tables row by row. Pieces that no cut separates keep the engine's
 * order, so the result is never more mixed than what the engine returned.
 */
import { lineOf, unionBbox, type Bbox, type OcrLine, type OcrWord } from '../shared/ocr-text.js';

/** One visual row: line pieces on one baseline, left to right. */
export interface Row {
  cells: OcrLine[];
  /** Page pixels (what the client sees). */
  bbox: Bbox;
  /** The same row in de-skewed coordinates (what geometry decisions use). */
  box: Bbox;
}

/** A piece of an engine line (split where a gap is far wider than a space), with its de-skewed box. */
interface Piece {
  line: OcrLine;
  box: Bbox;
  /** Position in the engine's own reading order. */
  order: number;
}

const height = (b: Bbox): number => Math.max(1, b[3] - b[1]);
const median = (values: number[]): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
/** A word's height; the median over a line is its text height even when the line's box is tilted. */
const textHeight = (words: OcrWord[]): number => median(words.map((w) => height(w.bbox)));

/**
 * Splits a line where a gap is far wider than a space (1.6 text heights): those are table cells or columns.
 * `h` defaults to the median word height, which holds on a tilted line.
 */
export function splitAtGaps(line: OcrLine, h = textHeight(line.words)): OcrLine[] {
  const pieces: OcrWord[][] = [[]];
  line.words.forEach((word, i) => {
    const prev = line.words[i - 1];
    if (prev && word.bbox[0] - prev.bbox[2] > 1.6 * h) pieces.push([]);
    pieces[pieces.length - 1]!.push(word);
  });
  return pieces.filter((p) => p.length).map(lineOf);
}

/**
 * Page skew as a slope (dy per dx): the median, weighted by width, of the least-squares
 * slopes of lines' word centres. Lines need two words or more, a few text heights apart.
 */
export function estimateSkew(lines: OcrLine[]): number {
  const slopes: Array<{ slope: number; weight: number }> = [];
  let heights = 0;
  for (const line of lines) {
    const words = line.words;
    if (words.length < 2) continue;
    const h = textHeight(words);
    const xs = words.map((w) => (w.bbox[0] + w.bbox[2]) / 2);
    const ys = words.map((w) => (w.bbox[1] + w.bbox[3]) / 2);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let sxx = 0;
    let sxy = 0;
    xs.forEach((x, i) => {
      sxx += (x - mx) ** 2;
      sxy += (x - mx) * (ys[i]! - my);
    });
    const span = Math.max(...xs) - Math.min(...xs);
    if (span < 4 * h || sxx === 0) continue;
    slopes.push({ slope: sxy / sxx, weight: span });
    heights += span / h;
  }
  // Too little evidence (a few short lines) says nothing reliable: word centres move with ascenders.
  if (heights < 20 || slopes.length < 3) return 0;
  slopes.sort((a, b) => a.slope - b.slope);
  const half = slopes.reduce((s, x) => s + x.weight, 0) / 2;
  let acc = 0;
  return cleanSlope(slopes.find((x) => (acc += x.weight) >= half)!.slope);
}

/** Below ~0.15° the boxes barely move: clean pages stay exactly as they are; beyond ~10° it is not skew. */
const cleanSlope = (slope: number): number => (Math.abs(slope) < 0.0026 || Math.abs(slope) > 0.18 ? 0 : slope);

/** The piece's box after shearing the page flat: y' = y − s·x, x' = x + s·y. */
function deskewedBox(line: OcrLine, slope: number): Bbox {
  if (slope === 0) return line.bbox;
  return unionBbox(
    line.words.map((w) => {
      const cx = (w.bbox[0] + w.bbox[2]) / 2;
      const cy = (w.bbox[1] + w.bbox[3]) / 2;
      const halfW = (w.bbox[2] - w.bbox[0]) / 2;
      // A tilted word's box is taller than its text by about its width times the slope.
      const halfH = Math.max(0.35 * height(w.bbox), height(w.bbox) - Math.abs(slope) * 2 * halfW) / 2;
      const x = cx + slope * cy;
      const y = cy - slope * cx;
      return [x - halfW, y - halfH, x + halfW, y + halfH] as Bbox;
    }),
  );
}

/** Gaps in the projection of the boxes on one axis (0 = x, 1 = y), at least `min` wide, as [start, end]. */
function projectionGaps(pieces: Piece[], axis: 0 | 1, min: number): Array<[number, number]> {
  const spans = pieces.map((p) => [p.box[axis], p.box[axis + 2]] as [number, number]).sort((a, b) => a[0] - b[0]);
  const gaps: Array<[number, number]> = [];
  let reach = spans[0]![1];
  for (const [start, end] of spans.slice(1)) {
    if (start - reach >= min) gaps.push([reach, start]);
    reach = Math.max(reach, end);
  }
  return gaps;
}

const centreY = (b: Bbox): number => (b[1] + b[3]) / 2;
const sameBaseline = (a: Bbox, b: Bbox): boolean =>
  Math.abs(centreY(a) - centreY(b)) < 0.5 * Math.min(height(a), height(b));

/** Prose: most pieces fill the part's width and carry several words (table cells do not). */
function isProse(part: Piece[]): boolean {
  if (part.length < 2) return false;
  const left = Math.min(...part.map((p) => p.box[0]));
  const right = Math.max(...part.map((p) => p.box[2]));
  const full = part.filter((p) => p.box[2] - p.box[0] >= 0.7 * (right - left)).length;
  return full >= 0.6 * part.length && median(part.map((p) => p.line.words.length)) >= 3;
}

/** Rows of a group no cut separates: the engine's order, pieces on one baseline joined left to right. */
function leafRows(pieces: Piece[]): Row[] {
  const rows: Row[] = [];
  for (const piece of [...pieces].sort((a, b) => a.order - b.order)) {
    const row = rows[rows.length - 1];
    const beside =
      row &&
      sameBaseline(row.box, piece.box) &&
      row.cells.every((c) => piece.line.bbox[0] >= c.bbox[2] || piece.line.bbox[2] <= c.bbox[0]);
    if (row && beside) {
      row.cells.push(piece.line);
      row.cells.sort((a, b) => a.bbox[0] - b.bbox[0]);
      row.bbox = unionBbox([row.bbox, piece.line.bbox]);
      row.box = unionBbox([row.box, piece.box]);
    } else rows.push({ cells: [piece.line], bbox: piece.line.bbox, box: piece.box });
  }
  return rows;
}

/**
 * Recursive XY-cut: text columns (a vertical gap through the whole group, prose on every
 * side) first, left to right; otherwise the widest horizontal gap, top to bottom.
 */
function xyCut(pieces: Piece[], gutter: number): Row[] {
  if (pieces.length <= 1) return leafRows(pieces);
  const columnGaps = projectionGaps(pieces, 0, gutter);
  if (columnGaps.length) {
    const parts: Piece[][] = columnGaps.map(() => []);
    parts.push([]);
    for (const p of pieces) {
      const index = columnGaps.findIndex(([start]) => p.box[2] <= start);
      parts[index === -1 ? columnGaps.length : index]!.push(p);
    }
    // Only prose on every side is read column by column: a part of short pieces beside prose is a
    // table or a definition list (option names beside their descriptions), read row by row.
    if (parts.every(isProse)) return parts.flatMap((part) => xyCut(part, gutter));
  }
  const rowGaps = projectionGaps(pieces, 1, 1);
  if (rowGaps.length === 0) return leafRows(pieces);
  const [start] = rowGaps.reduce((a, b) => (b[1] - b[0] > a[1] - a[0] ? b : a));
  const top = pieces.filter((p) => p.box[3] <= start);
  const bottom = pieces.filter((p) => p.box[3] > start);
  return [...xyCut(top, gutter), ...xyCut(bottom, gutter)];
}

/** Joins an engine's lines into rows in reading order; `skew` is the engine's measured slope, if any. */
export function readingOrder(lines: OcrLine[], skew?: number): Row[] {
  const split = lines.flatMap((line) => splitAtGaps(line));
  if (split.length === 0) return [];
  const slope = skew !== undefined ? cleanSlope(skew) : estimateSkew(lines);
  const pieces = split.map((line, order) => ({ line, order, box: deskewedBox(line, slope) }));
  const gutter = 1.2 * median(split.map((l) => textHeight(l.words)));
  return xyCut(pieces, gutter);
}
