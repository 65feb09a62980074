import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { appError } from '../errors/app-error.js';
import { LocalRuns, outcomeRecord, type RunHooks, type RunListeners, type RunOutcome } from './execute.js';
import {
  interruptedError,
  type JobCallback,
  type JobEvent,
  type JobHandler,
  type JobState,
  type JobStatus,
  type JobType,
  type SubmitRequest,
  type WebhookDelivery,
} from './job.js';
import {
  cancelScript,
  claimDeliveriesScript,
  expireScript,
  finishScript,
  startScript,
  submitScript,
} from './redis-scripts.js';
import type { JobProcessor, JobStore, ListQuery, StoreSettings, SubmitResult } from './store.js';

/** A message on the events channel: a job's event, or a cancel for whichever worker runs it. */
type Message = { id: string; event: JobEvent } | { id: string; cancel: true };

const parse = <T>(text: string | undefined): T | null =>
  text === undefined || text === '' ? null : (JSON.parse(text) as T);
const num = (text: string | undefined): number | null => (text === undefined || text === '' ? null : Number(text));

/**
 * Jobs on Redis, run by BullMQ workers in any number of processes. BullMQ delivers each job
 * to one worker and hands a dead worker's job to another (stalled-job checks); the job's
 * own state is a Redis hash changed only by the Lua scripts in redis-scripts.ts, each a
 * compare-and-set on status and attempt, so a job finishes exactly once.
 */
