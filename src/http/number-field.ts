import { appError } from '../errors/app-error.js';

/**
 * A numeric option from a query string, form field or JSON body (numbers or numeric strings).
 * Absent or empty is `undefined`; anything else out of range is a 422 naming the field.
 */
export function numberField(
  value: unknown,
  field: string,
  range: { min: number; max: number; integer: boolean },
): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(n) || (range.integer && !Number.isInteger(n)) || n < range.min || n > range.max) {
    throw appError(
      'invalid_parameter',
      `${field} must be ${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}, received ${JSON.stringify(value)}`,
      { field, received: String(value) },
    );
  }
  return n;
}
