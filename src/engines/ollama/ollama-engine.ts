import { abortError, appError, isAppError } from '../../errors/app-error.js';
import { randomUUID } from 'node:crypto';
import {
  collect,
  imagesOf,
  textOf,
  type ChatChunk,
  type ChatMessage,
  type ChatRequest,
  type ChatResult,
  type ToolCall,
} from '../../shared/chat.js';
import { refuseUnsupported, samplingParameters } from '../unsupported-parameters.js';
import { estimateUsage } from '../openai-compatible/openai-compatible-engine.js';
import { RemoteChatEngine } from '../remote/remote-engine.js';
import { lines, postOptions, type UpstreamOptions } from '../remote/upstream-client.js';

export interface OllamaOptions extends UpstreamOptions {
  model: string;
  vision: boolean;
  /** How long Ollama keeps the model loaded after this request (its keep_alive). */
  keepAlive?: string;
}

/** Ollama's message: text content, base64 images beside it, tool calls with arguments as objects. */
function toOllama(message: ChatMessage, names: Map<string, string>): Record<string, unknown> {
  const images = imagesOf(message).map((b) => b.toString('base64'));
  const toolCalls = message.toolCalls?.map((call) => {
    names.set(call.id, call.function.name);
    return { function: { name: call.function.name, arguments: parseArguments(call.function.arguments) } };
  });
  const toolName = message.toolCallId ? names.get(message.toolCallId) : undefined;
  return {
    role: message.role,
    content: textOf(message),
    ...(images.length ? { images } : {}),
    ...(toolCalls?.length ? { tool_calls: toolCalls } : {}),
    ...(toolName ? { tool_name: toolName } : {}),
  };
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw appError(
      'invalid_parameter',
      `tool call arguments must be JSON for an Ollama backend, received ${text.slice(0, 80)}`,
      { field: 'messages' },
    );
  }
}

/** What Ollama's native API can honour, and how each OpenAI parameter maps onto it. */
const honoured = [
  ...samplingParameters,
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'response_format',
  'tools',
  'stream_options',
];
const rules: Record<string, (value: unknown) => boolean> = {
  n: (v) => v === undefined || v === null || v === 1,
  tool_choice: (v) => v === undefined || v === null || v === 'auto' || v === 'none',
  parallel_tool_calls: (v) => v === undefined || v === null || v === true,
  response_format: (v) =>
    v === null ||
    (typeof v === 'object' && ['text', 'json_object', 'json_schema'].includes(String((v as { type?: unknown }).type))),
};

function format(value: unknown): unknown {
  const f = value as { type?: string; json_schema?: { schema?: unknown } } | null | undefined;
  if (f?.type === 'json_object') return 'json';
  if (f?.type === 'json_schema') return f.json_schema?.schema ?? 'json';
  return undefined;
}

interface OllamaLine {
  message?: { content?: string; tool_calls?: Array<{ function?: { name?: string; arguments?: unknown } }> };
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
    refuseUnsupported(request, 'ollama', honoured, rules);
    const p = request.parameters ?? {};
    const options = {
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.topP !== undefined ? { top_p: request.topP } : {}),
      ...(request.maxTokens !== undefined ? { num_predict: request.maxTokens } : {}),
      ...(request.stop?.length ? { stop: request.stop } : {}),
      ...(typeof p.seed === 'number' ? { seed: p.seed } : {}),
      ...(typeof p.frequency_penalty === 'number' ? { frequency_penalty: p.frequency_penalty } : {}),
      ...(typeof p.presence_penalty === 'number' ? { presence_penalty: p.presence_penalty } : {}),
    };
    const names = new Map<string, string>();
    const tools = Array.isArray(p.tools) && p.tools.length && p.tool_choice !== 'none' ? { tools: p.tools } : {};
    const json = format(p.response_format);
    return JSON.stringify({
      model: this.options.model,
      messages: request.messages.map((m) => toOllama(m, names)),
      stream,
      options,
      ...tools,
      ...(json ? { format: json } : {}),
      ...(this.options.keepAlive ? { keep_alive: this.options.keepAlive } : {}),
    });
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatChunk> {
    const response = await this.client.post('/api/chat', this.body(request, true), postOptions(request, signal));
    let content = '';
    const toolCalls: ToolCall[] = [];
    try {
      for await (const line of lines(response.body)) {
        const event = JSON.parse(line) as OllamaLine;
        if (event.error) throw appError('upstream_error', `ollama error mid-stream: ${event.error}`);
        const delta = event.message?.content;
        if (delta) {
          content += delta;
          yield { type: 'delta', content: delta };
        }
        for (const call of event.message?.tool_calls ?? []) {
          const args = call.function?.arguments;
          toolCalls.push({
            id: `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
            type: 'function',
            function: {
              name: call.function?.name ?? '',
              arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
            },
          });
        }
        if (event.done) {
          const usage =
            event.prompt_eval_count !== undefined && event.eval_count !== undefined
              ? {
                  prompt_tokens: event.prompt_eval_count,
                  completion_tokens: event.eval_count,
                  total_tokens: event.prompt_eval_count + event.eval_count,
                }
              : estimateUsage(request, content);
          const finishReason = toolCalls.length ? 'tool_calls' : event.done_reason === 'length' ? 'length' : 'stop';
          yield { type: 'done', finishReason, usage, ...(toolCalls.length ? { toolCalls } : {}) };
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
