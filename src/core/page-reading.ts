/**
 * Reads one page image well and without waste: look at the page first (text size, skew,
 * speckle; in a worker thread), straighten and scale it to the size the recogniser wants,
 * read it with the best engine for the request, and when that answer is empty or unsure on
 * a page that visibly holds text, read it another way (next engine, another segmentation)
 * and keep the better answer.
 */
import { abortError, isAppError } from '../errors/app-error.js';
import type { GreyImage } from '../documents/raster.js';
import type { PageAnalysis } from '../documents/page-analysis.js';
import { preparePage, type PrepSteps } from '../documents/page-prep.js';
import type { WorkerPool } from '../runtime/worker-pool.js';
import type { Metrics } from '../runtime/metrics.js';
import type { OcrEngine } from '../engines/ocr-spec.js';
import { lineOf, type Bbox, type OcrLine, type OcrPageText } from '../shared/ocr-text.js';

export interface PageReadingDependencies {
  workers: WorkerPool;
  metrics?: Metrics;
}

export interface PageReading {
  engine: OcrEngine;
  text: OcrPageText;
}

/**
 * Text line height (ink extent, pixels) the LSTM recognisers read as well as any larger size:
 * they scale each line to 36 px (Latin) or 48 px (Chinese) anyway, so bigger pages only cost
 * layout time. Measured on the development set (lines measured as this module's analysis
 * does): 300 dpi Latin pages (~32 px) shrunk to ~70 % read as well, 25–30 % faster (below, bold
 * condensed text starts to break); Chinese
 * loses accuracy when shrunk, so it is left alone at usual sizes.
 */
const targetLineHeight = { latin: 23, cjk: 56 };
/** Skew (degrees) from which a page is straightened: smaller, Tesseract copes by itself. */
const minSkew = 0.5;
/**
 * An answer below this mean word confidence is noise read as text: another reading is tried.
 * (Kept low: a second pass on every merely imperfect page would double the time.)
 */
const unsure = 0.3;

const cjkLanguages = /^(chi_|jpn|kor)/;

export function prepSteps(analysis: PageAnalysis, languages: string[]): PrepSteps {
  const target = languages.some((l) => cjkLanguages.test(l)) ? targetLineHeight.cjk : targetLineHeight.latin;
  const height = analysis.lineHeight ?? 0;
  // Only shrink clearly oversized text: a line-height estimate can be low, never scale up on it.
  const scale = height > target * 1.25 ? Math.max(0.4, target / height) : 1;
  return { rotate: Math.abs(analysis.skew) >= minSkew ? -analysis.skew : 0, scale, median: analysis.speckle > 0.003 };
}

/** How much confident text an answer holds: characters weighted by their word's confidence. */
function weight(text: OcrPageText): number {
  return text.lines.reduce((sum, line) => sum + line.words.reduce((s, w) => s + w.text.length * w.confidence, 0), 0);
}

function meanConfidence(text: OcrPageText): number {
  const words = text.lines.flatMap((l) => l.words);
  return words.length ? words.reduce((s, w) => s + w.confidence, 0) / words.length : 0;
}

function remap(text: OcrPageText, unmap: (x: number, y: number) => [number, number]): OcrPageText {
  const box = (b: Bbox): Bbox => {
    const corners = [unmap(b[0], b[1]), unmap(b[2], b[1]), unmap(b[0], b[3]), unmap(b[2], b[3])];
    const xs = corners.map((c) => c[0]);
    const ys = corners.map((c) => c[1]);
    return [Math.round(Math.min(...xs)), Math.round(Math.min(...ys)), Math.round(Math.max(...xs)), Math.round(Math.max(...ys))];
  };
  const lines: OcrLine[] = text.lines.map((line) => lineOf(line.words.map((w) => ({ ...w, bbox: box(w.bbox) }))));
  return { lines };
}

/** `engines`: the request's engines, best first (one when the client named it). */
export async function readPageImage(deps: PageReadingDependencies, engines: OcrEngine[], image: GreyImage, languages: string[], signal?: AbortSignal): Promise<PageReading> {
  const analysis = await deps.workers.run({ type: 'analyze-page', image }, signal);
  const prepared = await preparePage(image, prepSteps(analysis, languages));
  const attempts: Array<{ engine: OcrEngine; psm?: number; onlyIfEmpty?: boolean }> = [
    { engine: engines[0]! },
    // One uniform block: finds text that automatic layout dropped as noise or picture.
    { engine: engines[0]!, psm: 6 },
    // Another engine, when the first found nothing at all (confidences of different engines
    // do not compare, so it does not compete with an answer that has text).
    ...engines.slice(1, 2).map((engine) => ({ engine, onlyIfEmpty: true })),
  ];
  let best: { engine: OcrEngine; text: OcrPageText; weight: number } | undefined;
  for (const attempt of attempts) {
    if (signal?.aborted) throw abortError(signal);
    if (attempt.onlyIfEmpty && best && best.text.lines.length > 0) break;
    let text: OcrPageText;
    try {
      text = await attempt.engine.recognize(prepared.image, { languages, ...(attempt.psm ? { pageSegmentationMode: attempt.psm } : {}) }, signal);
    } catch (error) {
      if (!isAppError(error) || error.status >= 500) deps.metrics?.engineErrors.inc({ engine: attempt.engine.name });
      if (best) continue; // a fallback failing leaves the first answer standing
      throw error;
    }
    const w = weight(text);
    if (!best || w > best.weight) best = { engine: attempt.engine, text, weight: w };
    // Good enough, or nothing to find: stop at the first answer (no wasted passes).
    if (!analysis.hasText || (best.text.lines.length > 0 && meanConfidence(best.text) >= unsure)) break;
  }
  return { engine: best!.engine, text: remap(best!.text, prepared.unmap) };
}
