import { mimeTypes, sniffKind } from '../../documents/sniff.js';
import { abortError, appError, isAppError } from '../../errors/app-error.js';
import { estimateTokens, textOf, type ChatChunk, type ChatMessage, type ChatRequest, type ChatResult, type FinishReason } from '../../shared/chat.js';
import { RemoteChatEngine } from '../remote/remote-engine.js';
import { lines, postOptions, type UpstreamOptions } from '../remote/upstream-client.js';

export interface OpenAiBackendOptions extends UpstreamOptions {
  /** Model name sent upstream. */
  model: string;
  vision: boolean;
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

/** Token usage when the upstream reports none. */
export function estimateUsage(request: ChatRequest, content: string): ChatResult['usage'] {
  const prompt = estimateTokens(request.messages.map(textOf).join('\n'));
  const completion = estimateTokens(content);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Any server speaking OpenAI's chat completions (vLLM, llama.cpp server, LocalAI, OpenAI, Ollama's /v1). */
export class OpenAiCompatibleEngine extends RemoteChatEngine {
  constructor(private readonly options: OpenAiBackendOptions) {
    super(options, 'openai-compatible');
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

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const response = await this.client.post('/chat/completions', this.body(request, false), postOptions(request, signal));
    const json = (await response.body.json()) as { choices?: Array<{ message?: { content?: string | null }; finish_reason?: string }>; usage?: ChatResult['usage'] };
    const choice = json.choices?.[0];
    if (!choice) throw appError('upstream_error', 'the upstream answer has no choices');
    const content = choice.message?.content ?? '';
    return { content, finishReason: choice.finish_reason === 'length' ? 'length' : 'stop', usage: json.usage ?? estimateUsage(request, content) };
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatChunk> {
    const response = await this.client.post('/chat/completions', this.body(request, true), postOptions(request, signal));
    let content = '';
    let finishReason: FinishReason = 'stop';
    let usage: ChatResult['usage'] | undefined;
    try {
      for await (const line of lines(response.body)) {
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
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (isAppError(error)) throw error;
      throw appError('upstream_error', `the upstream stream broke off: ${(error as Error).message}`);
    }
    yield { type: 'done', finishReason, usage: usage ?? estimateUsage(request, content) };
  }
}
