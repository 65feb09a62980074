import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent, Dispatcher, FormData, request } from 'undici';
import { loadUndici } from '../../shared/lazy-modules.js';
import { abortError, appError, isAppError, type AppError } from '../../errors/app-error.js';
import { Upstreams } from './upstreams.js';

export interface UpstreamOptions {
  urls: string[];
  apiKey?: string;
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Extra attempts after a connection error or a retryable status, before any output. */
  maxRetries: number;
  /** Statuses worth another attempt (502, 503, 504 by default; the OCRFlux seed retried 500 too). */
  retryStatuses?: readonly number[];
}

const defaultRetryable: readonly number[] = [502, 503, 504];

export interface PostOptions {
  signal?: AbortSignal;
  /** Sent upstream as x-request-id. */
  requestId?: string;
  /** Told which server takes the request, before it is sent (progress and interrupt go to that one). */
  onUrl?: (url: string) => void;
}

/**
 * HTTP to a model server with several URLs: connection reuse, timeouts, bounded retries
 * with backoff only where no output was delivered yet, failover across URLs, and the
 * caller's cancellation passed on. Shared by every remote chat backend.
 */
export class UpstreamClient {
  private readonly upstreams: Upstreams;
  /** Made on first use, with undici (shared/lazy-modules.ts). */
  private agent: Agent | undefined;

  constructor(private readonly options: UpstreamOptions) {
    this.upstreams = new Upstreams(options.urls.map((u) => u.replace(/\/+$/, '')));
  }

  /** undici's request and this client's kept-alive connections. */
  private async http(): Promise<{ request: typeof request; agent: Agent }> {
    const undici = await loadUndici();
    const { connectTimeoutMs, timeoutMs } = this.options;
    this.agent ??= new undici.Agent({
      connect: { timeout: connectTimeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 30_000,
    });
    return { request: undici.request, agent: this.agent };
  }

  /**
   * Asks every server to free what it holds loaded (`free`: a POST and what to say when it
   * answers), then closes the kept-alive connections (opened again on the next request).
   * Says what was dropped.
   */
  async release(free?: { path: string; body?: string; said: string }): Promise<string[]> {
    const dropped: string[] = [];
    if (free) {
      for (const url of this.urls) {
        const ok = await this.send(url, 'POST', free.path, free.body ? { body: free.body } : {}).then(
          () => true,
          () => false,
        );
        if (ok) dropped.push(`${free.said} on ${new URL(url).host}`);
      }
    }
    const old = this.agent;
    this.agent = undefined;
    await old?.close();
    return [...dropped, 'kept-alive connections'];
  }

  /** The servers to try for one request, healthy ones first. */
  order(): string[] {
    return this.upstreams.order();
  }

  private headers(json: boolean, requestId?: string): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json, text/event-stream, application/x-ndjson' };
    if (json) headers['content-type'] = 'application/json';
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (requestId) headers['x-request-id'] = requestId;
    return headers;
  }

  /** One request to one server (no retry, no failover): a 2xx response or a catalog error. */
  async send(
    url: string,
    method: 'GET' | 'POST',
    path: string,
    options: { body?: string | FormData; signal?: AbortSignal } = {},
  ): Promise<Dispatcher.ResponseData> {
    const { body, signal } = options;
    try {
      const { request, agent } = await this.http();
      const response = await request(`${url}${path}`, {
        method,
        headers: this.headers(typeof body === 'string'),
        dispatcher: agent,
        ...(body !== undefined ? { body } : {}),
        ...(signal ? { signal } : {}),
      });
      if (response.statusCode >= 400) throw await upstreamError(response, url);
      return response;
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (isAppError(error)) throw error;
      throw connectionError(error, url);
    }
  }

  /** `send`, reading a JSON answer. */
  async json<T>(
    url: string,
    method: 'GET' | 'POST',
    path: string,
    options: { body?: string | FormData; signal?: AbortSignal } = {},
  ): Promise<T> {
    const response = await this.send(url, method, path, options);
    try {
      return (await response.body.json()) as T;
    } catch (error) {
      throw appError(
        'upstream_error',
        `the model server at ${new URL(url).host} answered ${path} with something that is not JSON (${(error as Error).message})`,
        { upstream: new URL(url).host },
      );
    }
  }

  get urls(): string[] {
    return this.upstreams.urls;
  }

  healthyUrls(): string[] {
    return this.upstreams.healthy();
  }

