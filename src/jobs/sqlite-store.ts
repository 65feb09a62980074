import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
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
import type { JobProcessor, JobStore, ListQuery, StoreSettings, SubmitResult } from './store.js';

interface Row {
  seq: number;
  id: string;
  type: string;
  status: string;
  owner: string;
  params: string;
  fair_rank: number;
  progress: string | null;
  result: string | null;
  error: string | null;
  attempts: number;
  cancel_requested: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  expires_at: number | null;
  idempotency_key: string | null;
  request_hash: string;
  callback: string | null;
}

const schema = `
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  owner TEXT NOT NULL,
  params TEXT NOT NULL,
  input BLOB,
  fair_rank INTEGER NOT NULL,
  progress TEXT,
  result TEXT,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  expires_at INTEGER,
  idempotency_key TEXT,
  request_hash TEXT NOT NULL,
  callback TEXT,
  next_delivery_at INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency ON jobs(owner, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(status, fair_rank, seq);
CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, seq);
CREATE INDEX IF NOT EXISTS jobs_expiry ON jobs(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_delivery ON jobs(next_delivery_at) WHERE next_delivery_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS partials (
  job_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
`;

const columns =
  'seq, id, type, status, owner, params, fair_rank, progress, result, error, attempts, cancel_requested, created_at, started_at, finished_at, expires_at, idempotency_key, request_hash, callback';
const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/**
 * The embedded job store: one SQLite file in WAL mode, written by this process only.
 * Jobs running when the process died are queued again at start (their partial results
 * kept), or `interrupted` once they have used jobs.maxAttempts.
 */
