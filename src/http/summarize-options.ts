import type { SummarizeOptions, SummaryEngine } from '../core/summarize.js';
import { appError } from '../errors/app-error.js';

const engines: SummaryEngine[] = ['extractive', 'abstractive'];

function number(value: unknown, field: string, range: { min: number; max: number; integer: boolean }, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  const kind = range.integer ? 'a whole number' : 'a number';
  if (!Number.isFinite(n) || (range.integer && !Number.isInteger(n)) || n < range.min || n > range.max) {
    throw appError('invalid_parameter', `${field} must be ${kind} from ${range.min} to ${range.max}, received ${JSON.stringify(value)}`, { field, received: String(value) });
  }
  return n;
}

/**
 * max_length (default 128), temperature (default 0.7), engine, model, from JSON or form
 * fields. The engine defaults to abstractive when a model is named or a chat model is
 * configured, else extractive.
 */
export function summarizeOptionsFrom(fields: Record<string, unknown>, chatConfigured: boolean): SummarizeOptions {
  const engine = (fields.engine ?? (fields.model || chatConfigured ? 'abstractive' : 'extractive')) as SummaryEngine;
  if (!engines.includes(engine)) throw appError('invalid_parameter', `engine must be one of ${engines.join(', ')}, received ${JSON.stringify(fields.engine)}`, { field: 'engine', allowed: engines });
  return {
    engine,
    maxLength: number(fields.max_length, 'max_length', { min: 1, max: 4096, integer: true }, 128),
    temperature: number(fields.temperature, 'temperature', { min: 0, max: 2, integer: false }, 0.7),
    ...(typeof fields.model === 'string' && fields.model ? { model: fields.model } : {}),
  };
}
