import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { mimeTypes, sniffKind } from '../../documents/sniff.js';
import { abortError, appError, isAppError, type AppError } from '../../errors/app-error.js';
import { estimateTokens, textOf, type ChatChunk, type ChatEngine, type ChatMessage, type ChatRequest, type ChatResult, type FinishReason } from '../chat-spec.js';
import { Upstreams } from './upstreams.js';

export interface OpenAiBackendOptions {
  urls: string[];
  /** Model name sent upstream. */
  model: string;
  apiKey?: string;
  vision: boolean;
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Extra attempts after a connection error or a 502/503/504, before any output. */
  maxRetries: number;
}

interface UpstreamMessage {
  role: string;
  content: string | Array<{ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } }>;
}

function toUpstream(message: ChatMessage): UpstreamMessage {
  if (typeof message.content === 'string') return { role: message.role, content: message.content };
  return {
    role: message.role,
    content: message.content.map((part) => (part.type === 'text' ? part : { type: 'image_url' as const, image_url: { url: `data:${mimeTypes[sniffKind(part.data) ?? 'png']};base64,${part.data.toString('base64')}` } })),
  };
}

const retryable = new Set([502, 503, 504]);

/**
 * Any server speaking OpenAI's chat completions (vLLM, llama.cpp server, LocalAI, OpenAI):
 * connection reuse, timeouts, bounded retries with backoff only where no output was
 * delivered yet, failover across URLs, and the client's cancellation passed upstream.
 */
export class OpenAiCompatibleEngine implements ChatEngine {
  readonly vision: boolean;
  readonly backend: string;
  private readonly upstreams: Upstreams;
  private readonly agent: Agent;

  constructor(private readonly options: OpenAiBackendOptions) {
    this.vision = options.vision;
    this.upstreams = new Upstreams(options.urls.map((u) => u.replace(/\/+$/, '')));
    this.backend = `openai-compatible: ${this.upstreams.urls.join(', ')}`;
    this.agent = new Agent({ connect: { timeout: options.connectTimeoutMs }, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs, keepAliveTimeout: 30_000 });
  }

  private body(request: ChatRequest, stream: boolean): string {
    return JSON.stringify({
      model: this.options.model,
      messages: request.messages.map(toUpstream),
      ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.topP !== undefined ? { top_p: request.topP } : {}),
      ...(request.stop?.length ? { stop: request.stop } : {}),
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
    });
  }

  /** Sends to the first URL that answers; retries connection failures and 502/503/504. */
  private async send(body: string, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    let last: AppError | undefined;
    const order = this.upstreams.order();
    // Every URL gets a chance (failover) even with no retries configured.
    const attempts = Math.max(this.options.maxRetries + 1, order.length);
    for (let attempt = 0; attempt < attempts; attempt++) {
      const url = order[attempt % order.length]!;
      if (attempt > 0) await sleep(Math.min(2000, 100 * 2 ** (attempt - 1)), undefined, signal ? { signal } : {}).catch(() => undefined);
      if (signal?.aborted) throw abortError(signal);
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
        if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
        const response = await request(`${url}/chat/completions`, { method: 'POST', body, headers, dispatcher: this.agent, ...(signal ? { signal } : {}) });
        if (retryable.has(response.statusCode)) {
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

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const response = await this.send(this.body(request, false), signal);
    const json = (await response.body.json()) as { choices?: Array<{ message?: { content?: string | null }; finish_reason?: string }>; usage?: ChatResult['usage'] };
    const choice = json.choices?.[0];
    if (!choice) throw appError('upstream_error', 'the upstream answer has no choices');
    const content = choice.message?.content ?? '';
    return { content, finishReason: choice.finish_reason === 'length' ? 'length' : 'stop', usage: json.usage ?? this.estimate(request, content) };
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatChunk> {
    const response = await this.send(this.body(request, true), signal);
    let content = '';
    let finishReason: FinishReason = 'stop';
    let usage: ChatResult['usage'] | undefined;
    let buffer = '';
    try {
      for await (const piece of response.body) {
        buffer += (piece as Buffer).toString('utf8');
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') continue;
          const event = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>; usage?: ChatResult['usage']; error?: { message?: string } };
          if (event.error) throw appError('upstream_error', `upstream error mid-stream: ${event.error.message ?? 'unknown'}`);
          if (event.usage) usage = event.usage;
          const choice = event.choices?.[0];
          if (choice?.finish_reason === 'length') finishReason = 'length';
          const delta = choice?.delta?.content;
          if (delta) {
            content += delta;
            yield { type: 'delta', content: delta };
          }
        }
      }
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (isAppError(error)) throw error;
      throw appError('upstream_error', `the upstream stream broke off: ${(error as Error).message}`);
    }
    yield { type: 'done', finishReason, usage: usage ?? this.estimate(request, content) };
  }

  private estimate(request: ChatRequest, content: string): ChatResult['usage'] {
    const prompt = estimateTokens(request.messages.map(textOf).join('\n'));
    const completion = estimateTokens(content);
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  }

  healthyUrls(): string[] {
    return this.upstreams.healthy();
  }
}

/** Reads an upstream error body (OpenAI's and vLLM's shapes) into a catalog error. */
async function upstreamError(response: Dispatcher.ResponseData, url: string): Promise<AppError> {
  const text = (await response.body.text().catch(() => '')).slice(0, 2000);
  let message = text;
  try {
    const json = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: string };
    message = (typeof json.error === 'object' ? json.error.message : json.error) ?? json.message ?? json.detail ?? text;
  } catch {
    // not JSON: keep the text
  }
  const status = response.statusCode;
  const facts = { upstream_status: status, upstream: new URL(url).host };
  if (status === 429) return appError('rate_limited', `the model server is rate limiting: ${message}`, facts, { retryAfterSeconds: Number(response.headers['retry-after']) || 1 });
  if (status === 400 || status === 422) return appError('invalid_parameter', `the model server refused the request: ${message}`, facts);
  if (status === 503) return appError('upstream_unavailable', `the model server is unavailable (HTTP 503): ${message}`, facts, { retryAfterSeconds: 1 });
  if (status === 504) return appError('upstream_timeout', `the model server timed out (HTTP 504): ${message}`, facts);
  return appError('upstream_error', `the model server answered HTTP ${status}: ${message}`, facts);
}

function connectionError(error: unknown, url: string): AppError {
  const e = error as { code?: string; message?: string };
  const host = new URL(url).host;
  if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') return appError('upstream_timeout', `the model server at ${host} did not answer in time`, { upstream: host });
  return appError('upstream_unavailable', `cannot reach the model server at ${host} (${e.code ?? e.message ?? 'connection failed'})`, { upstream: host }, { retryAfterSeconds: 1 });
}
