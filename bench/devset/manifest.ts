/** The development set's manifest (written by make-devset, read by the bench) and its scores. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { characterErrorRate } from '../../test/helpers/cer.js';

/** clean: English prose and code; layout: tables, two columns, a form. */
export type PageKind = 'clean' | 'layout' | 'degraded' | 'french' | 'russian' | 'chinese';
export const pageKinds: readonly PageKind[] = ['clean', 'layout', 'degraded', 'french', 'russian', 'chinese'];

export interface DevPage {
  id: string;
  kind: PageKind;
  /** Tesseract codes a client would ask for ("rus", "chi_sim"). */
  languages: string;
  dpi: number;
  /** Where the text comes from (file, page, degradation). */
  source: string;
  /** Part of the small subset (`npm run bench -- --quick`). */
  quick: boolean;
}

export interface DevsetManifest {
  built: string;
  pages: DevPage[];
}

export function loadDevset(dir: string): { pages: Array<DevPage & { image: string; truth: string }> } | undefined {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as DevsetManifest;
  return {
    pages: manifest.pages.map((p) => ({
      ...p,
      image: join(dir, `${p.id}.png`),
      truth: readFileSync(join(dir, `${p.id}.txt`), 'utf8'),
    })),
  };
}

const cjk = /[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]/u;

/**
 * Words for WER and F1: split at spaces; CJK text (written without spaces) counts each
 * character as a word, so that Chinese scores are comparable with the rest.
 */
export function words(text: string): string[] {
  return text
    .normalize('NFKC')
    .split(/\s+/)
    .flatMap((w) => (cjk.test(w) ? [...w].filter((c) => c.trim() !== '') : [w]))
    .filter(Boolean);
}

function editDistance<T>(a: T[], b: T[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

export function wordErrorRate(reference: string, hypothesis: string): number {
  const ref = words(reference);
  return ref.length === 0 ? 0 : editDistance(ref, words(hypothesis)) / ref.length;
}

/** Bag-of-words F1 (order-free: says what was read, whatever the reading order). */
export function wordF1(reference: string, hypothesis: string): number {
  const ref = new Map<string, number>();
  for (const w of words(reference)) ref.set(w, (ref.get(w) ?? 0) + 1);
  const hyp = words(hypothesis);
  let hit = 0;
  for (const w of hyp) {
    const n = ref.get(w) ?? 0;
    if (n > 0) {
      hit++;
      ref.set(w, n - 1);
    }
  }
  const refCount = words(reference).length;
  if (hit === 0) return refCount === 0 && hyp.length === 0 ? 1 : 0;
  const precision = hit / hyp.length;
  const recall = hit / refCount;
  return (2 * precision * recall) / (precision + recall);
}

/** Chinese is written without spaces; a space some renderer or engine put between two CJK characters is no error. */
export function foldCjkSpaces(text: string): string {
  return text.replace(
    /([\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])[ \t]+(?=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])/gu,
    '$1',
  );
}

export interface Scores {
  cer: number;
  wer: number;
  f1: number;
}

/** CER with NFKC folding (full-width forms, ligatures) so that glyph variants are not errors. */
export function score(reference: string, hypothesis: string): Scores {
  const r = foldCjkSpaces(reference.normalize('NFKC'));
  const h = foldCjkSpaces(hypothesis.normalize('NFKC'));
  return { cer: Math.min(1, characterErrorRate(r, h)), wer: Math.min(1, wordErrorRate(r, h)), f1: wordF1(r, h) };
}
