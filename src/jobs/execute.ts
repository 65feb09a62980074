import { appError, isAppError } from '../errors/app-error.js';
import {
  jobError,
  type JobContext,
  type JobError,
  type JobHandler,
  type JobProgress,
  type JobState,
  type JobStatus,
} from './job.js';

/** How a run ended, as the store records it (compare-and-set on the run's attempt). */
export type RunOutcome =
  | { status: 'succeeded'; result: unknown }
  | { status: 'failed'; error: JobError }
  | { status: 'cancelled' }
  | { status: 'requeued' };

/** What a store writes for a run's outcome: the status left, the JSON of its result or error, the attempts after it. */
export function outcomeRecord(
  job: JobState,
  outcome: RunOutcome,
): { status: JobStatus; result: string | null; error: string | null; attempts: number } {
  // A run stopped by shutdown goes back to the queue without using up an attempt.
  if (outcome.status === 'requeued') return { status: 'queued', result: null, error: null, attempts: job.attempts - 1 };
  return {
    status: outcome.status,
    result: outcome.status === 'succeeded' ? JSON.stringify(outcome.result ?? null) : null,
    error: outcome.status === 'failed' ? JSON.stringify(outcome.error) : null,
    attempts: job.attempts,
  };
}

/** What a store does for a run it claimed; every call names the attempt, so a stale run changes nothing. */
export interface RunHooks {
  progress(job: JobState, progress: JobProgress): Promise<void>;
  partial(job: JobState, index: number, value: unknown): Promise<void>;
  /** Returns false when the run no longer owned the job (another attempt took over). */
  finish(job: JobState, outcome: RunOutcome): Promise<boolean>;
}

/** Told of failures inside handlers, and of each run whose end was recorded. */
export interface RunListeners {
  onError(error: unknown): void;
  onEnd?(job: JobState, outcome: RunOutcome): void;
}

class Shutdown extends Error {}
class Cancelled extends Error {}

/** The runs of one process, each with its own abort controller (cancel one, or all at shutdown). */
export class LocalRuns {
  private readonly controllers = new Map<string, AbortController>();

  /** `timeoutMs`: the time one run may take (jobs.timeoutMs); it then fails with request_timeout naming it. */
  constructor(private readonly timeoutMs?: number) {}

  cancel(id: string): boolean {
    const controller = this.controllers.get(id);
    controller?.abort(new Cancelled('cancelled'));
    return controller !== undefined;
  }

  /** Stops every run; each goes back to the queue with its partial results kept. */
  shutdown(): void {
    for (const controller of this.controllers.values()) controller.abort(new Shutdown('shutdown'));
  }

  /**
   * Runs one claimed job to its outcome: the handler's result, its error (a catalog error
   * keeps its code; anything else is `internal`), `cancelled`, or back to the queue at shutdown.
   */
  async run(
    job: JobState,
    input: Buffer | undefined,
    earlier: Map<number, unknown>,
    handler: JobHandler,
    hooks: RunHooks,
    listeners: RunListeners,
  ): Promise<RunOutcome> {
    const controller = new AbortController();
    this.controllers.set(job.id, controller);
    if (job.cancelRequested) controller.abort(new Cancelled('cancelled'));
    const limit = this.timeoutMs;
    const timer = limit
      ? setTimeout(
          () =>
            controller.abort(
              appError('request_timeout', `the job ran longer than ${limit / 1000} s (jobs.timeoutMs)`, { limit }),
            ),
          limit,
        )
      : undefined;
    timer?.unref();
    const context: JobContext = {
      job,
      input,
      signal: controller.signal,
      earlier,
      progress: (progress) => hooks.progress(job, progress),
      partial: (index, value) => hooks.partial(job, index, value),
    };
    let outcome: RunOutcome;
    try {
      const result = await handler(context);
      // Work that finished is kept, even if a cancel arrived as it ended.
      outcome = { status: 'succeeded', result };
    } catch (error) {
      if (controller.signal.aborted && isAppError(controller.signal.reason))
        outcome = { status: 'failed', error: jobError(controller.signal.reason) };
      else if (controller.signal.aborted) outcome = stopped(controller.signal);
      else {
        if (!isAppError(error) || error.status >= 500) listeners.onError(error);
        outcome = {
          status: 'failed',
          error: jobError(
            isAppError(error) ? error : appError('internal', 'the job failed; the server log has the details'),
          ),
        };
      }
    } finally {
      clearTimeout(timer);
      this.controllers.delete(job.id);
    }
    // Only the run that recorded the end reports it: a stale run's result is dropped.
    if (await hooks.finish(job, outcome)) listeners.onEnd?.(job, outcome);
    return outcome;
  }
}

function stopped(signal: AbortSignal): RunOutcome {
  return signal.reason instanceof Shutdown ? { status: 'requeued' } : { status: 'cancelled' };
}
