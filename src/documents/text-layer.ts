/**
 * A PDF text layer as words, lines and reading order, the way `pdftotext` reads it.
 *
 * pdf.js gives text runs ("items"): a run ends at every font change, superscript or big jump,
 * so a word drawn in two fonts or with a kerning move arrives in pieces ("main" + "tainers").
 * Words are rebuilt here from the gaps between glyphs, as poppler does: pieces closer than a
 * tenth of the font size belong to one word, a whitespace glyph or a wider gap separates words.
 * Lines are then grouped into blocks, blocks ordered by columns (Breuel's reading-order rules,
 * which poppler's text output also follows), and a word split by a hyphen at the end of a line
 * is joined with its end on the next line of the same flow.
 */

/** A word of a PDF's text layer, in page pixels at the requested dpi; shaped as an OCR word (confidence 1). */
export interface TextLayerWord {
  text: string;
  bbox: [number, number, number, number];
  confidence: 1;
}

/** The fields of a pdf.js text item this module reads. */
export interface TextRun {
  str: string;
  /** pdf.js text matrix of the run (user space). */
  transform: number[];
  /** Advance width of the run along its direction (user space). */
  width: number;
}

/** One line of the text layer, with the block (paragraph) and flow (column run) it belongs to. */
export interface TextLayerLine {
  words: TextLayerWord[];
  block: number;
  flow: number;
}

// Gap thresholds as fractions of the font size; the values poppler's TextOutputDev uses.
const wordBreakGap = 0.1; // glyphs farther apart than this start a new word
const minSpaceGap = 0.03; // separate pieces closer than this print without a space
const overlapBreak = -0.2; // a step back further than this starts a new word
const maxWordSpacing = 1.5; // a wider gap on one baseline separates two columns
const sameLineShift = 0.5; // baseline shift within a line (superscripts, subscripts)
const maxLineSpacing = 1.5; // baseline distance between lines of one block
const blockFontDelta = 0.05; // font size change that starts a new block
const maxBlockSpacing = 2.5; // vertical gap between blocks of one flow
// Reading order compares every pair of blocks; beyond this many a page is read top to bottom.
const maxOrderedBlocks = 250;

interface Piece {
  text: string;
  x0: number;
  x1: number;
  base: number;
  size: number;
  seq: number;
  /** Whitespace separates this piece from the one before it in content order. */
  spaceBefore: boolean;
}

interface Line {
  pieces: Piece[];
  x0: number;
  x1: number;
  top: number;
  bottom: number;
  base: number;
  size: number;
}

interface Block {
  lines: Line[];
  x0: number;
  x1: number;
  top: number;
  bottom: number;
  size: number;
}

type Matrix = [number, number, number, number, number, number];

const multiply = (m: Matrix, n: number[]): Matrix => [
  m[0] * n[0]! + m[2] * n[1]!,
  m[1] * n[0]! + m[3] * n[1]!,
  m[0] * n[2]! + m[2] * n[3]!,
  m[1] * n[2]! + m[3] * n[3]!,
  m[0] * n[4]! + m[2] * n[5]! + m[4],
  m[1] * n[4]! + m[3] * n[5]! + m[5],
];

