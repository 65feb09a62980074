import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createWorker, OEM, type PSM, type Worker, type Block } from 'tesseract.js';
import { toPgm, type GreyImage } from '../../documents/raster.js';
import { abortError, appError, deadline, taskTimeoutError } from '../../errors/app-error.js';
import { lineOf, type OcrLine, type OcrPageText } from '../../shared/ocr-text.js';
import { round3 } from '../../shared/numbers.js';
import type { OcrEngine, OcrEngineStatus, RecognizeRequest } from '../ocr-spec.js';
import { buildLanguageFolder, discoverLanguages, tesseractLineHeight, type LanguageSource } from './language-data.js';

/** Pages larger than this (16 MP, an A3 page at 300 dpi) retire the worker that read them. */
const recycleAbovePixels = 16_000_000;

interface Slot {
  worker: Worker;
  languages: string;
  busy: boolean;
  /** Page segmentation mode last set on the worker. */
  psm?: string;
  /** Resolution last set on the worker (user_defined_dpi). */
  dpi?: string;
}

/** Converts tesseract.js's block tree into our lines (confidence 0–1, bbox arrays). */
function linesFromBlocks(blocks: Block[] | null): OcrLine[] {
  const lines: OcrLine[] = [];
  for (const block of blocks ?? []) {
    for (const paragraph of block.paragraphs) {
      for (const line of paragraph.lines) {
        const words = line.words
          .filter((w) => w.text.trim() !== '')
          .map((w) => ({
            text: w.text,
            bbox: [w.bbox.x0, w.bbox.y0, w.bbox.x1, w.bbox.y1] as [number, number, number, number],
            confidence: round3(w.confidence / 100),
          }));
        if (words.length) lines.push(lineOf(words));
      }
    }
  }
  return lines;
}

/**
 * The page's text slope (dy per dx) from Tesseract's own baselines: the median over lines
 * at least a few text heights long, weighted by length; undefined when no line qualifies.
 */
export function skewFromBlocks(blocks: Block[] | null): number | undefined {
  const slopes: Array<{ slope: number; weight: number }> = [];
  for (const block of blocks ?? []) {
    for (const paragraph of block.paragraphs) {
      for (const line of paragraph.lines) {
        const b = line.baseline;
        const dx = b.x1 - b.x0;
        const h = line.rowAttributes?.rowHeight || line.bbox.y1 - line.bbox.y0;
        if (b && dx >= 4 * h && dx > 0) slopes.push({ slope: (b.y1 - b.y0) / dx, weight: dx });
      }
    }
  }
  if (slopes.length === 0) return undefined;
  slopes.sort((a, b) => a.slope - b.slope);
  const half = slopes.reduce((s, x) => s + x.weight, 0) / 2;
  let acc = 0;
  return slopes.find((x) => (acc += x.weight) >= half)!.slope;
}

/**
 * Tesseract compiled to WebAssembly: works everywhere, no system packages. One worker
 * thread per slot; slots are reused across requests and re-initialised when a request
 * needs other languages.
 */
export class TesseractJsEngine implements OcrEngine {
  readonly name = 'tesseract-js' as const;
  readonly pageSegmentation = true;
  readonly pagePreparation = { lineHeight: tesseractLineHeight };
  private readonly sources: LanguageSource[];
  private langFolder: string | undefined;
  private readonly slots: Slot[] = [];
  private readonly waiters: Array<() => void> = [];
  private readonly size: number;

  private readonly taskTimeoutMs: number;

  constructor(options: { workers?: number; extraLanguageDir?: string; taskTimeoutMs?: number } = {}) {
    this.size = options.workers || Math.max(1, availableParallelism());
    this.taskTimeoutMs = options.taskTimeoutMs ?? 120_000;
    this.sources = discoverLanguages(options.extraLanguageDir);
  }

  async status(): Promise<OcrEngineStatus> {
    return {
      name: this.name,
      available: this.sources.length > 0,
      ...(this.sources.length ? {} : { reason: 'no language data found (install @tesseract.js-data/eng)' }),
      languages: this.sources.map((s) => s.code),
      version: '7',
      concurrency: this.size,
      loaded: this.slots.length > 0,
    };
  }

