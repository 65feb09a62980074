/**
 * Reads one page image well and without waste: look at the page first (text size, skew,
 * speckle, a title far larger than the text; in a worker thread), straighten it and scale it
 * to the size the recogniser wants, choose Tesseract's segmentation for it,
 * read it with the best engine for the request, and when that answer is empty or unsure on
 * a page that visibly holds text, read it another way (next engine, another segmentation)
 * and keep the better answer.
 */
import { abortError, isAppError } from '../errors/app-error.js';
import type { GreyImage } from '../documents/raster.js';
import type { PageAnalysis } from '../documents/page-analysis.js';
import { preparePage, type PreparedPage, type PrepSteps } from '../documents/page-prep.js';
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

/** Skew (degrees) from which a page is straightened: smaller, Tesseract copes by itself. */
const minSkew = 0.5;
/**
 * An answer below this mean word confidence is noise read as text: another reading is tried.
 * (Kept low: a second pass on every merely imperfect page would double the time.)
 */
const unsure = 0.3;
/**
 * An answer with fewer lines than this share of the text lines the analysis counted has lost
 * part of the page (one-block segmentation reads a ruled table or a boxed form as a few lines
 * and drops the rest: 7 lines of 30 on a devset table page, against 0.6–0.9 on prose, columns
 * and unruled tables): it is read again with the other segmentation.
 */
const minCoverage = 0.5;

const cjkLanguages = /^(chi_|jpn|kor)/;

const asItIs: PrepSteps = { rotate: 0, scale: 1, median: false };

/** The steps that prepare a page for `engine`: straighten, despeckle, scale down to its line height. */
export function prepSteps(
  analysis: PageAnalysis,
  languages: string[],
  engine: Pick<OcrEngine, 'pagePreparation'>,
): PrepSteps {
  if (!engine.pagePreparation) return asItIs;
  const target = engine.pagePreparation.lineHeight[languages.some((l) => cjkLanguages.test(l)) ? 'cjk' : 'latin'];
  const height = analysis.lineHeight ?? 0;
  // Only shrink clearly oversized text: a line-height estimate can be low, never scale up on it.
  const scale = height > target * (engine.pagePreparation.shrinkAbove ?? 1.25) ? Math.max(0.4, target / height) : 1;
  return { rotate: Math.abs(analysis.skew) >= minSkew ? -analysis.skew : 0, scale, median: analysis.speckle > 0.003 };
}

/**
 * Tesseract's segmentation for a page: one uniform block (PSM 6) reads tables and columns
 * whole (automatic layout drops lone numbers of a table's cells as noise) and is faster;
 * automatic layout (PSM 3) keeps a title far taller than the body text, which PSM 6 drops.
 * The other one is the second try on an answer that comes back empty or unsure.
 */
export const segmentationModes = (analysis: PageAnalysis): [number, number] => (analysis.largeText ? [3, 6] : [6, 3]);

/** How much confident text an answer holds: characters weighted by their word's confidence. */
function weight(text: OcrPageText): number {
  return text.lines.reduce((sum, line) => sum + line.words.reduce((s, w) => s + w.text.length * w.confidence, 0), 0);
}

function meanConfidence(text: OcrPageText): number {
  const words = text.lines.flatMap((l) => l.words);
  return words.length ? words.reduce((s, w) => s + w.confidence, 0) / words.length : 0;
}

/**
 * Boxes found on the prepared image, taken back to the page's own pixels. The engine's skew
 * was measured on the straightened page: on the page itself the lines slope by the
 * straightening angle (`rotated`, degrees) plus whatever the engine still saw.
 */
function remap(text: OcrPageText, unmap: (x: number, y: number) => [number, number], rotated: number): OcrPageText {
  const box = (b: Bbox): Bbox => {
    const corners = [unmap(b[0], b[1]), unmap(b[2], b[1]), unmap(b[0], b[3]), unmap(b[2], b[3])];
    const xs = corners.map((c) => c[0]);
    const ys = corners.map((c) => c[1]);
    return [
      Math.round(Math.min(...xs)),
      Math.round(Math.min(...ys)),
      Math.round(Math.max(...xs)),
      Math.round(Math.max(...ys)),
    ];
  };
  const lines: OcrLine[] = text.lines.map((line) => lineOf(line.words.map((w) => ({ ...w, bbox: box(w.bbox) }))));
  if (rotated === 0) return { lines, ...(text.skew === undefined ? {} : { skew: text.skew }) };
  return { lines, skew: Math.tan((rotated * Math.PI) / 180 + Math.atan(text.skew ?? 0)) };
}

/** `engines`: the request's engines, best first (one when the client named it). */
export async function readPageImage(
  deps: PageReadingDependencies,
  engines: OcrEngine[],
  image: GreyImage,
  languages: string[],
  signal?: AbortSignal,
): Promise<PageReading> {
  const analysis = await deps.workers.run({ type: 'analyze-page', image }, signal);
  // Prepared once per set of steps (the Tesseracts share theirs; PaddleOCR reads the page as it is).
  const prepared = new Map<string, Promise<{ steps: PrepSteps; page: PreparedPage }>>();
  const prepare = (engine: OcrEngine): Promise<{ steps: PrepSteps; page: PreparedPage }> => {
    const steps = prepSteps(analysis, languages, engine);
    const key = JSON.stringify(steps);
    let pending = prepared.get(key);
    if (!pending) {
      pending = preparePage(image, steps).then((page) => ({ steps, page }));
      prepared.set(key, pending);
    }
    return pending;
  };
  const [first, second] = segmentationModes(analysis);
  const head = engines[0]!;
  const attempts: Array<{ engine: OcrEngine; psm?: number; onlyIfEmpty?: boolean }> = head.pageSegmentation
    ? [
        { engine: head, psm: first },
        { engine: head, psm: second },
      ]
    : [{ engine: head }];
  // Another engine, when the first found nothing at all (confidences of different engines
  // do not compare, so it does not compete with an answer that has text).
  attempts.push(
    ...engines
      .slice(1, 2)
      .map((engine) => ({ engine, onlyIfEmpty: true, ...(engine.pageSegmentation ? { psm: first } : {}) })),
  );
  let best: { engine: OcrEngine; text: OcrPageText; weight: number; steps: PrepSteps; page: PreparedPage } | undefined;
  for (const attempt of attempts) {
    if (signal?.aborted) throw abortError(signal);
    if (attempt.onlyIfEmpty && best && best.text.lines.length > 0) break;
    let text: OcrPageText;
    const { steps, page } = await prepare(attempt.engine);
    try {
      text = await attempt.engine.recognize(
        page.image,
        { languages, ...(attempt.psm ? { pageSegmentationMode: attempt.psm } : {}) },
        signal,
      );
    } catch (error) {
      if (!isAppError(error) || error.status >= 500) deps.metrics?.engineErrors.inc({ engine: attempt.engine.name });
      if (best) continue; // a fallback failing leaves the first answer standing
      throw error;
    }
    const w = weight(text);
    if (!best || w > best.weight) best = { engine: attempt.engine, text, weight: w, steps, page };
    // Good enough, or nothing to find: stop at the first answer (no wasted passes).
    const covers = !analysis.textLines || best.text.lines.length >= analysis.textLines * minCoverage;
    if (!analysis.hasText || (best.text.lines.length > 0 && meanConfidence(best.text) >= unsure && covers)) break;
  }
  return { engine: best!.engine, text: remap(best!.text, best!.page.unmap, -best!.steps.rotate) };
}
