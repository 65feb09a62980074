import { errorCatalog, type ErrorCode } from './catalog.js';

/** Extra, machine-readable facts about an error (the limit that was hit, what was received). */
export type ErrorFacts = Record<string, string | number | boolean | string[] | undefined>;

/** The one error type the core throws; renderers turn it into each surface's body. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly facts: ErrorFacts;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, detail: string, facts: ErrorFacts = {}, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(detail, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = errorCatalog[code].status;
    this.facts = facts;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get title(): string {
    return errorCatalog[this.code].title;
  }
}

export function appError(code: ErrorCode, detail: string, facts?: ErrorFacts, options?: { cause?: unknown; retryAfterSeconds?: number }): AppError {
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
