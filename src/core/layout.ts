/**
 * Page layout from positioned words: lines → rows → blocks (paragraphs, headings, list
 * items, tables). Works the same for a PDF text layer and for any OCR engine's lines.
 */
import type { TextLayerLine } from '../documents/text-layer.js';
import { lineOf, unionBbox, type Bbox, type OcrLine } from '../shared/ocr-text.js';
import { readingOrder, splitAtGaps, type Row } from './reading-order.js';

export type Block =
  | { type: 'heading'; level: 1 | 2 | 3; text: string; bbox: Bbox }
  | { type: 'paragraph'; text: string; bbox: Bbox }
  | {
      type: 'list-item';
      level: number;
      ordered: boolean;
      marker: string;
      text: string;
      bbox: Bbox;
      checkbox?: 'checked' | 'unchecked';
    }
  | { type: 'table'; rows: string[][]; bbox: Bbox };

const height = (b: Bbox): number => Math.max(1, b[3] - b[1]);
const median = (values: number[]): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
/** A cell's text height: the median of its words' heights (a tilted line's box is taller than its text). */
const cellHeight = (c: OcrLine): number => median(c.words.map((w) => height(w.bbox)));

/** A PDF text layer's lines (already in reading order, words whole) as OCR lines. */
export function linesFromTextLayer(lines: TextLayerLine[]): OcrLine[] {
  // Text-layer words already have the shape of OCR words: used as they are, not copied.
  return lines.map((line) => lineOf(line.words));
}

const overlapsVertically = (a: Bbox, b: Bbox): boolean => {
  const overlap = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  return overlap > 0.5 * Math.min(height(a), height(b));
};

/** Whether splitAtGaps would cut a text-layer line (a gap over 1.6 times its height). */
function hasWideGap(line: OcrLine): boolean {
  const gap = 1.6 * height(line.bbox);
  for (let i = 1; i < line.words.length; i++)
    if (line.words[i]!.bbox[0] - line.words[i - 1]!.bbox[2] > gap) return true;
  return false;
}

/**
 * Joins pieces into rows. Keeps the engine's reading order (Tesseract orders columns
 * itself); a piece joins one of the last few rows when it sits on the same baseline,
 * which is how table cells that an engine reports separately come back together.
 */
function buildRows(lines: OcrLine[], ordered: boolean): Row[] {
  const rows: Row[] = [];
  // A text layer's line box is upright: its height is the text height. A line with no wide gap is
  // its own piece (splitting would rebuild the same line: its text, box and confidence again).
  const pieces = lines.flatMap((line) => (hasWideGap(line) ? splitAtGaps(line, height(line.bbox)) : [line]));
  for (const piece of pieces) {
    // Lines already in reading order (a PDF text layer) only continue the row just before them.
    const candidates = ordered ? rows.slice(-1).filter((r) => piece.bbox[0] >= r.bbox[2]) : rows.slice(-3);
    const target = candidates.find(
      (r) =>
        overlapsVertically(r.bbox, piece.bbox) &&
        r.cells.every((c) => piece.bbox[0] >= c.bbox[2] || piece.bbox[2] <= c.bbox[0]),
    );
    if (target) {
      target.cells.push(piece);
      target.cells.sort((a, b) => a.bbox[0] - b.bbox[0]);
      target.bbox = unionBbox([target.bbox, piece.bbox]);
      target.box = target.bbox; // a text layer is not skewed
    } else {
      rows.push({ cells: [piece], bbox: piece.bbox, box: piece.bbox });
    }
  }
  return rows;
}

const rowText = (row: Row): string => row.cells.map((c) => c.text).join(' ');
// OCR often reads a bullet as », «, ¢ or °: those count as bullets at the start of a row.
const listMarker = /^(?:([•·▪◦●○■\-–*»«¢°])|(\d{1,3}[.)])|([a-z][.)])|(\[[√ ]\]))\s+/;

/** Runs of ≥2 rows with the same number (≥2) of short cells are a table. */
function tableRuns(rows: Row[]): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let start = 0;
  const cellsOf = (r: Row): number => r.cells.length;
  const isTableRow = (r: Row): boolean => cellsOf(r) >= 2 && r.cells.every((c) => c.words.length <= 6);
  for (let i = 0; i <= rows.length; i++) {
    const continues =
      i < rows.length && isTableRow(rows[i]!) && (i === start || cellsOf(rows[i]!) === cellsOf(rows[start]!));
    if (!continues) {
      if (i - start >= 2) runs.push([start, i]);
      start = i < rows.length && isTableRow(rows[i]!) ? i : i + 1;
    }
  }
  return runs;
}