export class RedisJobStore implements JobStore {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly queue: Queue;
  private readonly events = new EventEmitter();
  private readonly runs: LocalRuns;
  private readonly channel: string;
  private subscribed: Promise<unknown> | undefined;
  private readonly workers = new Set<Worker>();
  private readonly connections: Redis[] = [];

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly settings: StoreSettings & { lockDurationMs: number },
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.runs = new LocalRuns(settings.runTimeoutMs);
    this.redis = this.connect(3);
    this.subscriber = this.connect(null);
    this.queue = new Queue('jobs', { connection: this.connect(null), prefix });
    this.queue.on('error', onError);
    this.channel = `${prefix}:events`;
    this.events.setMaxListeners(0);
    this.subscriber.on('message', (_channel: string, text: string) => {
      const message = JSON.parse(text) as Message;
      if ('cancel' in message) this.runs.cancel(message.id);
      else this.events.emit(message.id, message.event);
    });
  }

  /** BullMQ's blocking connections need maxRetriesPerRequest: null; ours fail a command after a few tries. */
  private connect(maxRetriesPerRequest: number | null): Redis {
    const connection = new Redis(this.url, { maxRetriesPerRequest });
    connection.on('error', this.onError);
    this.connections.push(connection);
    return connection;
  }

  private key(id: string): string {
    return `${this.prefix}:job:${id}`;
  }

  private listen(): Promise<unknown> {
    this.subscribed ??= this.subscriber.subscribe(this.channel);
    return this.subscribed;
  }

  private async publish(message: Message): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify(message));
  }

  private async eval(script: string, args: Array<string | number>): Promise<unknown> {
    return this.redis.eval(script, 0, this.prefix, ...args.map(String));
  }

  private async stateOf(id: string): Promise<JobState | undefined> {
    const [hash, rank] =
      (await this.redis.multi().hgetall(this.key(id)).zrank(`${this.prefix}:queued`, id).exec()) ?? [];
    const h = hash?.[1] as Record<string, string> | undefined;
    if (!h?.id) return undefined;
    return this.fromHash(h, (rank?.[1] as number | null) ?? null);
  }

  private fromHash(h: Record<string, string>, position: number | null): JobState {
    return {
      id: h.id!,
      type: h.type as JobType,
      status: h.status as JobStatus,
      owner: h.owner ?? '',
      params: parse<Record<string, unknown>>(h.params) ?? {},
      progress: parse(h.progress),
      result: parse(h.result),
      error: parse(h.error),
      attempts: Number(h.attempts ?? 0),
      cancelRequested: h.cancel === '1',
      createdAt: Number(h.created_at),
      startedAt: num(h.started_at),
      finishedAt: num(h.finished_at),
      expiresAt: num(h.expires_at),
      idempotencyKey: h.idem ?? null,
      callback: parse<JobCallback>(h.callback),
      queuePosition: h.status === 'queued' ? position : null,
    };
  }

  async submit(request: SubmitRequest): Promise<SubmitResult> {
    const id = `job_${randomUUID().replaceAll('-', '')}`;
    const callback: JobCallback | null = request.callbackUrl
      ? {
          url: request.callbackUrl,
          ...(request.callbackSecret ? { secret: request.callbackSecret } : {}),
          deliveries: [],
          delivered: false,
        }
      : null;
    const [outcome, value, rank] = (await this.eval(submitScript, [
      id,
      request.type,
      request.owner,
      JSON.stringify(request.params),
      request.idempotencyKey ?? '',
      request.requestHash,
      callback ? JSON.stringify(callback) : '',
      Date.now(),
      this.settings.maxQueuedPerType,
    ])) as [string, string, number];
    if (outcome === 'full')
      throw appError(
        'queue_full',
        `${value} ${request.type} jobs are queued, the most allowed (jobs.maxQueuedPerType); retry later`,
        { limit: this.settings.maxQueuedPerType },
        { retryAfterSeconds: 5 },
      );
    if (outcome === 'conflict')
      throw appError(
        'idempotency_conflict',
        `Idempotency-Key "${request.idempotencyKey}" was used for a different request (job ${value}); use a new key for a new request`,
        { field: 'Idempotency-Key' },
      );
    if (outcome === 'created') {
      if (request.input) await this.redis.set(`${this.key(id)}:input`, request.input);
      await this.queue.add(
        request.type,
        { id },
        { jobId: id, priority: rank, removeOnComplete: true, removeOnFail: true },
      );
    } else {
      // The first submission may still be storing its input: wait until BullMQ has it.
      await this.waitEnqueued(value);
    }
    const job = await this.stateOf(value);
    if (!job) throw appError('internal', 'the job vanished as it was created');
    return { job, created: outcome === 'created' };
  }

  private async waitEnqueued(id: string): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const status = await this.redis.hget(this.key(id), 'status');
      if (status !== 'queued' || (await this.queue.getJob(id))) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async get(id: string): Promise<JobState | undefined> {
    const job = await this.stateOf(id);
    return job && (job.expiresAt === null || job.expiresAt > Date.now()) ? job : undefined;
  }

  async list(query: ListQuery): Promise<{ jobs: JobState[]; next: string | null }> {
    const index = query.owner === undefined ? `${this.prefix}:jobs` : `${this.prefix}:jobs:o:${query.owner}`;
    const found: Array<{ job: JobState; seq: string }> = [];
    let max = query.cursor ? `(${Number(query.cursor)}` : '+inf';
    // Filters apply after reading: scan newest first, a bounded number of entries per page.
    for (let scanned = 0; scanned < 5000 && found.length <= query.limit; ) {
      const entries = await this.redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, 200);
      if (!entries.length) break;
      const pipeline = this.redis.pipeline();
      for (let i = 0; i < entries.length; i += 2) pipeline.hgetall(this.key(entries[i]!));
      const hashes = (await pipeline.exec()) ?? [];
      for (let i = 0; i < hashes.length && found.length <= query.limit; i++) {
        const h = hashes[i]![1] as Record<string, string>;
        if (!h.id) continue;
        const job = this.fromHash(h, null);
        const expired = job.expiresAt !== null && job.expiresAt <= Date.now();
        if (expired || (query.status && job.status !== query.status) || (query.type && job.type !== query.type))
          continue;
        found.push({ job, seq: entries[i * 2 + 1]! });
      }
      scanned += entries.length / 2;
      max = `(${entries[entries.length - 1]}`;
    }
    const page = found.slice(0, query.limit);
    return { jobs: page.map((f) => f.job), next: found.length > query.limit ? page[page.length - 1]!.seq : null };
  }

  async partials(id: string): Promise<Map<number, unknown>> {
    const all = await this.redis.hgetall(`${this.key(id)}:partials`);
    return new Map(
      Object.entries(all)
        .map(([index, value]) => [Number(index), JSON.parse(value) as unknown] as const)
        .sort((a, b) => a[0] - b[0]),
    );
  }

  async cancel(id: string): Promise<JobState | undefined> {
    const outcome = (await this.eval(cancelScript, [id, Date.now(), this.settings.resultTtlMs])) as string;
    if (outcome === 'gone') return undefined;
    if (outcome === 'cancelled') {
      await this.queue.remove(id).catch(() => 0);
      const job = await this.stateOf(id);
      await this.publish({ id, event: { type: 'status', status: 'cancelled', attempts: job?.attempts ?? 0 } });
    } else if (outcome === 'requested') await this.publish({ id, cancel: true });
    return this.get(id);
  }

  async subscribe(id: string, listener: (event: JobEvent) => void): Promise<() => void> {
    await this.listen();
    this.events.on(id, listener);
    return () => this.events.off(id, listener);
  }

  private readonly hooks: RunHooks = {
    progress: async (job, progress) => {
      await this.redis.hset(this.key(job.id), 'progress', JSON.stringify(progress));
      await this.publish({ id: job.id, event: { type: 'progress', progress } });
    },
    partial: async (job, index, value) => {
      await this.redis.hset(`${this.key(job.id)}:partials`, String(index), JSON.stringify(value));
      await this.publish({ id: job.id, event: { type: 'partial', index, value } });
    },
    finish: async (job, outcome) => this.finish(job, outcome),
  };

  private async finish(job: JobState, outcome: RunOutcome): Promise<boolean> {
    const record = outcomeRecord(job, outcome);
    const owned = (await this.eval(finishScript, [
      job.id,
      job.attempts,
      record.status,
      record.result ?? '',
      record.error ?? '',
      Date.now(),
      this.settings.resultTtlMs,
    ])) as number;
    if (!owned) return false;
    // Back to the queue at shutdown: a new BullMQ entry, since this one completes as we return.
    if (record.status === 'queued')
      await this.queue.add(
        job.type,
        { id: job.id },
        { jobId: `${job.id}-r${job.attempts}`, priority: owned, removeOnComplete: true, removeOnFail: true },
      );
    await this.publish({ id: job.id, event: { type: 'status', status: record.status, attempts: record.attempts } });
    return true;
  }

  /** One BullMQ delivery: claim the job (compare-and-set), run it, record how it ended. */
  private async deliver(handler: JobHandler, id: string, listeners: RunListeners): Promise<void> {
    const interrupted = JSON.stringify(
      interruptedError(`the job's runs stopped ${this.settings.maxAttempts} times (dead workers or restarts)`),
    );
    const [outcome, attempts] = (await this.eval(startScript, [
      id,
      Date.now(),
      this.settings.maxAttempts,
      this.settings.resultTtlMs,
      interrupted,
    ])) as [string, number];
    if (outcome === 'interrupted')
      await this.publish({ id, event: { type: 'status', status: 'interrupted', attempts } });
    if (outcome !== 'run') return;
    await this.listen(); // cancels for this job must reach us while it runs
    const [job, input, earlier] = await Promise.all([
      this.stateOf(id),
      this.redis.getBuffer(`${this.key(id)}:input`),
      this.partials(id),
    ]);
    if (!job) return;
    await this.publish({ id, event: { type: 'status', status: 'running', attempts } });
    await this.runs.run(job, input ?? undefined, earlier, handler, this.hooks, listeners);
  }

  process(handler: JobHandler, concurrency: number, onEnd?: RunListeners['onEnd']): JobProcessor {
    const listeners: RunListeners = { onError: this.onError, ...(onEnd ? { onEnd } : {}) };
    const worker = new Worker(
      'jobs',
      async (bullJob: Job<{ id: string }>) => this.deliver(handler, bullJob.data.id, listeners),
      {
        connection: this.connect(null),
        prefix: this.prefix,
        concurrency,
        lockDuration: this.settings.lockDurationMs,
        stalledInterval: Math.max(250, Math.floor(this.settings.lockDurationMs / 2)),
        // Our own attempt count decides when a job is interrupted; BullMQ just redelivers.
        maxStalledCount: this.settings.maxAttempts + 1,
      },
    );
    worker.on('error', this.onError);
    // BullMQ gave up on a job that kept stalling: make sure it does not stay `running`.
    worker.on('failed', (bullJob) => {
      if (bullJob) void this.interruptIfRunning(bullJob.data.id).catch(this.onError);
    });
    this.workers.add(worker);
    const runs = this.runs;
    return {
      close: async (graceMs: number) => {
        const closing = worker.close();
        const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), graceMs).unref());
        if ((await Promise.race([closing, deadline])) === 'late') {
          runs.shutdown();
          await closing;
        }
        this.workers.delete(worker);
      },
    };
  }

  private async interruptIfRunning(id: string): Promise<void> {
    const job = await this.stateOf(id);
    if (job?.status !== 'running') return;
    const error = JSON.stringify(interruptedError('the job kept stalling (its workers died)'));
    if (
      await this.eval(finishScript, [id, job.attempts, 'interrupted', '', error, Date.now(), this.settings.resultTtlMs])
    )
      await this.publish({ id, event: { type: 'status', status: 'interrupted', attempts: job.attempts } });
  }

  async claimDeliveries(now: number, limit: number, leaseMs: number): Promise<JobState[]> {
    const ids = (await this.eval(claimDeliveriesScript, [now, limit, leaseMs])) as string[];
    const jobs = await Promise.all(ids.map((id) => this.stateOf(id)));
    return jobs.filter((j): j is JobState => j !== undefined);
  }

  async recordDelivery(
    id: string,
    delivery: WebhookDelivery,
    delivered: boolean,
    retryAt: number | undefined,
  ): Promise<void> {
    const callback = parse<JobCallback>((await this.redis.hget(this.key(id), 'callback')) ?? undefined);
    if (!callback) return;
    callback.deliveries.push(delivery);
    callback.delivered = delivered;
    const write = this.redis.multi().hset(this.key(id), 'callback', JSON.stringify(callback));
    if (retryAt === undefined) write.zrem(`${this.prefix}:deliveries`, id);
    else write.zadd(`${this.prefix}:deliveries`, retryAt, id);
    await write.exec();
  }

  async expire(now: number): Promise<number> {
    return (await this.eval(expireScript, [now, 1000])) as number;
  }

  async queued(): Promise<Record<string, number>> {
    const counts = await this.redis.hgetall(`${this.prefix}:qtype`);
    return Object.fromEntries(Object.entries(counts).map(([type, n]) => [type, Number(n)]));
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.close(true)));
    await this.queue.close();
    for (const connection of this.connections) connection.disconnect();
  }
}