/** Splits runs into whitespace-free pieces placed on the page (viewport: PDF space → page pixels). */
function piecesOf(runs: TextRun[], viewport: Matrix, scale: number): { upright: Piece[]; other: TextLayerWord[][] } {
  const upright: Piece[] = [];
  const other: TextLayerWord[][] = [];
  let seq = 0;
  let pendingSpace = false;
  for (const run of runs) {
    if (!run.str) continue;
    if (!/\S/.test(run.str)) {
      pendingSpace = true;
      continue;
    }
    const tx = multiply(viewport, run.transform);
    const size = Math.hypot(tx[2], tx[3]);
    // Most runs hold no whitespace: one piece, with no split into characters (nor one by surrogate pairs).
    const whole = !/\s/.test(run.str);
    const chars = whole ? undefined : [...run.str];
    const length = chars?.length ?? (/[\uD800-\uDFFF]/.test(run.str) ? [...run.str].length : run.str.length);
    const perChar = (run.width * scale) / length;
    // Upright text only is joined across runs; rotated runs keep their own words.
    const isUpright = tx[0] > 0 && Math.abs(tx[1]) < 1e-3 * tx[0] && Math.abs(tx[2]) < 1e-3 * tx[0];
    const words: TextLayerWord[] = [];
    let index = 0;
    let spaceBefore = pendingSpace;
    pendingSpace = false;
    let token = '';
    let tokenStart = 0;
    const flush = (): void => {
      if (!token) return;
      const x0 = tx[4] + tokenStart * perChar;
      const x1 = tx[4] + index * perChar;
      if (isUpright) upright.push({ text: token, x0, x1, base: tx[5], size, seq: seq++, spaceBefore });
      else words.push(rotatedWord(token, tx, size, tokenStart * perChar, index * perChar));
      token = '';
      spaceBefore = true;
    };
    if (!chars) {
      token = run.str;
      index = length;
    } else
      for (const ch of chars) {
        if (/\s/.test(ch)) {
          flush();
          spaceBefore = true;
        } else {
          if (!token) tokenStart = index;
          token += ch;
        }
        index++;
      }
    flush();
    if (/\s$/.test(run.str)) pendingSpace = true;
    if (words.length) other.push(words);
  }
  return { upright, other };
}

function rotatedWord(text: string, tx: Matrix, size: number, from: number, to: number): TextLayerWord {
  const length = Math.hypot(tx[0], tx[1]) || 1;
  const [ux, uy] = [tx[0] / length, tx[1] / length];
  const [vx, vy] = [tx[2] / (size || 1), tx[3] / (size || 1)];
  const corners = [from, to].flatMap((d) =>
    [-0.2, 0.8].map((h) => [tx[4] + ux * d - vx * h * size, tx[5] + uy * d - vy * h * size]),
  );
  const xs = corners.map((c) => c[0]!);
  const ys = corners.map((c) => c[1]!);
  return {
    text,
    bbox: [round(Math.min(...xs)), round(Math.min(...ys)), round(Math.max(...xs)), round(Math.max(...ys))],
    confidence: 1,
  };
}

/** Pieces on one baseline, cut where the gap is wider than a word space can be (columns). */
function linesOf(pieces: Piece[]): Line[] {
  const sorted = [...pieces].sort((a, b) => a.base - b.base || a.x0 - b.x0);
  const lines: Line[] = [];
  let group: Piece[] = [];
  let anchor = 0;
  const cut = (): void => {
    group.sort((a, b) => a.x0 - b.x0 || a.seq - b.seq);
    let current: Piece[] = [];
    let right = -Infinity;
    for (const piece of group) {
      const size = Math.max(piece.size, current[current.length - 1]?.size ?? 0);
      if (current.length && piece.x0 - right > maxWordSpacing * size) {
        lines.push(lineOf(current));
        current = [];
      }
      current.push(piece);
      right = Math.max(right, piece.x1);
    }
    if (current.length) lines.push(lineOf(current));
    group = [];
  };
  for (const piece of sorted) {
    if (group.length && piece.base - anchor > sameLineShift * Math.max(piece.size, group[0]!.size)) cut();
    if (!group.length) anchor = piece.base;
    group.push(piece);
  }
  if (group.length) cut();
  return lines;
}

function lineOf(pieces: Piece[]): Line {
  // The line's baseline and size are its main text's, not a superscript's.
  const main = pieces.reduce((a, b) => (b.size * (b.x1 - b.x0) > a.size * (a.x1 - a.x0) ? b : a));
  // One pass, not four arrays and spreads: this runs for every line of every page.
  let x0 = Infinity;
  let x1 = -Infinity;
  let top = Infinity;
  let bottom = -Infinity;
  for (const p of pieces) {
    x0 = Math.min(x0, p.x0);
    x1 = Math.max(x1, p.x1);
    top = Math.min(top, p.base - 0.8 * p.size);
    bottom = Math.max(bottom, p.base + 0.2 * p.size);
  }
  return { pieces, x0, x1, top, bottom, base: main.base, size: main.size };
}

