import { lineOf, type OcrLine, type OcrWord } from '../../shared/ocr-text.js';
import { round3 } from '../../shared/numbers.js';

/** Parses Tesseract's TSV output (level 5 rows are words) into lines of words. */
export function linesFromTsv(tsv: string): OcrLine[] {
  const lines = new Map<string, OcrWord[]>();
  for (const row of tsv.split('\n').slice(1)) {
    const cells = row.split('\t');
    if (cells.length < 12 || cells[0] !== '5') continue;
    const text = cells.slice(11).join('\t').trim();
    if (!text) continue;
    const [left, top, width, height, conf] = cells.slice(6, 11).map(Number) as [number, number, number, number, number];
    const key = `${cells[2]}/${cells[3]}/${cells[4]}`; // block/paragraph/line
    const words = lines.get(key) ?? [];
    words.push({ text, bbox: [left, top, left + width, top + height], confidence: round3(Math.max(0, conf) / 100) });
    lines.set(key, words);
  }
  return [...lines.values()].map(lineOf);
}
