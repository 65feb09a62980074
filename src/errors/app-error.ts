import { errorCatalog, type ErrorCode } from './catalog.js';

/** Extra, machine-readable facts about an error (the limit that was hit, what was received). */
export type ErrorFacts = Record<string, string | number | boolean | string[] | undefined>;

/**
 * One entry of a Pydantic v2 validation error, as FastAPI shows it in `detail[]`: the seed
 * routes render it; the other surfaces keep the error's own message.
 */
export interface FieldValidation {
  type: string;
  loc: Array<string | number>;
  msg: string;
  /** The value as received, with its JSON type (Pydantic echoes it unchanged). */
  input: unknown;
  ctx?: Record<string, unknown>;
}

/** The one error type the core throws; renderers turn it into each surface's body. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly facts: ErrorFacts;
  readonly retryAfterSeconds: number | undefined;
  readonly validation: FieldValidation | undefined;

  constructor(code: ErrorCode, detail: string, facts: ErrorFacts = {}, options: ErrorOptions = {}) {
    super(detail, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = errorCatalog[code].status;
    this.facts = facts;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.validation = options.validation;
  }

  get title(): string {
    return errorCatalog[this.code].title;
  }
}

export interface ErrorOptions {
  cause?: unknown;
  retryAfterSeconds?: number;
  validation?: FieldValidation;
}

export function appError(code: ErrorCode, detail: string, facts?: ErrorFacts, options?: ErrorOptions): AppError {
  return new AppError(code, detail, facts, options);
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Human-friendly byte size for error messages ("10 MB"). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

/**
 * The error to throw when work stops because its signal fired: the signal's own reason
 * when it is a catalog error (a timeout names its limit), else "cancelled".
 */
export function abortError(signal: AbortSignal | undefined): AppError {
  return isAppError(signal?.reason) ? signal.reason : appError('client_closed', 'the request was cancelled');
}

/**
 * A signal that also fires after `ms`, with a request_timeout error naming the limit.
 * `clear()` drops the timer once the work is done.
 */
export function withTimeout(
  signal: AbortSignal,
  ms: number,
  limitName: string,
): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        appError('request_timeout', `the request took longer than ${ms / 1000} s (${limitName})`, { limit: ms }),
      ),
    ms,
  );
  timer.unref();
  const forward = (): void => controller.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });
  const clear = (): void => {
    clearTimeout(timer);
    signal.removeEventListener('abort', forward);
  };
  controller.signal.addEventListener('abort', clear, { once: true });
  return { signal: controller.signal, clear };
}

/** The error of a worker step (a page, a file, a summary) that outlived limits.workerTaskTimeoutMs. */
export function taskTimeoutError(ms: number, what = 'one step of the work'): AppError {
  return appError(
    'task_timeout',
    `${what} took longer than ${ms / 1000} s (limits.workerTaskTimeoutMs); its worker was stopped and replaced`,
    { limit: ms },
  );
}

/**
 * A signal that fires with the caller's reason, or with `timeout()` once `start()` was called
 * and `ms` passed (work waiting for a worker does not count against its own time limit).
 */
export function deadline(
  signal: AbortSignal | undefined,
  ms: number,
  timeout: () => AppError,
): { signal: AbortSignal; start(): void; clear(): void } {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const forward = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) forward();
  else signal?.addEventListener('abort', forward, { once: true });
  let done = false;
  return {
    signal: controller.signal,
    start() {
      if (done || timer) return;
      timer = setTimeout(() => controller.abort(timeout()), ms);
      timer.unref();
    },
    clear() {
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    },
  };
}
