import { execFile, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { toPgm, type GreyImage } from '../../documents/raster.js';
import { abortError, appError, deadline, taskTimeoutError } from '../../errors/app-error.js';
import { Semaphore } from '../../shared/semaphore.js';
import type { OcrEngine, OcrEngineStatus, RecognizeRequest } from '../ocr-spec.js';
import type { OcrPageText } from '../../shared/ocr-text.js';
import { linesFromTsv } from './tsv.js';
import { buildModelFolder } from './model-folder.js';
import { TesseractProcessPool } from './tesseract-process.js';

const run = promisify(execFile);

/**
 * Text line height (ink extent, pixels) the native binary's models read as well as any larger
 * size, and the factor above it from which a page is shrunk: below tesseract.js's (23 Latin,
 * 56 CJK, from 1.25×). Measured on the development set's 35 pages with the same models: 18 px
 * from 1.1× reads every kind as well or better (mean CER 2.98 → 2.69 %; Chinese 300 dpi pages,
 * ~36 px lines, read better halved: 8.9 → 8.4 %, at a third less CPU) and saves Tesseract's
 * full-resolution thresholding and layout work (a 300 dpi page costs it ~0.7 s more than the
 * same page at 150 dpi); 16 px starts to lose table cells, 14 px loses many.
 */
const nativeLineHeight = { latin: 18, cjk: 18 } as const;

interface Detection {
  available: boolean;
  reason?: string;
  version?: string;
  languages: string[];
  /** `stdbuf` is there, so pages go to long-lived processes (see TesseractProcess). */
  streaming?: boolean;
  /** --tessdata-dir with the npm best_int and the system's models (model-folder.ts). */
  tessdataDir?: string;
  models?: string;
}

/**
 * The native `tesseract` binary: single-threaded processes, one per page in flight (a second
 * OpenMP thread buys little and costs much: one process per core is the efficient shape),
 * kept alive across pages so the models load once (TesseractProcessPool).
 */
export class TesseractCliEngine implements OcrEngine {
  readonly name = 'tesseract-cli' as const;
  readonly pageSegmentation = true;
  readonly pagePreparation = { lineHeight: nativeLineHeight, shrinkAbove: 1.1 };
  private detection: Promise<Detection> | undefined;
  private readonly slots: Semaphore;
  private readonly concurrency: number;
  private readonly running = new Set<ReturnType<typeof spawn>>();
  private readonly processes: TesseractProcessPool;

  constructor(
    private readonly options: {
      binary: string;
      workers?: number;
      pageSegmentationMode?: number;
      systemModelsOnly?: boolean;
      taskTimeoutMs?: number;
    },
  ) {
    this.concurrency = options.workers || Math.max(1, availableParallelism());
    this.slots = new Semaphore(this.concurrency);
    this.processes = new TesseractProcessPool(options.binary, this.concurrency);
  }

  /** Runs `tesseract --version` and `--list-langs` once (start-up calls this early, without waiting). */
  detect(): Promise<Detection> {
    this.detection ??= (async () => {
      if (!this.options.binary)
        return { available: false, reason: 'disabled by config (ocr.tesseractBinary is empty)', languages: [] };
      try {
        const version = await run(this.options.binary, ['--version'], { timeout: 5000 });
        const best = this.options.systemModelsOnly ? undefined : await buildModelFolder().catch(() => undefined);
        const list = await run(
          this.options.binary,
          ['--list-langs', ...(best ? ['--tessdata-dir', best.folder] : [])],
          {
            timeout: 5000,
          },
        );
        const streaming = await run('stdbuf', ['--version'], { timeout: 5000 }).then(
          () => true,
          () => false,
        );
        const languages = list.stdout
          .split('\n')
          .slice(1)
          .map((l) => l.trim())
          .filter((l) => /^[a-z_]+$/.test(l) && l !== 'osd');
        return {
          available: true,
          version: /tesseract\s+(\S+)/i.exec(version.stdout + version.stderr)?.[1] ?? 'unknown',
          languages,
          streaming,
          ...(best
            ? {
                tessdataDir: best.folder,
                models: `best_int (npm) for ${best.npm.join(', ')}; system (Debian: fast) for the rest`,
              }
            : { models: 'system' }),
        };
      } catch {
        return {
          available: false,
          reason: `the "${this.options.binary}" binary was not found (apt-get install tesseract-ocr)`,
          languages: [],
        };
      }
    })();
    return this.detection;
  }

  async status(): Promise<OcrEngineStatus> {
    const d = await this.detect();
    const { tessdataDir: _folder, streaming: _streaming, ...shown } = d;
    return { name: this.name, ...shown, concurrency: this.concurrency, loaded: d.available };
  }

  async recognize(image: GreyImage, request: RecognizeRequest, signal?: AbortSignal): Promise<OcrPageText> {
    const d = await this.detect();
    if (!d.available) throw appError('engine_unavailable', `tesseract-cli is not available: ${d.reason}`);
    const missing = request.languages.filter((l) => !d.languages.includes(l));
    if (missing.length)
      throw appError(
        'unsupported_language',
        `tesseract-cli has no data for ${missing.join(', ')}; installed: ${d.languages.join(', ')} (apt-get install tesseract-ocr-<lang>)`,
        { allowed: d.languages },
      );
    const args = this.arguments(request, d.tessdataDir);
    return this.slots.use(async () => {
      // The time limit starts with the page's turn: waiting for a slot does not count.
      const limit = deadline(signal, this.options.taskTimeoutMs ?? 120_000, () =>
        taskTimeoutError(this.options.taskTimeoutMs ?? 120_000, 'tesseract on one page'),
      );
      limit.start();
      try {
        if (!d.streaming)
          return await this.spawnOnce(
            image,
            [...args, ...(image.dpi ? ['--dpi', String(image.dpi)] : [])],
            limit.signal,
          );
        return { lines: linesFromTsv(await this.processes.read(image, args, limit.signal)) };
      } finally {
        limit.clear();
      }
    }, signal);
  }

  /** Model folder, languages, LSTM only, segmentation mode. */
  private arguments(request: RecognizeRequest, tessdataDir: string | undefined): string[] {
    const psm = request.pageSegmentationMode ?? this.options.pageSegmentationMode ?? 3;
    return [
      ...(tessdataDir ? ['--tessdata-dir', tessdataDir] : []),
      '-l',
      request.languages.join('+'),
      '--oem',
      '1',
      '--psm',
      String(psm),
    ];
  }

  /** One process for one page (where `stdbuf` is missing): the models load for every page. */
  private spawnOnce(image: GreyImage, args: string[], signal?: AbortSignal): Promise<OcrPageText> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.binary, ['stdin', 'stdout', ...args, 'tsv'], {
        env: { ...process.env, OMP_THREAD_LIMIT: '1' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      this.running.add(child);
      const out: Buffer[] = [];
      let err = '';
      const onAbort = (): void => {
        child.kill('SIGKILL');
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => {
        if (err.length < 4000) err += d.toString();
      });
      child.stdin.on('error', () => undefined); // EPIPE when the process dies early; 'close' reports it
      child.on('error', (e) => reject(appError('engine_unavailable', `tesseract-cli failed to start: ${e.message}`)));
      child.on('close', (code) => {
        this.running.delete(child);
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return reject(abortError(signal));
        if (code !== 0)
          return reject(appError('internal', `tesseract exited with code ${code}: ${err.trim().slice(0, 300)}`));
        resolve({ lines: linesFromTsv(Buffer.concat(out).toString('utf8')) });
      });
      child.stdin.end(toPgm(image));
    });
  }

  async unload(): Promise<void> {
    for (const child of this.running) child.kill('SIGKILL');
    await this.processes.close();
  }
}