export class SqliteJobStore implements JobStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly events = new EventEmitter();
  private readonly runs: LocalRuns;
  private wake: (() => void) | undefined;

  constructor(
    path: string,
    private readonly settings: StoreSettings,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.runs = new LocalRuns(settings.runTimeoutMs);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(schema);
    this.events.setMaxListeners(0);
    this.recover();
  }

  /** Runs left `running` by a process that died: back to the queue, or interrupted when out of attempts. */
  private recover(): void {
    const now = Date.now();
    const error = JSON.stringify(
      interruptedError(`the job's runs stopped ${this.settings.maxAttempts} times (restarts or crashes)`),
    );
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE jobs SET status = 'interrupted', error = ?, finished_at = ?, expires_at = ? WHERE status = 'running' AND attempts >= ?`,
        )
        .run(error, now, now + this.settings.resultTtlMs, this.settings.maxAttempts);
      this.db.prepare(`UPDATE jobs SET status = 'queued' WHERE status = 'running'`).run();
    })();
  }

  private toState(row: Row): JobState {
    return {
      id: row.id,
      type: row.type as JobType,
      status: row.status as JobStatus,
      owner: row.owner,
      params: JSON.parse(row.params) as Record<string, unknown>,
      progress: parse(row.progress),
      result: parse(row.result),
      error: parse(row.error),
      attempts: row.attempts,
      cancelRequested: row.cancel_requested === 1,
      createdAt: row.created_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      expiresAt: row.expires_at,
      idempotencyKey: row.idempotency_key,
      callback: parse<JobCallback>(row.callback),
      queuePosition: row.status === 'queued' ? this.position(row) : null,
    };
  }

  private position(row: Row): number {
    const ahead = this.db
      .prepare(
        `SELECT count(*) AS n FROM jobs WHERE status = 'queued' AND (fair_rank < ? OR (fair_rank = ? AND seq < ?))`,
      )
      .get(row.fair_rank, row.fair_rank, row.seq) as { n: number };
    return ahead.n;
  }

  private row(id: string): Row | undefined {
    return this.db.prepare(`SELECT ${columns} FROM jobs WHERE id = ?`).get(id) as Row | undefined;
  }

  private emit(id: string, event: JobEvent): void {
    this.events.emit(id, event);
  }

  async submit(request: SubmitRequest): Promise<SubmitResult> {
    const result = this.db
      .transaction((): SubmitResult => {
        if (request.idempotencyKey) {
          const twin = this.db
            .prepare(`SELECT ${columns} FROM jobs WHERE owner = ? AND idempotency_key = ?`)
            .get(request.owner, request.idempotencyKey) as Row | undefined;
          if (twin) {
            if (twin.request_hash !== request.requestHash)
              throw appError(
                'idempotency_conflict',
                `Idempotency-Key "${request.idempotencyKey}" was used for a different request (job ${twin.id}); use a new key for a new request`,
                { field: 'Idempotency-Key' },
              );
            return { job: this.toState(twin), created: false };
          }
        }
        const queued = this.db
          .prepare(`SELECT count(*) AS n FROM jobs WHERE status = 'queued' AND type = ?`)
          .get(request.type) as { n: number };
        if (queued.n >= this.settings.maxQueuedPerType) {
          throw appError(
            'queue_full',
            `${queued.n} ${request.type} jobs are queued, the most allowed (jobs.maxQueuedPerType); retry later`,
            { limit: this.settings.maxQueuedPerType },
            { retryAfterSeconds: 5 },
          );
        }
        // Round-robin between owners: an owner's next job goes one round after its last queued
        // one; an owner with nothing queued joins the round being served now.
        const rank = this.db
          .prepare(
            `SELECT COALESCE((SELECT max(fair_rank) + 1 FROM jobs WHERE status = 'queued' AND owner = ?), (SELECT min(fair_rank) FROM jobs WHERE status = 'queued'), 1) AS rank`,
          )
          .get(request.owner) as { rank: number };
        const callback: JobCallback | null = request.callbackUrl
          ? {
              url: request.callbackUrl,
              ...(request.callbackSecret ? { secret: request.callbackSecret } : {}),
              deliveries: [],
              delivered: false,
            }
          : null;
        const id = `job_${randomUUID().replaceAll('-', '')}`;
        this.db
          .prepare(
            `INSERT INTO jobs (id, type, status, owner, params, input, fair_rank, created_at, idempotency_key, request_hash, callback) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            id,
            request.type,
            request.owner,
            JSON.stringify(request.params),
            request.input ?? null,
            rank.rank,
            Date.now(),
            request.idempotencyKey ?? null,
            request.requestHash,
            callback ? JSON.stringify(callback) : null,
          );
        return { job: this.toState(this.row(id)!), created: true };
      })
      .immediate();
    if (result.created) this.wake?.();
    return result;
  }

  async get(id: string): Promise<JobState | undefined> {
    const row = this.row(id);
    if (!row || (row.expires_at !== null && row.expires_at <= Date.now())) return undefined;
    return this.toState(row);
  }

  async list(query: ListQuery): Promise<{ jobs: JobState[]; next: string | null }> {
    const where = ['(expires_at IS NULL OR expires_at > ?)'];
    const args: Array<string | number> = [Date.now()];
    if (query.owner !== undefined) where.push('owner = ?'), args.push(query.owner);
    if (query.status) where.push('status = ?'), args.push(query.status);
    if (query.type) where.push('type = ?'), args.push(query.type);
    if (query.cursor) where.push('seq < ?'), args.push(Number(query.cursor));
    const rows = this.db
      .prepare(`SELECT ${columns} FROM jobs WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`)
      .all(...args, query.limit + 1) as Row[];
    const page = rows.slice(0, query.limit);
    return {
      jobs: page.map((r) => this.toState(r)),
      next: rows.length > query.limit ? String(page[page.length - 1]!.seq) : null,
    };
  }

  async partials(id: string): Promise<Map<number, unknown>> {
    const rows = this.db.prepare('SELECT idx, value FROM partials WHERE job_id = ? ORDER BY idx').all(id) as Array<{
      idx: number;
      value: string;
    }>;
    return new Map(rows.map((r) => [r.idx, JSON.parse(r.value) as unknown]));
  }

  async cancel(id: string): Promise<JobState | undefined> {
    const now = Date.now();
    const changed = this.db
      .prepare(
        `UPDATE jobs SET status = 'cancelled', finished_at = ?, expires_at = ?, next_delivery_at = CASE WHEN callback IS NULL THEN NULL ELSE ? END WHERE id = ? AND status = 'queued'`,
      )
      .run(now, now + this.settings.resultTtlMs, now, id);
    if (changed.changes) {
      const row = this.row(id)!;
      this.emit(id, { type: 'status', status: 'cancelled', attempts: row.attempts });
    } else {
      this.db.prepare(`UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = 'running'`).run(id);
      this.runs.cancel(id);
    }
    return this.get(id);
  }

  async subscribe(id: string, listener: (event: JobEvent) => void): Promise<() => void> {
    this.events.on(id, listener);
    return () => this.events.off(id, listener);
  }

  /** Takes the next queued job (fair order), marking it running with one more attempt. */
  private claim(): { job: JobState; input: Buffer | undefined } | undefined {
    return this.db
      .transaction(() => {
        const row = this.db
          .prepare(`SELECT ${columns}, input FROM jobs WHERE status = 'queued' ORDER BY fair_rank, seq LIMIT 1`)
          .get() as (Row & { input: Buffer | null }) | undefined;
        if (!row) return undefined;
        const now = Date.now();
        this.db
          .prepare(`UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ? WHERE id = ?`)
          .run(now, row.id);
        const job = this.toState({ ...row, status: 'running', attempts: row.attempts + 1, started_at: now });
        return { job, input: row.input ?? undefined };
      })
      .immediate();
  }

  private readonly hooks: RunHooks = {
    progress: async (job, progress) => {
      this.db
        .prepare(`UPDATE jobs SET progress = ? WHERE id = ? AND status = 'running' AND attempts = ?`)
        .run(JSON.stringify(progress), job.id, job.attempts);
      this.emit(job.id, { type: 'progress', progress });
    },
    partial: async (job, index, value) => {
      this.db
        .prepare('INSERT OR REPLACE INTO partials (job_id, idx, value) VALUES (?, ?, ?)')
        .run(job.id, index, JSON.stringify(value));
      this.emit(job.id, { type: 'partial', index, value });
    },
    finish: async (job, outcome) => this.finish(job, outcome),
  };

  private finish(job: JobState, outcome: RunOutcome): boolean {
    const now = Date.now();
    const record = outcomeRecord(job, outcome);
    const own = `WHERE id = ? AND status = 'running' AND attempts = ?`;
    const changes =
      record.status === 'queued'
        ? this.db
            .prepare(`UPDATE jobs SET status = 'queued', attempts = ? ${own}`)
            .run(record.attempts, job.id, job.attempts).changes
        : this.db
            .prepare(
              `UPDATE jobs SET status = ?, result = ?, error = ?, finished_at = ?, expires_at = ?, next_delivery_at = CASE WHEN callback IS NULL THEN NULL ELSE ? END ${own}`,
            )
            .run(
              record.status,
              record.result,
              record.error,
              now,
              now + this.settings.resultTtlMs,
              now,
              job.id,
              job.attempts,
            ).changes;
    if (changes) this.emit(job.id, { type: 'status', status: record.status, attempts: record.attempts });
    return changes > 0;
  }

  process(handler: JobHandler, concurrency: number, onEnd?: RunListeners['onEnd']): JobProcessor {
    const listeners: RunListeners = { onError: this.onError, ...(onEnd ? { onEnd } : {}) };
    let closed = false;
    const active = new Set<Promise<unknown>>();
    const pump = (): void => {
      while (!closed && this.db.open && active.size < concurrency) {
        const claimed = this.claim();
        if (!claimed) return;
        this.emit(claimed.job.id, { type: 'status', status: 'running', attempts: claimed.job.attempts });
        const run = this.partials(claimed.job.id)
          .then((earlier) => this.runs.run(claimed.job, claimed.input, earlier, handler, this.hooks, listeners))
          .catch(this.onError)
          .finally(() => {
            active.delete(run);
            pump();
          });
        active.add(run);
      }
    };
    this.wake = pump;
    // A safety net: jobs queued by another handle on the same file are found within a second.
    const timer = setInterval(pump, 1000);
    timer.unref();
    queueMicrotask(pump);
    const runs = this.runs;
    return {
      async close(graceMs: number) {
        closed = true;
        clearInterval(timer);
        const drained = Promise.all(active);
        const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), graceMs).unref());
        if ((await Promise.race([drained, deadline])) === 'late') {
          runs.shutdown();
          await drained;
        }
      },
    };
  }

  async claimDeliveries(now: number, limit: number, leaseMs: number): Promise<JobState[]> {
    return this.db
      .transaction(() => {
        const rows = this.db
          .prepare(
            `SELECT ${columns} FROM jobs WHERE next_delivery_at IS NOT NULL AND next_delivery_at <= ? ORDER BY next_delivery_at LIMIT ?`,
          )
          .all(now, limit) as Row[];
        const lease = this.db.prepare('UPDATE jobs SET next_delivery_at = ? WHERE id = ?');
        for (const row of rows) lease.run(now + leaseMs, row.id);
        return rows.map((r) => this.toState(r));
      })
      .immediate();
  }

  async recordDelivery(
    id: string,
    delivery: WebhookDelivery,
    delivered: boolean,
    retryAt: number | undefined,
  ): Promise<void> {
    this.db
      .transaction(() => {
        const row = this.row(id);
        const callback = parse<JobCallback>(row?.callback ?? null);
        if (!callback) return;
        callback.deliveries.push(delivery);
        callback.delivered = delivered;
        this.db
          .prepare('UPDATE jobs SET callback = ?, next_delivery_at = ? WHERE id = ?')
          .run(JSON.stringify(callback), retryAt ?? null, id);
      })
      .immediate();
  }

  async expire(now: number): Promise<number> {
    return this.db
      .transaction(() => {
        const ids = (
          this.db.prepare('SELECT id FROM jobs WHERE expires_at IS NOT NULL AND expires_at <= ?').all(now) as Array<{
            id: string;
          }>
        ).map((r) => r.id);
        const dropPartials = this.db.prepare('DELETE FROM partials WHERE job_id = ?');
        for (const id of ids) dropPartials.run(id);
        this.db.prepare('DELETE FROM jobs WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now);
        return ids.length;
      })
      .immediate();
  }

  async queued(): Promise<Record<string, number>> {
    const rows = this.db
      .prepare(`SELECT type, count(*) AS n FROM jobs WHERE status = 'queued' GROUP BY type`)
      .all() as Array<{ type: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.type, r.n]));
  }

  async ping(): Promise<boolean> {
    return this.db.prepare('SELECT 1 AS ok').get() !== undefined;
  }

  async close(): Promise<void> {
    this.wake = undefined;
    if (this.db.open) this.db.close();
  }
}
