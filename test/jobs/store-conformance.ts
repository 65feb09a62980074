import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { appError } from '../../src/errors/app-error.js';
import type { JobEvent, JobHandler, JobState, SubmitRequest } from '../../src/jobs/job.js';
import type { JobStore, StoreSettings } from '../../src/jobs/store.js';

export const settings: StoreSettings = {
  maxQueuedPerType: 120,
  maxAttempts: 3,
  resultTtlMs: 60_000,
  webhookMaxAttempts: 3,
};

/** A job of `steps` steps, `delayMs` each, that keeps each step as a partial result and resumes after them. */
export const stepHandler: JobHandler = async (context) => {
  const { steps = 1, delayMs = 0, fail } = context.job.params as { steps?: number; delayMs?: number; fail?: boolean };
  const done: number[] = [];
  for (let i = 0; i < steps; i++) {
    if (context.earlier.has(i)) {
      done.push(i);
      continue;
    }
    await sleep(delayMs, undefined, { signal: context.signal });
    if (fail) throw appError('invalid_parameter', `step ${i} failed on purpose`);
    await context.partial(i, { step: i, attempt: context.job.attempts });
    done.push(i);
    await context.progress({ unit: 'steps', done: done.length, total: steps });
  }
  return { steps: done.length, input: context.input?.toString() ?? null };
};

export const request = (params: Record<string, unknown>, extra: Partial<SubmitRequest> = {}): SubmitRequest => ({
  type: 'ocr',
  params,
  owner: '',
  requestHash: JSON.stringify(params),
  ...extra,
});

