import { abortError, appError, isAppError } from '../../errors/app-error.js';
import { collect, textOf, type ChatChunk, type ChatMessage, type ChatRequest, type ChatResult } from '../../shared/chat.js';
import { estimateUsage } from '../openai-compatible/openai-compatible-engine.js';
import { RemoteChatEngine } from '../remote/remote-engine.js';
import { lines, postOptions, type UpstreamOptions } from '../remote/upstream-client.js';

export interface OllamaOptions extends UpstreamOptions {
  model: string;
  vision: boolean;
  /** How long Ollama keeps the model loaded after this request (its keep_alive). */
  keepAlive?: string;
}

/** Ollama's message: text content and base64 images beside it. */
function toOllama(message: ChatMessage): { role: string; content: string; images?: string[] } {
  if (typeof message.content === 'string') return { role: message.role, content: message.content };
  const images = message.content.flatMap((p) => (p.type === 'image' ? [p.data.toString('base64')] : []));
  return { role: message.role, content: textOf(message), ...(images.length ? { images } : {}) };
}

interface OllamaLine {
  message?: { content?: string };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

/**
 * Ollama's native API (`POST /api/chat`, NDJSON when streaming), on the same retrying,
 * failing-over client as the OpenAI-compatible backend. Base URLs are the server root
 * (http://host:11434), not /v1.
 */
export class OllamaEngine extends RemoteChatEngine {
  constructor(private readonly options: OllamaOptions) {
    super(options, 'ollama');
  }

  private body(request: ChatRequest, stream: boolean): string {
    const options = {
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.topP !== undefined ? { top_p: request.topP } : {}),
      ...(request.maxTokens !== undefined ? { num_predict: request.maxTokens } : {}),
      ...(request.stop?.length ? { stop: request.stop } : {}),
    };
    return JSON.stringify({ model: this.options.model, messages: request.messages.map(toOllama), stream, options, ...(this.options.keepAlive ? { keep_alive: this.options.keepAlive } : {}) });
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatChunk> {
    const response = await this.client.post('/api/chat', this.body(request, true), postOptions(request, signal));
    let content = '';
    try {
      for await (const line of lines(response.body)) {
        const event = JSON.parse(line) as OllamaLine;
        if (event.error) throw appError('upstream_error', `ollama error mid-stream: ${event.error}`);
        const delta = event.message?.content;
        if (delta) {
          content += delta;
          yield { type: 'delta', content: delta };
        }
        if (event.done) {
          const usage =
            event.prompt_eval_count !== undefined && event.eval_count !== undefined
              ? { prompt_tokens: event.prompt_eval_count, completion_tokens: event.eval_count, total_tokens: event.prompt_eval_count + event.eval_count }
              : estimateUsage(request, content);
          yield { type: 'done', finishReason: event.done_reason === 'length' ? 'length' : 'stop', usage };
          return;
        }
      }
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (isAppError(error)) throw error;
      throw appError('upstream_error', `the ollama stream broke off: ${(error as Error).message}`);
    }
    throw appError('upstream_error', 'the ollama stream ended without its final line');
  }

  complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    // The streamed form is parsed either way: one code path, and Ollama sends the same fields.
    return collect(this.stream(request, signal));
  }
}
