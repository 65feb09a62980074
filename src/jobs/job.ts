import type { AppError } from '../errors/app-error.js';

/** What a job does; each type has one handler (jobs/handlers/). */
export type JobType = 'ocr' | 'summarize' | 'chat' | 'image' | 'batch';
export const jobTypes: readonly JobType[] = ['ocr', 'summarize', 'chat', 'image', 'batch'];

/**
 * queued → running → succeeded | failed | cancelled; `interrupted` when its runs kept
 * dying (crashes, dead workers) past jobs.maxAttempts.
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export const jobStatuses: readonly JobStatus[] = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'interrupted',
];
export const isTerminal = (status: JobStatus): boolean => status !== 'queued' && status !== 'running';

/** How far a running job is: pages of an OCR job, items of a batch, tokens of a summary. */
export interface JobProgress {
  unit: 'pages' | 'items' | 'tokens' | 'steps';
  done: number;
  total?: number;
}

/** An error as a job keeps it (the catalog code and the message). */
export interface JobError {
  code: string;
  status: number;
  title: string;
  detail: string;
}

/** Why a job whose runs kept dying was given up. */
export const interruptedError = (why: string): JobError => ({
  code: 'interrupted',
  status: 500,
  title: 'Job interrupted',
  detail: `${why}; it was not finished`,
});

export const jobError = (error: AppError): JobError => ({
  code: error.code,
  status: error.status,
  title: error.title,
  detail: error.message,
});

/** One webhook delivery attempt, kept on the job. */
export interface WebhookDelivery {
  attempt: number;
  at: string;
  status_code: number | null;
  error: string | null;
}

export interface JobCallback {
  url: string;
  /** Per-job HMAC key when jobs.webhookSecret is not set (never shown after creation). */
  secret?: string;
  deliveries: WebhookDelivery[];
  delivered: boolean;
}

/** What the submitter sends: the type's parameters (JSON) and, for documents, the bytes. */
export interface JobSpec {
  type: JobType;
  params: Record<string, unknown>;
  input?: Buffer;
  /** The parameters as asked, when `params` adds drawn values (a random seed): Idempotency-Key retries are compared on these. */
  requested?: Record<string, unknown>;
}

export interface SubmitRequest extends JobSpec {
  /** API key name; '' without auth. Jobs are visible to their owner only. */
  owner: string;
  idempotencyKey?: string;
  /** Hash of the request, compared when an idempotency key comes back. */
  requestHash: string;
  callbackUrl?: string;
  callbackSecret?: string;
}

/** A job as the stores keep it. Times are epoch milliseconds. */
export interface JobState {
  id: string;
  type: JobType;
  status: JobStatus;
  owner: string;
  params: Record<string, unknown>;
  progress: JobProgress | null;
  result: unknown;
  error: JobError | null;
  attempts: number;
  cancelRequested: boolean;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  expiresAt: number | null;
  idempotencyKey: string | null;
  callback: JobCallback | null;
  /** Jobs ahead of it (queued jobs only). */
  queuePosition: number | null;
}

/** What a job streams while it runs; stores carry these between processes. */
export type JobEvent =
  | { type: 'status'; status: JobStatus; attempts: number }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'partial'; index: number; value: unknown };

/** What a running handler may do besides returning its result. */
export interface JobContext {
  job: JobState;
  input: Buffer | undefined;
  signal: AbortSignal;
  /** Partial results kept from an earlier run of this job (a crash or restart), by index. */
  earlier: ReadonlyMap<number, unknown>;
  progress(progress: JobProgress): Promise<void>;
  /** Keeps one partial result (a page, a batch item) and streams it to listeners. */
  partial(index: number, value: unknown): Promise<void>;
}

export type JobHandler = (context: JobContext) => Promise<unknown>;

/** Epoch milliseconds as the API shows times (ISO 8601), null kept. */
export const isoTime = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** The job as the API shows it (no secrets, ISO times). */
export function jobView(job: JobState, options: { result?: boolean } = {}): Record<string, unknown> {
  return {
    id: job.id,
    object: 'job',
    type: job.type,
    status: job.status,
    queue_position: job.status === 'queued' ? job.queuePosition : null,
    progress: job.progress,
    attempts: job.attempts,
    created_at: isoTime(job.createdAt),
    started_at: isoTime(job.startedAt),
    finished_at: isoTime(job.finishedAt),
    expires_at: isoTime(job.expiresAt),
    idempotency_key: job.idempotencyKey,
    callback: job.callback
      ? { url: job.callback.url, delivered: job.callback.delivered, deliveries: job.callback.deliveries }
      : null,
    error: job.error,
    ...(options.result === false ? {} : { result: job.result ?? null }),
  };
}
