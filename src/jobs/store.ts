import type { RunOutcome } from './execute.js';
import type { JobEvent, JobHandler, JobState, JobStatus, JobType, SubmitRequest, WebhookDelivery } from './job.js';

export interface ListQuery {
  owner?: string;
  status?: JobStatus;
  type?: JobType;
  limit: number;
  /** Opaque cursor from the previous page. */
  cursor?: string;
}

export interface SubmitResult {
  job: JobState;
  /** false when an earlier submission with the same idempotency key is returned. */
  created: boolean;
}

/** A running set of job processors; `close` stops taking jobs and waits for (or aborts) those running. */
export interface JobProcessor {
  close(graceMs: number): Promise<void>;
}

export interface StoreSettings {
  maxQueuedPerType: number;
  maxAttempts: number;
  resultTtlMs: number;
  webhookMaxAttempts: number;
  /** Time one run may take before it fails with request_timeout (jobs.timeoutMs); none when absent. */
  runTimeoutMs?: number;
}

/**
 * One interface, two stores (SQLite in one process, BullMQ on Redis across many). Every
 * state change is a compare-and-set on the job's status and attempt, so a job finishes
 * once even when a presumed-dead worker comes back.
 */
export interface JobStore {
  readonly kind: 'sqlite' | 'redis';
  /** Creates the job, or returns the one an earlier request with the same idempotency key made (422 if its request differed). 429 when the type's queue is full. */
  submit(request: SubmitRequest): Promise<SubmitResult>;
  /** The job, or undefined when unknown or expired. */
  get(id: string): Promise<JobState | undefined>;
  list(query: ListQuery): Promise<{ jobs: JobState[]; next: string | null }>;
  /** Partial results (pages, items) kept so far, by index. */
  partials(id: string): Promise<Map<number, unknown>>;
  /** Cancels a queued job at once; a running one is asked to stop and ends `cancelled` when it does. */
  cancel(id: string): Promise<JobState | undefined>;
  /** Live events of one job, from whichever process runs it. Returns the unsubscribe function. */
  subscribe(id: string, listener: (event: JobEvent) => void): Promise<() => void>;
  /** Starts running queued jobs with `handler`, `concurrency` at a time; `onEnd` hears of each end recorded. */
  process(handler: JobHandler, concurrency: number, onEnd?: (job: JobState, outcome: RunOutcome) => void): JobProcessor;
  /** Claims up to `limit` webhook deliveries due now (each claim is a lease, so a crashed deliverer's work comes back). */
  claimDeliveries(now: number, limit: number, leaseMs: number): Promise<JobState[]>;
  /** Records an attempt; `retryAt` schedules the next one, undefined ends the deliveries. */
  recordDelivery(id: string, delivery: WebhookDelivery, delivered: boolean, retryAt: number | undefined): Promise<void>;
  /** Deletes jobs whose results expired; returns how many. */
  expire(now: number): Promise<number>;
  /** Queued jobs per type (for metrics and back-pressure). */
  queued(): Promise<Record<string, number>>;
  /** Store reachable (for /ready). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