async function until(store: JobStore, id: string, done: (job: JobState) => boolean, ms = 10_000): Promise<JobState> {
  const deadline = Date.now() + ms;
  for (;;) {
    const job = await store.get(id);
    if (job && done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} stuck: ${JSON.stringify(job)}`);
    await sleep(20);
  }
}
const finished = (job: JobState): boolean => !['queued', 'running'].includes(job.status);

/** The behaviour every job store must have; run against SQLite and Redis. */
export function storeConformance(name: string, open: () => Promise<JobStore>): void {
  describe(`${name} job store`, () => {
    test('lifecycle: queued with a position, then running with events, then succeeded with its result', async () => {
      const store = await open();
      try {
        const first = await store.submit(request({ steps: 3, delayMs: 5 }, { input: Buffer.from('doc') }));
        const second = await store.submit(request({ steps: 1, n: 2 }));
        assert.equal(first.created, true);
        assert.equal(first.job.status, 'queued');
        assert.equal(first.job.queuePosition, 0);
        assert.equal(second.job.queuePosition, 1);
        const events: JobEvent[] = [];
        await store.subscribe(first.job.id, (e) => events.push(e));
        const processor = store.process(stepHandler, 1);
        const job = await until(store, first.job.id, finished);
        assert.equal(job.status, 'succeeded');
        assert.deepEqual(job.result, { steps: 3, input: 'doc' });
        assert.equal(job.attempts, 1);
        assert.ok(job.startedAt! >= job.createdAt && job.finishedAt! >= job.startedAt!);
        assert.ok(job.expiresAt! > job.finishedAt!);
        assert.deepEqual(job.progress, { unit: 'steps', done: 3, total: 3 });
        assert.deepEqual([...(await store.partials(job.id)).keys()], [0, 1, 2]);
        await until(store, second.job.id, finished);
        await sleep(50);
        const kinds = events.map((e) => (e.type === 'status' ? e.status : e.type));
        assert.deepEqual(kinds, [
          'running',
          'partial',
          'progress',
          'partial',
          'progress',
          'partial',
          'progress',
          'succeeded',
        ]);
        await processor.close(1000);
      } finally {
        await store.close();
      }
    });

    test('a failing job keeps its error; cancel stops a queued job at once and a running one at its next step', async () => {
      const store = await open();
      try {
        const failing = await store.submit(request({ fail: true, n: 1 }));
        const long = await store.submit(request({ steps: 200, delayMs: 20 }));
        const waiting = await store.submit(request({ steps: 1, n: 3 }));
        const cancelledQueued = await store.cancel(waiting.job.id);
        assert.equal(cancelledQueued?.status, 'cancelled');
        const processor = store.process(stepHandler, 2);
        const failed = await until(store, failing.job.id, finished);
        assert.equal(failed.status, 'failed');
        assert.equal(failed.error?.code, 'invalid_parameter');
        assert.match(failed.error!.detail, /on purpose/);
        await until(store, long.job.id, (j) => (j.progress?.done ?? 0) >= 2);
        const asked = await store.cancel(long.job.id);
        assert.equal(asked?.status, 'running');
        const stopped = await until(store, long.job.id, finished, 2000);
        assert.equal(stopped.status, 'cancelled');
        assert.ok(stopped.progress!.done < 200, 'stopped long before the end');
        const partialsAtCancel = (await store.partials(long.job.id)).size;
        await sleep(100);
        assert.equal((await store.partials(long.job.id)).size, partialsAtCancel, 'no step ran after the cancel');
        assert.equal((await store.cancel(long.job.id))?.status, 'cancelled', 'cancelling again changes nothing');
        await processor.close(1000);
      } finally {
        await store.close();
      }
    });

    test('idempotency: 100 keys x 10 concurrent retries make exactly 100 jobs; another body is a 422; keys are per owner', async () => {
      const store = await open();
      try {
        const results = await Promise.all(
          Array.from({ length: 1000 }, (_, i) =>
            store.submit(request({ k: i % 100 }, { idempotencyKey: `key-${i % 100}`, type: 'summarize' })),
          ),
        );
        const ids = new Set(results.map((r) => r.job.id));
        assert.equal(ids.size, 100);
        assert.equal(results.filter((r) => r.created).length, 100);
        for (let k = 0; k < 100; k++)
          assert.equal(new Set(results.filter((r) => r.job.params.k === k).map((r) => r.job.id)).size, 1);
        await assert.rejects(
          store.submit(request({ k: 'other' }, { idempotencyKey: 'key-1', type: 'summarize' })),
          (e: { code?: string }) => e.code === 'idempotency_conflict',
        );
        const elsewhere = await store.submit(
          request({ k: 1 }, { idempotencyKey: 'key-1', owner: 'someone-else', type: 'summarize' }),
        );
        assert.equal(elsewhere.created, true);
        assert.ok(!ids.has(elsewhere.job.id));
      } finally {
        await store.close();
      }
    });

    test('back-pressure: a full queue for a type is a 429 with Retry-After; other types still queue', async () => {
      const store = await open();
      try {
        for (let i = 0; i < settings.maxQueuedPerType; i++) await store.submit(request({ i }, { type: 'chat' }));
        await assert.rejects(
          store.submit(request({ i: 'one more' }, { type: 'chat' })),
          (e: { code?: string; status?: number; retryAfterSeconds?: number }) =>
            e.code === 'queue_full' && e.status === 429 && e.retryAfterSeconds! > 0,
        );
        assert.equal((await store.submit(request({ i: 0 }, { type: 'summarize' }))).created, true);
        assert.deepEqual(await store.queued(), { chat: settings.maxQueuedPerType, summarize: 1 });
      } finally {
        await store.close();
      }
    });

    test('fair order: one key with many jobs cannot starve another', async () => {
      const store = await open();
      try {
        for (let i = 0; i < 6; i++) await store.submit(request({ who: `a${i}` }, { owner: 'a' }));
        for (let i = 0; i < 2; i++) await store.submit(request({ who: `b${i}` }, { owner: 'b' }));
        const order: string[] = [];
        const processor = store.process(async (context) => void order.push(context.job.params.who as string), 1);
        for (let i = 0; i < 50 && order.length < 8; i++) await sleep(50);
        assert.deepEqual(order, ['a0', 'b0', 'a1', 'b1', 'a2', 'a3', 'a4', 'a5']);
        await processor.close(1000);
      } finally {
        await store.close();
      }
    });

    test('pagination newest first with filters, and expiry', async () => {
      const store = await open();
      try {
        const made: string[] = [];
        for (let i = 0; i < 25; i++)
          made.push(
            (await store.submit(request({ i }, { owner: 'p', type: i % 5 === 0 ? 'summarize' : 'ocr' }))).job.id,
          );
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page++) {
          const { jobs, next } = await store.list({ owner: 'p', limit: 10, ...(cursor ? { cursor } : {}) });
          seen.push(...jobs.map((j) => j.id));
          if (!next) break;
          cursor = next;
        }
        assert.deepEqual(seen, [...made].reverse());
        const summaries = await store.list({ owner: 'p', type: 'summarize', limit: 100 });
        assert.equal(summaries.jobs.length, 5);
        assert.equal((await store.list({ owner: 'nobody', limit: 10 })).jobs.length, 0);
        await store.cancel(made[0]!);
        assert.equal((await store.list({ owner: 'p', status: 'cancelled', limit: 10 })).jobs.length, 1);
        const ended = await store.get(made[0]!);
        assert.equal(await store.expire(ended!.expiresAt! + 1), 1);
        assert.equal(await store.get(made[0]!), undefined);
        assert.equal((await store.list({ owner: 'p', limit: 100 })).jobs.length, 24);
      } finally {
        await store.close();
      }
    });

    test('a run stopped by shutdown goes back to the queue with its steps kept, and the next run resumes after them', async () => {
      const store = await open();
      try {
        const { job } = await store.submit(request({ steps: 40, delayMs: 20 }));
        const first = store.process(stepHandler, 1);
        await until(store, job.id, (j) => (j.progress?.done ?? 0) >= 3);
        await first.close(0);
        const back = await until(store, job.id, (j) => j.status === 'queued');
        const kept = await store.partials(job.id);
        assert.ok(kept.size >= 3);
        assert.equal(back.attempts, 0, 'a shutdown does not use up an attempt');
        const second = store.process(stepHandler, 1);
        const done = await until(store, job.id, finished);
        assert.equal(done.status, 'succeeded');
        const partials = await store.partials(job.id);
        assert.equal(partials.size, 40);
        // Steps from before the shutdown were not run again.
        for (const [index, value] of kept) assert.deepEqual(partials.get(index), value);
        await second.close(1000);
      } finally {
        await store.close();
      }
    });
  });
}

export { after, before };
