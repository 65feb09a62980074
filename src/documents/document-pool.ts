import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { abortError, appError, type ErrorFacts } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/catalog.js';
import type { DocumentTask } from './document-worker.js';
import type { PdfPageOutput, PdfSummary } from './pdf-reader.js';
import type { GreyImage } from './raster.js';

type TaskResult<T extends DocumentTask['type']> = T extends 'pdf-summary' ? PdfSummary : T extends 'pdf-page' ? PdfPageOutput : T extends 'bmp-decode' ? GreyImage : null;

interface WorkerFailure {
  failure: 'app' | 'encrypted' | 'corrupt' | 'render-timeout';
  message: string;
  code?: ErrorCode;
  facts?: ErrorFacts;
}

const failureCodes: Record<Exclude<WorkerFailure['failure'], 'app'>, ErrorCode> = {
  encrypted: 'pdf_encrypted',
  corrupt: 'corrupt_document',
  'render-timeout': 'render_timeout',
};

function translate(error: unknown): unknown {
  const f = error as Partial<WorkerFailure> | null;
  if (!f || typeof f !== 'object' || typeof f.failure !== 'string' || typeof f.message !== 'string') return error;
  const code = f.failure === 'app' ? (f.code ?? 'internal') : failureCodes[f.failure];
  return appError(code, f.message, f.facts);
}

/** Worker threads that parse and render documents, so the event loop never does. */
export class DocumentPool {
  private readonly piscina: Piscina;

  constructor(threads = Math.max(1, availableParallelism())) {
    this.piscina = new Piscina({
      filename: new URL('./document-worker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: 60_000,
      // A page render at 300 dpi needs room; the pixel limit bounds what any one task can take.
      resourceLimits: { maxOldGenerationSizeMb: 2048 },
    });
  }

  async run<T extends DocumentTask>(task: T, signal?: AbortSignal): Promise<TaskResult<T['type']>> {
    try {
      return (await this.piscina.run(task, signal ? { signal } : {})) as TaskResult<T['type']>;
    } catch (error) {
      if ((error as Error)?.name === 'AbortError') throw abortError(signal);
      throw translate(error);
    }
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  async close(): Promise<void> {
    await this.piscina.close({ force: true });
  }
}
