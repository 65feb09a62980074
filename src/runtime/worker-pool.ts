import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import {
  abortError,
  appError,
  deadline,
  type ErrorFacts,
  type FieldValidation,
  taskTimeoutError,
} from '../errors/app-error.js';
import type { ErrorCode } from '../errors/catalog.js';
import { startedFlag } from '../shared/started-flag.js';
import type { WorkerTask, WorkerTaskResults } from './worker-tasks.js';

interface WorkerFailure {
  failure: 'app' | 'encrypted' | 'corrupt' | 'render-timeout';
  message: string;
  code?: ErrorCode;
  facts?: ErrorFacts;
  validation?: FieldValidation;
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
  return appError(code, f.message, f.facts, f.validation ? { validation: f.validation } : {});
}

/** Worker threads for CPU-bound work (PDF parsing and rendering, decoding, text extraction, summarizing), so the event loop never does it. */
export class WorkerPool {
  private readonly piscina: Piscina;
  /** Most threads it runs at once. */
  readonly size: number;

  /** `taskTimeoutMs`: the time one task may run (waiting for a thread not counted); its thread is then terminated. */
  constructor(
    threads = Math.max(1, availableParallelism()),
    private readonly taskTimeoutMs = 120_000,
  ) {
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

  /**
   * Runs a task on a thread. Its time limit starts when a thread picks it up (the thread
   * flips a shared flag); past it piscina terminates that thread and starts a fresh one, so
   * a runaway parse or render cannot keep a thread, and the caller gets task_timeout.
   */
  async run<T extends WorkerTask>(task: T, signal?: AbortSignal): Promise<WorkerTaskResults[T['type']]> {
    const limit = deadline(signal, this.taskTimeoutMs, () =>
      taskTimeoutError(this.taskTimeoutMs, `the ${task.type} task`),
    );
    const started = startedFlag(() => limit.start());
    try {
      return (await this.piscina.run(
        { ...task, started: started.flag },
        { signal: limit.signal },
      )) as WorkerTaskResults[T['type']];
    } catch (error) {
      if ((error as Error)?.name === 'AbortError') throw abortError(limit.signal);
      throw translate(error);
    } finally {
      limit.clear();
      // Releases the waiter of a task that never started (cancelled while queued).
      started.release();
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
