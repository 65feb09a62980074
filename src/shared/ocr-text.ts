/**
 * What OCR reads on a page (words and lines with their boxes), shared by the engines that
 * produce it, the documents that carry it and the core that lays it out.
 */
import { mean, round3 } from './numbers.js';

/** [x0, y0, x1, y1] in page pixels, origin top-left. */
export type Bbox = [number, number, number, number];

export interface OcrWord {
  text: string;
  bbox: Bbox;
  /** 0–1 */
  confidence: number;
}

export interface OcrLine {
  text: string;
  bbox: Bbox;
  confidence: number;
  words: OcrWord[];
}

/** What an engine read on one page: lines of words, in reading order. */
export interface OcrPageText {
  lines: OcrLine[];
  /**
   * Slope of the text lines (dy per dx, y down) when the engine measured it (from its
   * baselines or rotated boxes); layout then de-skews with it instead of guessing from words.
   */
  skew?: number;
}

/** Smallest box holding all the given boxes. */
export function unionBbox(boxes: Bbox[]): Bbox {
  if (boxes.length === 0) return [0, 0, 0, 0];
  // A loop, not a reduce making an array per box: this runs for every line and row of every page.
  const out: Bbox = [...boxes[0]!];
  for (const b of boxes) {
    if (b[0] < out[0]) out[0] = b[0];
    if (b[1] < out[1]) out[1] = b[1];
    if (b[2] > out[2]) out[2] = b[2];
    if (b[3] > out[3]) out[3] = b[3];
  }
  return out;
}

const cjk = /[\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/;

/** Joins words with spaces, except between CJK characters, which are written without them. */
function joinWords(words: string[]): string {
  // Most lines hold no CJK at all (and no empty word): joined with spaces without a look at each junction.
  if (words.every((word) => word !== '' && !cjk.test(word))) return words.join(' ');
  return words.reduce(
    (text, word) =>
      text === '' ? word : cjk.test(text.at(-1)!) && cjk.test(word[0]!) ? text + word : `${text} ${word}`,
    '',
  );
}

/** Builds a line from its words (text joined, box and confidence derived). */
export function lineOf(words: OcrWord[]): OcrLine {
  return {
    text: joinWords(words.map((w) => w.text)),
    bbox: unionBbox(words.map((w) => w.bbox)),
    confidence: round3(mean(words.map((w) => w.confidence))),
    words,
  };
}
