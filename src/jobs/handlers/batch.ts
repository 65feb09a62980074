import { isAppError } from '../../errors/app-error.js';
import { jobError, type JobContext, type JobError, type JobHandler, type JobType } from '../job.js';

/** One item of a batch: a job of its own kind, its document a slice of the batch's input. */
export interface BatchItem {
  type: Exclude<JobType, 'batch'>;
  params: Record<string, unknown>;
  input?: { offset: number; length: number };
}

export type ItemOutcome =
  | { index: number; status: 'succeeded'; result: unknown }
  | { index: number; status: 'failed'; error: JobError };

/**
 * Runs the items one after another; a bad item fails alone. Each outcome is kept as it
 * comes, so a restart goes on from the first unfinished item.
 */
export async function runBatchJob(
  context: JobContext,
  runItem: (type: BatchItem['type']) => JobHandler,
): Promise<unknown> {
  const items = (context.job.params as { items: BatchItem[] }).items;
  const outcomes: ItemOutcome[] = [];
  for (const [index, item] of items.entries()) {
    const earlier = context.earlier.get(index) as ItemOutcome | undefined;
    if (earlier) {
      outcomes.push(earlier);
      continue;
    }
    let outcome: ItemOutcome;
    try {
      const input =
        item.input && context.input
          ? context.input.subarray(item.input.offset, item.input.offset + item.input.length)
          : undefined;
      const result = await runItem(item.type)({
        ...context,
        job: { ...context.job, type: item.type, params: item.params },
        input,
        earlier: new Map(),
        progress: async () => {},
        partial: async () => {},
      });
      outcome = { index, status: 'succeeded', result };
    } catch (error) {
      if (context.signal.aborted) throw error;
      if (!isAppError(error)) throw error;
      outcome = { index, status: 'failed', error: jobError(error) };
    }
    outcomes.push(outcome);
    await context.partial(index, outcome);
    await context.progress({ unit: 'items', done: outcomes.length, total: items.length });
  }
  const succeeded = outcomes.filter((o) => o.status === 'succeeded').length;
  return { items: outcomes, total: items.length, succeeded, failed: items.length - succeeded };
}