/** Joins a line's pieces into words: pieces of one word touch, words are a space or more apart. */
function wordsOf(line: Line): TextLayerWord[] {
  const words: TextLayerWord[] = [];
  let text = '';
  let first: Piece | undefined;
  let last: Piece | undefined;
  const push = (): void => {
    if (!first || !last) return;
    words.push({
      text,
      bbox: [
        round(first.x0),
        round(Math.min(first.base, last.base) - 0.8 * first.size),
        round(last.x1),
        round(Math.max(first.base, last.base) + 0.2 * first.size),
      ],
      confidence: 1,
    });
  };
  const spaced = letterSpacing(line.pieces);
  for (const piece of line.pieces) {
    if (last && !(spaced ? piece.x0 - last.x1 >= spaced : separated(last, piece, line.size))) {
      text += piece.text;
      last = piece;
      continue;
    }
    push();
    text = piece.text;
    first = piece;
    last = piece;
  }
  push();
  return words;
}

/**
 * A line made only of single characters is letter-spaced text ("T I T L E"): as poppler does, only
 * a gap clearly wider (1.3×) than the narrowest one between its letters separates words there.
 * Returns that threshold, or 0 for ordinary lines.
 */
function letterSpacing(pieces: Piece[]): number {
  if (pieces.length < 2 || pieces.some((p) => [...p.text].length !== 1)) return 0;
  let narrowest = Infinity;
  for (let i = 1; i < pieces.length; i++) narrowest = Math.min(narrowest, pieces[i]!.x0 - pieces[i - 1]!.x1);
  return narrowest > 0 ? 1.3 * narrowest : 0;
}

function separated(a: Piece, b: Piece, lineSize: number): boolean {
  const gap = b.x0 - a.x1;
  const consecutive = b.seq === a.seq + 1;
  if (consecutive && b.spaceBefore) return true;
  // One stroke of text: the same size, on the same baseline, no jump back or forward.
  if (
    consecutive &&
    Math.abs(a.size - b.size) < 0.05 * a.size &&
    Math.abs(a.base - b.base) < 0.05 * a.size &&
    gap <= wordBreakGap * a.size &&
    gap >= overlapBreak * a.size
  )
    return false;
  return gap >= minSpaceGap * lineSize;
}

/** Horizontal overlap by more than a rounding error (edges computed from glyph advances rarely match exactly). */
const overlapsX = (a: { x0: number; x1: number }, b: { x0: number; x1: number }, slack = 0): boolean =>
  Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) > slack;

/** Stacks lines into blocks: close below one another, overlapping, in the same font size. */
function blocksOf(lines: Line[]): Block[] {
  const blocks: Block[] = [];
  // Blocks whose last line is still close enough above to take the next one (lines come top down).
  let open: Block[] = [];
  const sorted = [...lines].sort((a, b) => a.base - b.base || a.x0 - b.x0);
  for (const line of sorted) {
    open = open.filter((block) => {
      const last = block.lines[block.lines.length - 1]!;
      return line.base - last.base <= maxLineSpacing * last.size;
    });
    const target = open.find((block) => {
      const last = block.lines[block.lines.length - 1]!;
      return (
        line.base - last.base > 0 &&
        overlapsX(line, last) &&
        Math.abs(line.size - block.size) <= blockFontDelta * block.size
      );
    });
    if (target) {
      target.lines.push(line);
      target.x0 = Math.min(target.x0, line.x0);
      target.x1 = Math.max(target.x1, line.x1);
      target.bottom = Math.max(target.bottom, line.bottom);
    } else {
      const block = { lines: [line], x0: line.x0, x1: line.x1, top: line.top, bottom: line.bottom, size: line.size };
      blocks.push(block);
      open.push(block);
    }
  }
  return blocks;
}

/**
 * Reading order (T. Breuel, "High performance document layout analysis", 2003), on blocks whose
 * horizontal extent is widened over the white space beside them (up to the nearest block on
 * the same rows), so a centred heading is read before the text under it: a comes before b
 * when a is above and its widened extent overlaps b; or when a is left of b and no block
 * lies below b and above a overlapping both. A depth-first walk puts every block
 * after its predecessors.
 */