/**
 * Classifies rows into blocks, in reading order. Lines already in reading order (a PDF text layer: `ordered`)
 * keep it; an engine's lines are ordered by layout (columns, tables, skew).
 */
export function layoutBlocks(lines: OcrLine[], options: { ordered?: boolean; skew?: number } = {}): Block[] {
  const rows = options.ordered ? buildRows(lines, true) : readingOrder(lines, options.skew);
  if (rows.length === 0) return [];
  const rowHeights = rows.map((r) => median(r.cells.map(cellHeight)));
  const bodyHeight = median(rowHeights);
  const tables = tableRuns(rows);
  const blocks: Block[] = [];
  let paragraph: Row[] = [];
  const flush = (): void => {
    if (paragraph.length)
      blocks.push({
        type: 'paragraph',
        text: paragraph.map(rowText).join('\n'),
        bbox: unionBbox(paragraph.map((r) => r.bbox)),
      });
    paragraph = [];
  };
  let listLeft = Infinity;
  for (let i = 0; i < rows.length; i++) {
    const table = tables.find(([from]) => from === i);
    if (table) {
      flush();
      const tableRows = rows.slice(table[0], table[1]);
      blocks.push({
        type: 'table',
        rows: tableRows.map((r) => r.cells.map((c) => c.text)),
        bbox: unionBbox(tableRows.map((r) => r.bbox)),
      });
      i = table[1] - 1;
      continue;
    }
    const row = rows[i]!;
    const text = rowText(row);
    const ratio = rowHeights[i]! / bodyHeight;
    const marker = listMarker.exec(text);
    if (ratio >= 1.35 && text.length <= 120 && !marker) {
      flush();
      blocks.push({ type: 'heading', level: ratio >= 2 ? 1 : ratio >= 1.6 ? 2 : 3, text, bbox: row.bbox });
      continue;
    }
    if (marker) {
      flush();
      const previous = blocks[blocks.length - 1];
      if (previous?.type !== 'list-item') listLeft = row.box[0];
      listLeft = Math.min(listLeft, row.box[0]);
      const level = Math.max(0, Math.round((row.box[0] - listLeft) / (2 * bodyHeight)));
      const checkbox = marker[4] ? (marker[4] === '[√]' ? 'checked' : 'unchecked') : undefined;
      blocks.push({
        type: 'list-item',
        level,
        ordered: Boolean(marker[2] || marker[3]),
        marker: marker[0].trim(),
        text: text.slice(marker[0].length),
        bbox: row.bbox,
        ...(checkbox ? { checkbox } : {}),
      });
      continue;
    }
    const prev = paragraph[paragraph.length - 1];
    // A wide gap ends a paragraph, and so does going back up (the next column).
    if (prev && (row.box[1] - prev.box[3] > 0.8 * bodyHeight || row.box[3] <= prev.box[1])) flush();
    paragraph.push(row);
  }
  flush();
  return blocks;
}

/** Plain text: one line per row, a blank line between blocks. */
export function blocksToText(blocks: Block[]): string {
  return blocks
    .map((b) => {
      switch (b.type) {
        case 'table':
          return b.rows.map((r) => r.join(' ')).join('\n');
        case 'list-item':
          return `${b.marker} ${b.text}`;
        default:
          return b.text;
      }
    })
    .join('\n\n');
}

const escapeCell = (s: string): string => s.replaceAll('|', '\\|');

export function blocksToMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  blocks.forEach((b, i) => {
    const sticky = b.type === 'list-item' && blocks[i - 1]?.type === 'list-item';
    if (out.length && !sticky) out.push('');
    switch (b.type) {
      case 'heading':
        out.push(`${'#'.repeat(b.level)} ${b.text}`);
        break;
      case 'paragraph':
        out.push(b.text.replace(/^([#>+-])/gm, '\\$1').replaceAll('\n', ' '));
        break;
      case 'list-item':
        out.push(
          `${'  '.repeat(b.level)}${b.ordered ? b.marker.replace(')', '.') : b.checkbox ? `- ${b.marker}` : '-'} ${b.text}`,
        );
        break;
      case 'table': {
        const width = Math.max(...b.rows.map((r) => r.length));
        const pad = (r: string[]): string[] => [...r, ...Array<string>(width - r.length).fill('')];
        const [head, ...body] = b.rows.map(pad);
        out.push(
          `| ${head!.map(escapeCell).join(' | ')} |`,
          `|${' --- |'.repeat(width)}`,
          ...body.map((r) => `| ${r.map(escapeCell).join(' | ')} |`),
        );
        break;
      }
    }
  });
  return out.join('\n');
}
