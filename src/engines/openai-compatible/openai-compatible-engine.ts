import { mimeTypes, sniffKind } from '../../documents/sniff.js';
import { abortError, appError, isAppError } from '../../errors/app-error.js';
import {
  estimateTokens,
  textOf,
  type ChatChunk,
  type ChatMessage,
  type ChatRequest,
  type ChatResult,
  type FinishReason,
  type NativeAnswer,
  type ToolCall,
} from '../../shared/chat.js';
import { RemoteChatEngine } from '../remote/remote-engine.js';
import { lines, postOptions, type UpstreamOptions } from '../remote/upstream-client.js';

export interface OpenAiBackendOptions extends UpstreamOptions {
  /** Model name sent upstream. */
  model: string;
  vision: boolean;
}

type UpstreamPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string; detail?: string } };

function toUpstream(message: ChatMessage): Record<string, unknown> {
  const content =
    message.content === null || typeof message.content === 'string'
      ? message.content
      : message.content.map((part): UpstreamPart => {
          if (part.type === 'text') return part;
          const url = `data:${mimeTypes[sniffKind(part.data) ?? 'png']};base64,${part.data.toString('base64')}`;
          return { type: 'image_url', image_url: { url, ...(part.detail ? { detail: part.detail } : {}) } };
        });
  return {
    ...message.extra,
    role: message.role,
    content,
    ...(message.toolCalls ? { tool_calls: message.toolCalls } : {}),
    ...(message.toolCallId ? { tool_call_id: message.toolCallId } : {}),
  };
}

/** Token usage when the upstream reports none. */
export function estimateUsage(request: ChatRequest, content: string): ChatResult['usage'] {
  const prompt = estimateTokens(request.messages.map(textOf).join('\n'));
  const completion = estimateTokens(content);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** The request's parameters in OpenAI's names: as the client sent them, else from the typed fields. */
export function wireParameters(request: ChatRequest): Record<string, unknown> {
  if (request.parameters) return request.parameters;
  return {
    ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.topP !== undefined ? { top_p: request.topP } : {}),
    ...(request.stop?.length ? { stop: request.stop } : {}),
  };
}

const finishReasons = new Set<FinishReason>(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']);
export const finishReason = (value: unknown): FinishReason =>
  finishReasons.has(value as FinishReason) ? (value as FinishReason) : 'stop';

interface Choice {
  index?: number;
  message?: { content?: string | null; tool_calls?: ToolCall[] };
  delta?: {
    content?: string | null;
    tool_calls?: Array<{
      index?: number;
      id?: string;
      type?: string;
      function?: { name?: string; arguments?: string };
    }>;
  };
  finish_reason?: string | null;
}

/** Builds whole tool calls from their streamed pieces (id and name first, then the arguments in parts). */
export class ToolCallAssembler {
  private readonly calls: ToolCall[] = [];
  add(deltas: NonNullable<Choice['delta']>['tool_calls']): void {
    for (const delta of deltas ?? []) {
      const call = (this.calls[delta.index ?? 0] ??= {
        id: '',
        type: 'function',
        function: { name: '', arguments: '' },
      });
      if (delta.id) call.id = delta.id;
      if (delta.function?.name) call.function.name += delta.function.name;
      if (delta.function?.arguments) call.function.arguments += delta.function.arguments;
    }
  }
  get result(): ToolCall[] | undefined {
    const calls = this.calls.filter(Boolean);
    return calls.length ? calls : undefined;
  }
}

/**
 * Any server speaking OpenAI's chat completions (vLLM, llama.cpp server, LocalAI, OpenAI, Ollama's /v1):
 * a pass-through. Every parameter the client sent goes upstream unchanged (only `model` is the
 * configured one), and the upstream's answer comes back whole as `native`.
 */
export class OpenAiCompatibleEngine extends RemoteChatEngine {
  constructor(private readonly options: OpenAiBackendOptions) {
    super(options, 'openai-compatible');
  }

  private body(request: ChatRequest, stream: boolean): string {
    const { stream_options: streamOptions, ...parameters } = wireParameters(request);
    const options = typeof streamOptions === 'object' && streamOptions !== null ? streamOptions : {};
    return JSON.stringify({
      model: this.options.model,
      messages: request.messages.map(toUpstream),
      ...parameters,
      stream,
      // Usage is always asked for: it meters the caller's key. The /v1 route hides it from clients that did not ask.
      ...(stream ? { stream_options: { ...options, include_usage: true } } : {}),
    });
  }

  async complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    const response = await this.client.post(
      '/chat/completions',
      this.body(request, false),
      postOptions(request, signal),
    );
    const json = (await response.body.json()) as NativeAnswer & { choices?: Choice[]; usage?: ChatResult['usage'] };
    const choice = json.choices?.find((c) => (c.index ?? 0) === 0) ?? json.choices?.[0];
    if (!choice) throw appError('upstream_error', 'the upstream answer has no choices');
    const content = choice.message?.content ?? '';
    const toolCalls = choice.message?.tool_calls;
    return {
      content,
      finishReason: finishReason(choice.finish_reason),
      usage: json.usage ?? estimateUsage(request, content),
      ...(toolCalls?.length ? { toolCalls } : {}),
      native: json,
    };
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatChunk> {
    const response = await this.client.post(
      '/chat/completions',
      this.body(request, true),
      postOptions(request, signal),
    );
    let content = '';
    let finish: FinishReason = 'stop';
    let usage: ChatResult['usage'] | undefined;
    const tools = new ToolCallAssembler();
    try {
      for await (const line of lines(response.body)) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') continue;
        const event = JSON.parse(data) as NativeAnswer & {
          choices?: Choice[];
          usage?: ChatResult['usage'] | null;
          error?: { message?: string };
        };
        if (event.error)
          throw appError('upstream_error', `upstream error mid-stream: ${event.error.message ?? 'unknown'}`);
        if (event.usage) usage = event.usage;
        const choice = event.choices?.find((c) => (c.index ?? 0) === 0);
        if (choice?.finish_reason) finish = finishReason(choice.finish_reason);
        tools.add(choice?.delta?.tool_calls);
        const delta = choice?.delta?.content;
        if (delta) {
          content += delta;
          yield { type: 'delta', content: delta, native: event };
        } else yield { type: 'event', native: event };
      }
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      if (isAppError(error)) throw error;
      throw appError('upstream_error', `the upstream stream broke off: ${(error as Error).message}`);
    }
    const toolCalls = tools.result;
    yield {
      type: 'done',
      finishReason: finish,
      usage: usage ?? estimateUsage(request, content),
      ...(toolCalls ? { toolCalls } : {}),
    };
  }
}