  async recognize(image: GreyImage, request: RecognizeRequest, signal?: AbortSignal): Promise<OcrPageText> {
    const missing = request.languages.filter((l) => !this.sources.some((s) => s.code === l));
    if (missing.length) {
      throw appError(
        'unsupported_language',
        `tesseract-js has no data for ${missing.join(', ')}; installed: ${this.sources.map((s) => s.code).join(', ')}`,
        { allowed: this.sources.map((s) => s.code) },
      );
    }
    const slot = await this.acquire(request.languages.join('+'), signal);
    // tesseract.js cannot stop a recognition: past the time limit (or a cancel) its worker
    // thread is terminated and the slot dropped, so the next page gets a fresh one.
    const limit = deadline(signal, this.taskTimeoutMs, () =>
      taskTimeoutError(this.taskTimeoutMs, 'tesseract-js on one page'),
    );
    limit.start();
    // WebAssembly memory only grows: a worker that read a large page would keep that much for
    // good (about 250 MB after a 40 MP page), so it is retired after one; a new one starts in a second.
    let stopped = image.width * image.height > recycleAbovePixels;
    try {
      // The library's API defaults to one uniform block (PSM 6), which runs the columns of a
      // page and the cells of a table into each other and loses headings; the CLI's automatic
      // layout (PSM 3) is the default here too.
      const psm = String(request.pageSegmentationMode ?? 3) as PSM;
      const dpi = image.dpi ? String(image.dpi) : '0'; // 0: Tesseract estimates it
      if (slot.psm !== psm || slot.dpi !== dpi) {
        await slot.worker.setParameters({ tessedit_pageseg_mode: psm, user_defined_dpi: dpi });
        slot.psm = psm;
        slot.dpi = dpi;
      }
      // Shared memory goes to tesseract.js as is: given a Buffer it copies the page, then copies it again to post it.
      const pgm = toPgm(image);
      const recognized = slot.worker.recognize(
        (pgm.buffer instanceof SharedArrayBuffer ? pgm.buffer : pgm) as Buffer,
        {},
        { blocks: true, text: false, hocr: false, tsv: false },
      );
      const aborted = new Promise<never>((_resolve, reject) => {
        const onAbort = (): void => reject(abortError(limit.signal));
        if (limit.signal.aborted) onAbort();
        else limit.signal.addEventListener('abort', onAbort, { once: true });
      });
      recognized.catch(() => undefined);
      aborted.catch(() => undefined);
      try {
        const result = await Promise.race([recognized, aborted]);
        const skew = skewFromBlocks(result.data.blocks);
        return { lines: linesFromBlocks(result.data.blocks), ...(skew === undefined ? {} : { skew }) };
      } catch (error) {
        if (limit.signal.aborted) stopped = true;
        throw error;
      }
    } finally {
      limit.clear();
      if (stopped) {
        this.slots.splice(this.slots.indexOf(slot), 1);
        void slot.worker.terminate().catch(() => undefined);
      } else slot.busy = false;
      this.waiters.shift()?.();
    }
  }

  private async acquire(languages: string, signal?: AbortSignal): Promise<Slot> {
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      const idle = this.slots.filter((s) => !s.busy);
      const match = idle.find((s) => s.languages === languages);
      if (match) {
        match.busy = true;
        return match;
      }
      if (this.slots.length < this.size) {
        this.langFolder ??= buildLanguageFolder(this.sources);
        const slot: Slot = { worker: undefined as unknown as Worker, languages, busy: true };
        this.slots.push(slot);
        try {
          slot.worker = await createWorker(languages, OEM.LSTM_ONLY, {
            langPath: this.langFolder,
            cacheMethod: 'none',
            gzip: false,
            workerPath: fileURLToPath(new URL('./tesseract-worker.js', import.meta.url)),
          });
        } catch (error) {
          this.slots.splice(this.slots.indexOf(slot), 1);
          throw appError('engine_unavailable', `tesseract-js could not load ${languages}: ${String(error)}`);
        }
        return slot;
      }
      const other = idle[0];
      if (other) {
        other.busy = true;
        await other.worker.reinitialize(languages, OEM.LSTM_ONLY);
        other.languages = languages;
        // Parameters do not survive a re-initialisation.
        delete other.psm;
        delete other.dpi;

        return other;
      }
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          this.waiters.splice(this.waiters.indexOf(wake), 1);
          reject(abortError(signal));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(wake);
      });
    }
  }

  async unload(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker?.terminate().catch(() => undefined)));
  }
}
