import { type AppError, appError } from '../errors/app-error.js';
import { pydantic } from '../errors/pydantic.js';

/**
 * Where and why a body is not JSON, in the words of Python's `json` module: FastAPI puts its
 * `e.msg` and `e.pos` in the 422 it answers (`ctx.error`, `loc: ["body", pos]`). Only run on a
 * body JSON.parse already refused; one linear pass with an explicit stack (no recursion, so
 * deep nesting cannot overflow it).
 */

export interface JsonProblem {
  /** Python's message ("Expecting value", "Expecting ',' delimiter", …). */
  message: string;
  /** Position in characters (code points), as Python counts them. */
  position: number;
}

const whitespace = new Set([' ', '\t', '\n', '\r']);
const escapes = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

class Problem extends Error {
  constructor(
    readonly reason: string,
    readonly at: number,
  ) {
    super(reason);
  }
}

/** Python's json.decoder.scanstring: returns the index after the closing quote. */
function scanString(text: string, quote: number): number {
  let i = quote + 1;
  for (;;) {
    const c = text[i];
    if (c === undefined) throw new Problem('Unterminated string starting at', quote);
    if (c === '"') return i + 1;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === undefined) throw new Problem('Unterminated string starting at', quote);
      if (next === 'u') {
        if (![2, 3, 4, 5].every((k) => isHex(text[i + k]))) throw new Problem('Invalid \\uXXXX escape', i + 1);
        i += 6;
      } else if (escapes.has(next)) i += 2;
      else throw new Problem('Invalid \\escape', i);
      continue;
    }
    if (c < ' ') throw new Problem('Invalid control character at', i);
    i++;
  }
}

/** Python's NUMBER_RE `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`; -1 when no number starts here. */
function scanNumber(text: string, start: number): number {
  let i = start;
  if (text[i] === '-') i++;
  if (text[i] === '0') i++;
  else if (isDigit(text[i])) while (isDigit(text[i])) i++;
  else return -1;
  if (text[i] === '.' && isDigit(text[i + 1])) {
    i++;
    while (isDigit(text[i])) i++;
  }
  if (
    (text[i] === 'e' || text[i] === 'E') &&
    (isDigit(text[i + 1]) || ((text[i + 1] === '+' || text[i + 1] === '-') && isDigit(text[i + 2])))
  ) {
    i += 2;
    while (isDigit(text[i])) i++;
  }
  return i;
}

const literals = ['null', 'true', 'false', 'NaN', 'Infinity', '-Infinity'];

/** One scalar or the opening of a container at i; returns where it ends (containers: just after the bracket). */
function scanValueStart(text: string, i: number): { end: number; opens?: '{' | '[' } {
  const c = text[i];
  if (c === '{' || c === '[') return { end: i + 1, opens: c };
  if (c === '"') return { end: scanString(text, i) };
  for (const word of literals) if (text.startsWith(word, i)) return { end: i + word.length };
  const number = scanNumber(text, i);
  if (number < 0) throw new Problem('Expecting value', i);
  return { end: number };
}

function skip(text: string, i: number): number {
  while (whitespace.has(text[i] ?? '')) i++;
  return i;
}

function locate(text: string): { reason: string; at: number } | undefined {
  const stack: Array<'{' | '['> = [];
  let i = skip(text, 0);
  // Each loop reads one value, then whatever closes or separates around it.
  for (;;) {
    const value = scanValueStart(text, i);
    i = value.end;
    if (value.opens) {
      i = skip(text, i);
      if (value.opens === '{') {
        if (text[i] === '}') i++;
        else {
          stack.push('{');
          i = member(text, i);
          continue;
        }
      } else if (text[i] === ']') i++;
      else {
        stack.push('[');
        continue;
      }
    }
    // After a complete value: close containers or move to the next element.
    for (;;) {
      i = skip(text, i);
      const open = stack[stack.length - 1];
      if (!open) {
        if (i < text.length) throw new Problem('Extra data', i);
        return undefined;
      }
      const close = open === '{' ? '}' : ']';
      if (text[i] === close) {
        stack.pop();
        i++;
        continue;
      }
      if (text[i] !== ',') throw new Problem("Expecting ',' delimiter", i);
      i = skip(text, i + 1);
      if (open === '{') i = member(text, i);
      break;
    }
  }
}

/** `"name"` `:` of an object member; returns where its value starts. */
function member(text: string, i: number): number {
  if (text[i] !== '"') throw new Problem('Expecting property name enclosed in double quotes', i);
  i = skip(text, scanString(text, i));
  if (text[i] !== ':') throw new Problem("Expecting ':' delimiter", i);
  return skip(text, i + 1);
}

/** Python's JSONDecodeError for a text JSON.parse refused (or "Expecting value" at 0 if it finds none). */
export function pythonJsonProblem(text: string): JsonProblem {
  let found: { reason: string; at: number } | undefined;
  try {
    found = locate(text);
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    found = { reason: error.reason, at: error.at };
  }
  const at = found?.at ?? 0;
  // JavaScript indexes UTF-16 units; Python counts code points.
  const position = [...text.slice(0, at)].length;
  return { message: found?.reason ?? 'Expecting value', position };
}

/** The 400 for a body JSON.parse refused, located as Python would (FastAPI's seeds answer it as a 422 json_invalid). */
export function invalidJson(text: string): AppError {
  const problem = pythonJsonProblem(text);
  return appError(
    'bad_request',
    `the body is not valid JSON: ${problem.message} (character ${problem.position})`,
    { position: problem.position },
    { validation: pydantic.jsonInvalid(problem.position, problem.message) },
  );
}
