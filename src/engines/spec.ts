import type { GreyImage } from '../documents/raster.js';

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
}

export type OcrEngineName = 'tesseract-js' | 'tesseract-cli' | 'paddle';
export const ocrEngineNames: readonly OcrEngineName[] = ['tesseract-js', 'tesseract-cli', 'paddle'];

export interface OcrEngineStatus {
  name: OcrEngineName;
  available: boolean;
  /** Why it is not available (binary missing, models missing…). */
  reason?: string;
  /** Tesseract-style language codes it can read (eng, fra, chi_sim…). */
  languages: string[];
  version?: string;
  /** Workers or processes it runs pages on in parallel. */
  concurrency: number;
  loaded: boolean;
}

export interface RecognizeRequest {
  languages: string[];
}

/**
 * An embedded OCR engine. Implementations never block the event loop: the work runs
 * in worker threads or child processes. Every engine passes `test/engines/conformance`.
 */
export interface OcrEngine {
  readonly name: OcrEngineName;
  /** Cheap; detection runs once and is cached. Never loads models. */
  status(): Promise<OcrEngineStatus>;
  recognize(image: GreyImage, request: RecognizeRequest, signal?: AbortSignal): Promise<OcrPageText>;
  /** Frees workers, processes and models; the engine loads again on next use. */
  unload(): Promise<void>;
}

/** Smallest box holding all the given boxes. */
export function unionBbox(boxes: Bbox[]): Bbox {
  if (boxes.length === 0) return [0, 0, 0, 0];
  return boxes.reduce<Bbox>((a, b) => [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])], [...boxes[0]!]);
}

export function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

const cjk = /[\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/;

/** Joins words with spaces, except between CJK characters, which are written without them. */
export function joinWords(words: string[]): string {
  return words.reduce((text, word) => (text === '' ? word : cjk.test(text.at(-1)!) && cjk.test(word[0]!) ? text + word : `${text} ${word}`), '');
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

export const round3 = (n: number): number => Math.round(n * 1000) / 1000;
