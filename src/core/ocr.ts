import { abortError } from '../errors/app-error.js';
import type { Metrics } from '../runtime/metrics.js';
import { recordCost } from '../runtime/usage-meter.js';
import { openDocument, type DocumentLimits, type DocumentPage, type OpenedDocument } from '../documents/document.js';
import type { WorkerPool } from '../runtime/worker-pool.js';
import { selectPages, type PageSelection } from '../shared/page-selection.js';
import type { EngineChoice, OcrEngines } from '../engines/ocr-engines.js';
import { mean, round3 } from '../shared/numbers.js';
import type { WeightedSemaphore } from '../shared/semaphore.js';
import type { OcrEngine, OcrEngineName } from '../engines/ocr-spec.js';
import type { OcrLine, OcrPageText, OcrWord } from '../shared/ocr-text.js';
import { blocksToMarkdown, blocksToText, layoutBlocks, linesFromTextLayer, type Block } from './layout.js';
import { applyCheckboxes } from './checkbox-lines.js';
import { orderedMap } from './ordered-map.js';
import { pagePreview, type PagePreview } from './preview.js';
import { readPageImage } from './page-reading.js';
import { withLatin } from '../shared/languages.js';

/** The OCR options a request starts from (the config's, parsed once at start-up). */
export interface OcrDefaults {
  engine: EngineChoice;
  languages: string[];
  dpi: number;
}

export interface OcrOptions {
  engine: EngineChoice;
  languages: string[];
  /** The pages to read (parsed by the surface from "1-3,7"); all pages when absent. */
  pages?: PageSelection;
  dpi: number;
  /** OCR pages even when they have a text layer. */
  forceOcr?: boolean;
  minTextChars?: number;
  renderTimeoutMs?: number;
  /** Add a small PNG of each page (pages[].preview), e.g. to draw word boxes over it. */
  previews?: boolean;
  /** Find checkboxes and write them into the text as [√] / [ ]. */
  checkboxes?: boolean;
  /** Read with exactly `languages` (no English added to a non-Latin script). */
  exactLanguages?: boolean;
}

export interface OcrPageResult {
  page: number;
  width: number;
  height: number;
  source: 'text-layer' | 'ocr';
  engine: OcrEngineName | 'pdf-text-layer';
  text: string;
  markdown: string;
  confidence: number;
  words: OcrWord[];
  lines: OcrLine[];
  blocks: Block[];
  preview?: PagePreview;
  timings: { total_ms: number };
}

export interface OcrResult {
  text: string;
  markdown: string;
  pages: OcrPageResult[];
  document: { type: string; bytes: number; page_count: number; pages_processed: number };
  languages: string[];
  timings: { total_ms: number };
}

export interface OcrDependencies {
  workers: WorkerPool;
  engines: OcrEngines;
  limits: DocumentLimits;
  metrics?: Metrics;
  /**
   * Pixels of pages in memory at once across all requests (limits.maxPixelsInFlight): a page
   * takes its pixels from this budget before it is decoded or rendered and gives them back
   * once it is read, so concurrent large pages wait their turn instead of adding up.
   */
  pageMemory?: WeightedSemaphore;
}

async function pageResult(
  page: DocumentPage,
  engine: OcrPageResult['engine'],
  read: OcrPageText,
  started: number,
  previews: boolean,
): Promise<OcrPageResult> {
  const lines = read.lines;
  const blocks = layoutBlocks(lines, {
    ordered: page.source === 'text-layer',
    ...(read.skew !== undefined ? { skew: read.skew } : {}),
  });
  const preview = previews && page.image ? await pagePreview(page.image) : undefined;
  const words = lines.flatMap((l) => l.words);
  return {
    page: page.page,
    width: page.width,
    height: page.height,
    source: page.source,
    engine,
    text: blocksToText(blocks),
    markdown: blocksToMarkdown(blocks),
    confidence: round3(mean(words.map((w) => w.confidence))),
    words,
    lines,
    blocks,
    ...(preview ? { preview } : {}),
    timings: { total_ms: Math.round(performance.now() - started) },
  };
}

/**
 * Reads the selected pages of an opened document: text-layer pages directly, the rest
 * through the chosen engine, several pages at once, results in page order.
 */
