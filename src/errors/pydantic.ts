/**
 * Pydantic v2's validation errors (type, msg, input, ctx), for the FastAPI seeds' clients that
 * show `detail[0].msg` to people. The texts are pydantic-core's own message templates; `input`
 * is the value as received, with its JSON type.
 */
import type { FieldValidation } from './app-error.js';

type Loc = Array<string | number>;

/** How Python prints a bound declared as a float (`le=1.0` shows "1.0", `le=20` on an int "20"). */
export function pythonNumber(value: number, float: boolean): string {
  return float && Number.isInteger(value) ? `${value}.0` : String(value);
}

export const pydantic = {
  missing: (loc: Loc, input: unknown = null): FieldValidation => ({
    type: 'missing',
    loc,
    msg: 'Field required',
    input,
  }),
  intParsing: (loc: Loc, input: unknown): FieldValidation => ({
    type: 'int_parsing',
    loc,
    msg: 'Input should be a valid integer, unable to parse string as an integer',
    input,
  }),
  intFromFloat: (loc: Loc, input: unknown): FieldValidation => ({
    type: 'int_from_float',
    loc,
    msg: 'Input should be a valid integer, got a number with a fractional part',
    input,
  }),
  intType: (loc: Loc, input: unknown): FieldValidation => ({
    type: 'int_type',
    loc,
    msg: 'Input should be a valid integer',
    input,
  }),
  floatParsing: (loc: Loc, input: unknown): FieldValidation => ({
    type: 'float_parsing',
    loc,
    msg: 'Input should be a valid number, unable to parse string as a number',
    input,
  }),
  floatType: (loc: Loc, input: unknown): FieldValidation => ({
    type: 'float_type',
    loc,
    msg: 'Input should be a valid number',
    input,
  }),
  stringType: (loc: Loc, input: unknown): FieldValidation => ({
    type: 'string_type',
    loc,
    msg: 'Input should be a valid string',
    input,
  }),
  stringTooShort: (loc: Loc, input: unknown, min: number): FieldValidation => ({
    type: 'string_too_short',
    loc,
    msg: `String should have at least ${min} character${min === 1 ? '' : 's'}`,
    input,
    ctx: { min_length: min },
  }),
  stringTooLong: (loc: Loc, input: unknown, max: number): FieldValidation => ({
    type: 'string_too_long',
    loc,
    msg: `String should have at most ${max} character${max === 1 ? '' : 's'}`,
    input,
    ctx: { max_length: max },
  }),
  greaterThanEqual: (loc: Loc, input: unknown, ge: number, float: boolean): FieldValidation => ({
    type: 'greater_than_equal',
    loc,
    msg: `Input should be greater than or equal to ${pythonNumber(ge, float)}`,
    input,
    ctx: { ge },
  }),
  lessThanEqual: (loc: Loc, input: unknown, le: number, float: boolean): FieldValidation => ({
    type: 'less_than_equal',
    loc,
    msg: `Input should be less than or equal to ${pythonNumber(le, float)}`,
    input,
    ctx: { le },
  }),
  multipleOf: (loc: Loc, input: unknown, multiple: number): FieldValidation => ({
    type: 'multiple_of',
    loc,
    msg: `Input should be a multiple of ${multiple}`,
    input,
    ctx: { multiple_of: multiple },
  }),
  modelAttributesType: (loc: Loc, input: unknown): FieldValidation => ({
    type: 'model_attributes_type',
    loc,
    msg: 'Input should be a valid dictionary or object to extract fields from',
    input,
  }),
  enum: (loc: Loc, input: unknown, expected: string[]): FieldValidation => ({
    type: 'enum',
    loc,
    msg: `Input should be ${expected
      .map((e) => `'${e}'`)
      .join(', ')
      .replace(/, ([^,]*)$/, ' or $1')}`,
    input,
    ctx: { expected: expected.map((e) => `'${e}'`).join(', ') },
  }),
  /** FastAPI's own entry for a body that is not JSON (fastapi/routing.py). */
  jsonInvalid: (position: number, error: string): FieldValidation => ({
    type: 'json_invalid',
    loc: ['body', position],
    msg: 'JSON decode error',
    input: {},
    ctx: { error },
  }),
};

/** A number field as Pydantic's lax mode reads it: numbers, numeric strings, booleans. */
export interface NumberRule {
  integer: boolean;
  min?: number;
  max?: number;
  multipleOf?: number;
}

/**
 * Checks one value against a numeric field's rule. Returns the number, or the Pydantic error
 * the seed would have answered (the caller adds its own human message for other surfaces).
 */
export function checkNumber(
  value: unknown,
  rule: NumberRule,
  loc: Loc,
): { value: number } | { error: FieldValidation } {
  let n: number;
  if (typeof value === 'boolean') n = value ? 1 : 0;
  else if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const text = value.trim();
    n = text === '' ? NaN : Number(text);
    if (!Number.isFinite(n) || (rule.integer && !Number.isInteger(n)))
      return { error: rule.integer ? pydantic.intParsing(loc, value) : pydantic.floatParsing(loc, value) };
  } else return { error: rule.integer ? pydantic.intType(loc, value) : pydantic.floatType(loc, value) };
  if (!Number.isFinite(n))
    return { error: rule.integer ? pydantic.intType(loc, value) : pydantic.floatType(loc, value) };
  if (rule.integer && !Number.isInteger(n)) return { error: pydantic.intFromFloat(loc, value) };
  const float = !rule.integer;
  // The range first: a seed declared only ge/le, so a value outside both rules gets the seed's error.
  if (rule.min !== undefined && n < rule.min) return { error: pydantic.greaterThanEqual(loc, value, rule.min, float) };
  if (rule.max !== undefined && n > rule.max) return { error: pydantic.lessThanEqual(loc, value, rule.max, float) };
  if (rule.multipleOf !== undefined && n % rule.multipleOf !== 0)
    return { error: pydantic.multipleOf(loc, value, rule.multipleOf) };
  return { value: n };
}
