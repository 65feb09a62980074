import type { AppError } from './app-error.js';

/** The three HTTP surfaces, each with its own error body (see DESIGN.md). */
export type Surface = 'native' | 'openai' | 'compat' | 'flask';

/** RFC 9457 problem details, with the catalog code and the facts as extensions. */
export function renderProblem(error: AppError, instance: string, requestId: string): Record<string, unknown> {
  return {
    type: `urn:visiongate:error:${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    instance,
    code: error.code,
    request_id: requestId,
    ...Object.fromEntries(Object.entries(error.facts).filter(([, v]) => v !== undefined)),
  };
}

const openAiTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_denied_error',
  404: 'not_found_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
};

/** OpenAI's error object, as its SDKs parse it. */
export function renderOpenAi(error: AppError): Record<string, unknown> {
  const param = typeof error.facts.field === 'string' ? error.facts.field : null;
  return {
    error: {
      message: error.message,
      type: openAiTypes[error.status] ?? (error.status >= 500 ? 'server_error' : 'invalid_request_error'),
      param,
      code: error.code,
    },
  };
}

/**
 * FastAPI's `{"detail": "..."}`, which the seed clients read; a field error carrying Pydantic's
 * validation entry takes the shape of FastAPI's request validation (`detail` as a list).
 */
function renderCompat(error: AppError): Record<string, unknown> {
  const v = error.validation;
  if (v)
    return {
      detail: [{ type: v.type, loc: v.loc, msg: v.msg, input: v.input ?? null, ...(v.ctx ? { ctx: v.ctx } : {}) }],
    };
  return { detail: error.message };
}

export function renderError(
  surface: Surface,
  error: AppError,
  instance: string,
  requestId: string,
): { status: number; contentType: string; body: Record<string, unknown> } {
  return { status: statusFor(surface, error), ...bodyFor(surface, error, instance, requestId) };
}

/**
 * OpenAI's SDKs expect 400 for every invalid request (they have no 413/415/422 classes);
 * FastAPI answers every request-validation error (a body that is not JSON too) with 422.
 */
function statusFor(surface: Surface, error: AppError): number {
  if (surface === 'openai' && [413, 415, 422].includes(error.status)) return 400;
  if (surface === 'compat' && error.validation && error.status === 400) return 422;
  return error.status;
}

function bodyFor(
  surface: Surface,
  error: AppError,
  instance: string,
  requestId: string,
): { contentType: string; body: Record<string, unknown> } {
  switch (surface) {
    case 'openai':
      return { contentType: 'application/json; charset=utf-8', body: renderOpenAi(error) };
    case 'compat':
      return { contentType: 'application/json; charset=utf-8', body: renderCompat(error) };
    case 'flask':
      // The DeepSynth seed (Flask) answered {"error": "..."}.
      return { contentType: 'application/json', body: { error: error.message } };
    default:
      return {
        contentType: 'application/problem+json; charset=utf-8',
        body: renderProblem(error, instance, requestId),
      };
  }
}