export async function* ocrPages(
  deps: OcrDependencies,
  doc: OpenedDocument,
  options: OcrOptions,
  signal?: AbortSignal,
): AsyncGenerator<OcrPageResult> {
  const pages = selectPages(options.pages, doc.pageCount);
  // Choose before any work so a bad engine/language fails fast, even for digital PDFs.
  const languages = await effectiveLanguages(deps, options);
  const engines = await deps.engines.rank(options.engine, languages);
  const engine: OcrEngine = engines[0]!;
  const engineStatus = await engine.status();
  const previews = options.previews ?? false;
  const readOptions = {
    dpi: options.dpi,
    forceOcr: options.forceOcr ?? false,
    minTextChars: options.minTextChars ?? 8,
    renderTimeoutMs: options.renderTimeoutMs ?? deps.limits.pdfRenderTimeoutMs,
    wantImage: previews || (options.checkboxes ?? false),
  };
  // Text layers read in runs of pages (no rendering, no task per page); scans rendered one ahead of the engine.
  const layers =
    doc.readTextLayers && !readOptions.forceOcr && !readOptions.wantImage
      ? doc.readTextLayers(pages, readOptions, signal)
      : undefined;
  const concurrency = Math.max(1, engineStatus.concurrency);
  const reading = new Map<number, Promise<DocumentPage>>();
  // Each page read (decoded or rendered) holds its pixels of deps.pageMemory until it is recognised.
  const leases = new Map<number, () => void>();
  const release = (n: number): void => {
    leases.get(n)?.();
    leases.delete(n);
  };
  const readPixels = async (n: number): Promise<DocumentPage> => {
    if (deps.pageMemory) {
      const pixels = await doc.pagePixels(n, readOptions, signal);
      leases.set(n, await deps.pageMemory.acquire(pixels, signal));
    }
    const page = await doc.readPage(n, readOptions, signal);
    // A text-layer page without a picture holds no pixels.
    if (!page.image) release(n);
    return page;
  };
  const read = (n: number): Promise<DocumentPage> => {
    let pending = reading.get(n);
    if (!pending) {
      pending = (layers?.get(n) ?? Promise.resolve(undefined)).then((page) => page ?? readPixels(n));
      pending.catch(() => undefined); // surfaced when its page is read
      reading.set(n, pending);
    }
    return pending;
  };
  try {
    yield* orderedMap(pages, concurrency, async (pageNumber) => {
      try {
        return await readOne(pageNumber);
      } finally {
        release(pageNumber);
      }
    });
  } finally {
    // A page rendered ahead and never read (error, cancellation) finishes before the document closes.
    await Promise.allSettled(reading.values());
    for (const n of [...leases.keys()]) release(n);
  }

  async function readOne(pageNumber: number): Promise<OcrPageResult> {
    if (signal?.aborted) throw abortError(signal);
    const started = performance.now();
    const page = await read(pageNumber);
    reading.delete(pageNumber);
    // The page after those in flight is rendered while this one is being recognised.
    const ahead = page.source === 'ocr' ? pages[pages.indexOf(pageNumber) + concurrency] : undefined;
    if (ahead !== undefined) void read(ahead);
    const recognized =
      page.source === 'text-layer' ? undefined : await readPageImage(deps, engines, page.image, languages, signal);
    const text: OcrPageText =
      page.source === 'text-layer' ? { lines: linesFromTextLayer(page.lines) } : recognized!.text;
    if (options.checkboxes && page.image)
      text.lines = applyCheckboxes(
        text.lines,
        await deps.workers.run({ type: 'detect-checkboxes', image: page.image }, signal),
      );
    const result = await pageResult(
      page,
      recognized ? recognized.engine.name : 'pdf-text-layer',
      text,
      started,
      previews,
    );
    deps.metrics?.ocrPages.inc({ engine: result.engine, source: result.source });
    recordCost('pages', 1);
    if (page.source === 'ocr') recordCost('megapixels', (page.width * page.height) / 1e6);
    deps.metrics?.ocrPageDuration.observe({ engine: result.engine }, result.timings.total_ms / 1000);
    return result;
  }
}

/**
 * The languages a request is read with: a non-Latin script gets English added (real pages
 * mix scripts) unless the client asked for its languages exactly, or no engine has both.
 */
export async function effectiveLanguages(
  deps: Pick<OcrDependencies, 'engines'>,
  options: Pick<OcrOptions, 'engine' | 'languages' | 'exactLanguages'>,
): Promise<string[]> {
  const mixed = withLatin(options.languages, options.exactLanguages ?? false);
  if (mixed === options.languages) return mixed;
  return deps.engines.rank(options.engine, mixed).then(
    () => mixed,
    () => options.languages,
  );
}

/** For long documents run as jobs: pages already read (kept across restarts) and a hook per page. */
export interface OcrProgress {
  /** Pages read by an earlier run, by page number; they are not read again. */
  earlier?: ReadonlyMap<number, OcrPageResult>;
  /** Called once the document is open, with how many pages will be in the result. */
  onStart?(total: number): Promise<void> | void;
  /** Called as each page finishes (in page order). */
  onPage?(page: OcrPageResult): Promise<void> | void;
}

/** Whole-document OCR: open, read every selected page, assemble text and Markdown. */
export async function ocrDocument(
  deps: OcrDependencies,
  bytes: Buffer,
  options: OcrOptions,
  signal?: AbortSignal,
  progress: OcrProgress = {},
): Promise<OcrResult> {
  const started = performance.now();
  const doc = await openDocument(bytes, deps.limits, deps.workers, signal);
  try {
    const selected = selectPages(options.pages, doc.pageCount);
    const kept = new Map([...(progress.earlier ?? [])].filter(([page]) => selected.includes(page)));
    const remaining = selected.filter((page) => !kept.has(page));
    await progress.onStart?.(selected.length);
    const read: OcrPageResult[] = [];
    if (remaining.length) {
      for await (const page of ocrPages(
        deps,
        doc,
        { ...options, pages: remaining.map((page) => ({ first: page, last: page })) },
        signal,
      )) {
        read.push(page);
        await progress.onPage?.(page);
      }
    }
    const pages = [...kept.values(), ...read].sort((a, b) => a.page - b.page);
    return {
      text: pages.map((p) => p.text).join('\n\n'),
      markdown: pages.map((p) => p.markdown).join('\n\n---\n\n'),
      pages,
      document: { type: doc.mimeType, bytes: doc.byteLength, page_count: doc.pageCount, pages_processed: pages.length },
      languages: await effectiveLanguages(deps, options),
      timings: { total_ms: Math.round(performance.now() - started) },
    };
  } finally {
    await doc.close();
  }
}