  /** POSTs JSON (or a form) to `path` on the first URL that answers; the response is 2xx or an error is thrown. */
  async post(path: string, body: string | FormData, options: PostOptions = {}): Promise<Dispatcher.ResponseData> {
    const { signal, requestId } = options;
    let last: AppError | undefined;
    const order = this.upstreams.order();
    // Every URL gets a chance (failover) even with no retries configured.
    const attempts = Math.max(this.options.maxRetries + 1, order.length);
    for (let attempt = 0; attempt < attempts; attempt++) {
      const url = order[attempt % order.length]!;
      if (attempt > 0)
        await sleep(Math.min(2000, 100 * 2 ** (attempt - 1)), undefined, signal ? { signal } : {}).catch(
          () => undefined,
        );
      if (signal?.aborted) throw abortError(signal);
      try {
        options.onUrl?.(url);
        const { request, agent } = await this.http();
        const response = await request(`${url}${path}`, {
          method: 'POST',
          body,
          headers: this.headers(typeof body === 'string', requestId),
          dispatcher: agent,
          ...(signal ? { signal } : {}),
        });
        if ((this.options.retryStatuses ?? defaultRetryable).includes(response.statusCode)) {
          last = await upstreamError(response, url);
          this.upstreams.markDown(url);
          continue;
        }
        if (response.statusCode >= 400) throw await upstreamError(response, url);
        this.upstreams.markUp(url);
        return response;
      } catch (error) {
        if (signal?.aborted) throw abortError(signal);
        if (isAppError(error)) throw error;
        last = connectionError(error, url);
        this.upstreams.markDown(url);
      }
    }
    throw last ?? appError('upstream_unavailable', 'no upstream URL is configured');
  }
}

/** The post options of a chat request: its cancellation and its id. */
export function postOptions(request: { requestId?: string }, signal?: AbortSignal): PostOptions {
  return { ...(signal ? { signal } : {}), ...(request.requestId ? { requestId: request.requestId } : {}) };
}

/** Reads an upstream error body (OpenAI's, vLLM's and Ollama's shapes) into a catalog error. */
async function upstreamError(response: Dispatcher.ResponseData, url: string): Promise<AppError> {
  const text = (await response.body.text().catch(() => '')).slice(0, 2000);
  let message = text;
  // OpenAI's error object names the parameter at fault: the client hears it too.
  let param: string | undefined;
  try {
    const json = JSON.parse(text) as {
      error?: { message?: string; details?: string; param?: unknown } | string;
      message?: string;
      detail?: unknown;
      errors?: string;
      param?: unknown;
    };
    const named = typeof json.error === 'object' && json.error ? json.error.param : json.param;
    if (typeof named === 'string' && named) param = named;
    // OpenAI/vLLM: error.message; ComfyUI: error.message + error.details; A1111: error (a type name) + errors; FastAPI: detail.
    const error =
      typeof json.error === 'object' && json.error
        ? [json.error.message, json.error.details].filter(Boolean).join(': ')
        : [json.error, json.errors].filter(Boolean).join(': ');
    const detail =
      typeof json.detail === 'string'
        ? json.detail
        : json.detail !== undefined
          ? JSON.stringify(json.detail)
          : undefined;
    message = error || json.message || detail || text;
  } catch {
    // not JSON: keep the text
  }
  const status = response.statusCode;
  const facts = { upstream_status: status, upstream: new URL(url).host, ...(param ? { field: param } : {}) };
  if (status === 429)
    return appError('rate_limited', `the model server is rate limiting: ${message}`, facts, {
      retryAfterSeconds: Number(response.headers['retry-after']) || 1,
    });
  if (status === 400 || status === 422)
    return appError('invalid_parameter', `the model server refused the request: ${message}`, facts);
  if (status === 413)
    return appError('payload_too_large', `the model server refused the request as too large: ${message}`, facts);
  if (status === 503)
    return appError('upstream_unavailable', `the model server is unavailable (HTTP 503): ${message}`, facts, {
      retryAfterSeconds: 1,
    });
  if (status === 504) return appError('upstream_timeout', `the model server timed out (HTTP 504): ${message}`, facts);
  return appError('upstream_error', `the model server answered HTTP ${status}: ${message}`, facts);
}

function connectionError(error: unknown, url: string): AppError {
  const e = error as { code?: string; message?: string };
  const host = new URL(url).host;
  if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT')
    return appError('upstream_timeout', `the model server at ${host} did not answer in time`, { upstream: host });
  return appError(
    'upstream_unavailable',
    `cannot reach the model server at ${host} (${e.code ?? e.message ?? 'connection failed'})`,
    { upstream: host },
    { retryAfterSeconds: 1 },
  );
}

/** Lines of a streamed body (SSE or NDJSON), as they arrive. */
export async function* lines(body: Dispatcher.ResponseData['body']): AsyncGenerator<string> {
  let buffer = '';
  for await (const piece of body) {
    buffer += (piece as Buffer).toString('utf8');
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield line;
    }
  }
  if (buffer.trim()) yield buffer.trim();
}
