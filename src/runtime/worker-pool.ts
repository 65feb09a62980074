import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { abortError, appError, type ErrorFacts } from '../errors/app-error.js';
import type { ErrorCode } from '../errors/catalog.js';
import type { WorkerTask, WorkerTaskResults } from './worker-tasks.js';

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

/** Worker threads for CPU-bound work (PDF parsing and rendering, decoding, text extraction, summarizing), so the event loop never does it. */
export class WorkerPool {
  private readonly piscina: Piscina;
  /** Most threads it runs at once. */
  readonly size: number;

  constructor(threads = Math.max(1, availableParallelism())) {
    this.size = threads;
    this.piscina = new Piscina({
      filename: new URL('./worker-tasks.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: 60_000,
      // A page render at 300 dpi needs room; the pixel limit bounds what any one task can take.
      resourceLimits: { maxOldGenerationSizeMb: 2048 },
    });
  }

  async run<T extends WorkerTask>(task: T, signal?: AbortSignal): Promise<WorkerTaskResults[T['type']]> {
    try {
      return (await this.piscina.run(task, signal ? { signal } : {})) as WorkerTaskResults[T['type']];
    } catch (error) {
      if ((error as Error)?.name === 'AbortError') throw abortError(signal);
      throw translate(error);
    }
  }

  /** Tasks waiting for a thread. */
  get queued(): number {
    return this.piscina.queueSize;
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  async close(): Promise<void> {
    await this.piscina.close({ force: true });
  }
}