function readingOrder(blocks: Block[]): Block[] {
  const start = [...blocks].sort((a, b) => a.top - b.top || a.x0 - b.x0);
  if (start.length > maxOrderedBlocks) return start;
  const rowsOverlap = (a: Block, b: Block): boolean => a.top < b.bottom && b.top < a.bottom;
  const wide = new Map<Block, { x0: number; x1: number }>();
  for (const block of start) {
    let x0 = -Infinity;
    let x1 = Infinity;
    for (const other of start) {
      if (other === block || !rowsOverlap(block, other)) continue;
      if (other.x1 <= block.x0) x0 = Math.max(x0, other.x1);
      if (other.x0 >= block.x1) x1 = Math.min(x1, other.x0);
    }
    wide.set(block, { x0, x1 });
  }
  // Only the upper block is widened: a heading reaches over the text below it, but the end of a
  // column with nothing beside it must not reach over the top of the next column.
  const n = start.length;
  const above = new Uint8Array(n * n); // above[i * n + j]: block i is above block j and reaches over it
  for (const [i, a] of start.entries()) {
    for (const [j, b] of start.entries())
      above[i * n + j] = Number(a.top < b.top && overlapsX(wide.get(a)!, b, 0.05 * Math.min(a.size, b.size)));
  }
  const before = (i: number, j: number): boolean => {
    const a = start[i]!;
    const b = start[j]!;
    if (above[i * n + j]) return true;
    if (a.x1 > b.x0 + 0.05 * Math.min(a.size, b.size) || above[j * n + i]) return false;
    for (let k = 0; k < n; k++) {
      if (k === i || k === j || !above[j * n + k]) continue;
      const c = start[k]!;
      // A term of a definition list (a) starts on the row of its description, which comes after b:
      // then a does too. Columns have no such partner starting on a's first row.
      if (a.top >= b.bottom && Math.abs(c.top - a.top) < 0.5 * a.size && c.x0 >= a.x1) return false;
      // Rule 2 holds only when no block lies below b and above a, overlapping both.
      if (above[k * n + i]) return false;
    }
    return true;
  };
  const visited = new Uint8Array(n);
  const order: Block[] = [];
  const visit = (j: number): void => {
    visited[j] = 1;
    for (let i = 0; i < n; i++) if (!visited[i] && before(i, j)) visit(i);
    order.push(start[j]!);
  };
  for (let j = 0; j < n; j++) if (!visited[j]) visit(j);
  return order;
}

/** A block continues the flow of the block before it when it sits just below it in the same column. */
const continuesFlow = (prev: Block, next: Block): boolean =>
  next.top >= prev.bottom - 0.5 * prev.size &&
  next.top - prev.bottom <= maxBlockSpacing * prev.size &&
  overlapsX(prev, next) &&
  Math.abs(next.size - prev.size) <= 0.2 * prev.size;

/** The page's text layer as lines in reading order (runs as pdf.js reports them). */
export function textLayerLines(runs: TextRun[], viewport: number[], scale: number): TextLayerLine[] {
  const { upright, other } = piecesOf(runs, viewport as Matrix, scale);
  const blocks = readingOrder(blocksOf(linesOf(upright)));
  const out: TextLayerLine[] = [];
  let flow = -1;
  blocks.forEach((block, b) => {
    if (b === 0 || !continuesFlow(blocks[b - 1]!, block)) flow++;
    for (const line of block.lines) {
      const words = wordsOf(line);
      if (words.length) out.push({ words, block: b, flow });
    }
  });
  joinHyphenated(out);
  // Rotated text (margin notes, table headers) follows, in content order.
  for (const words of other) out.push({ words, block: ++flow, flow });
  return out.filter((line) => line.words.length > 0);
}

/** "possi-" at the end of a line and "ble," on the next line of the same flow read "possible,". */
function joinHyphenated(lines: TextLayerLine[]): void {
  for (let i = 0; i + 1 < lines.length; i++) {
    const line = lines[i]!;
    const next = lines[i + 1]!;
    const last = line.words[line.words.length - 1];
    if (!last || !next.words.length || next.flow !== line.flow || !last.text.endsWith('-')) continue;
    // A lone dash ending a line is dropped, as pdftotext drops it; a hyphenated word is rejoined.
    if (last.text === '-') line.words.pop();
    else last.text = last.text.slice(0, -1) + next.words.shift()!.text;
  }
}

const round = (n: number): number => Math.round(n * 10) / 10;
