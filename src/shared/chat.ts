/**
 * A chat conversation as the core parses it from any surface, and the chunks an engine
 * answers with: the chat engines, the core and the job store all share these.
 *
 * OpenAI's chat completions format is the lingua franca of chat backends, so the parts of a
 * request visiongate does not interpret travel in it (`parameters`, `extra`), and an engine
 * that speaks it hands back its backend's own answer (`native`) for surfaces that speak it too.
 */
export type ChatPart = { type: 'text'; text: string } | { type: 'image'; data: Buffer; detail?: string };

/** A tool call of an assistant message, in OpenAI's shape (arguments are a JSON string). */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** null: an assistant message that only calls tools. */
  content: string | ChatPart[] | null;
  /** Assistant messages: the tools it called. */
  toolCalls?: ToolCall[];
  /** Tool messages: which call this answers. */
  toolCallId?: string;
  /** Fields of the message visiongate does not interpret (OpenAI's names: name, refusal, ...), kept as sent. */
  extra?: Record<string, unknown>;
}

export interface ChatRequest {
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  /**
   * Every request parameter as the client named it in OpenAI's chat completions API (all but
   * model, messages, stream and stream_options; the sampling fields above are validated copies).
   * An engine that speaks OpenAI's format forwards them unchanged; every other engine honours
   * each one it can and refuses the rest with `unsupportedParameter`: none is dropped silently.
   */
  parameters?: Record<string, unknown>;
  /** Sent upstream as x-request-id, so one id follows a request across servers. */
  requestId?: string;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Extra counts a backend reports (prompt_tokens_details, ...), passed on as they are. */
  [detail: string]: unknown;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

/** An answer (or one streamed event) of a backend that speaks OpenAI's chat completions format, as it sent it. */
export type NativeAnswer = Record<string, unknown>;

export type ChatChunk =
  /** Text of the (first) answer; `native` is the backend's event that carried it. */
  | { type: 'delta'; content: string; native?: NativeAnswer }
  /** A backend event with no text of the first answer (role, tool calls, logprobs, other choices, usage). */
  | { type: 'event'; native: NativeAnswer }
  | { type: 'done'; finishReason: FinishReason; usage: ChatUsage; toolCalls?: ToolCall[] };

export interface ChatResult {
  content: string;
  finishReason: FinishReason;
  usage: ChatUsage;
  toolCalls?: ToolCall[];
  /** The backend's own answer, when it speaks OpenAI's format. */
  native?: NativeAnswer;
}

/** `complete` for engines that only stream. */
export async function collect(chunks: AsyncIterable<ChatChunk>): Promise<ChatResult> {
  let content = '';
  for await (const chunk of chunks) {
    if (chunk.type === 'delta') content += chunk.content;
    else if (chunk.type === 'done')
      return {
        content,
        finishReason: chunk.finishReason,
        usage: chunk.usage,
        ...(chunk.toolCalls ? { toolCalls: chunk.toolCalls } : {}),
      };
  }
  throw new Error('the chat stream ended without a final chunk');
}

/** Text of a message (its text parts joined). */
export function textOf(message: ChatMessage): string {
  if (message.content === null) return '';
  return typeof message.content === 'string'
    ? message.content
    : message.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
}

export function imagesOf(message: ChatMessage): Buffer[] {
  return typeof message.content === 'string' || message.content === null
    ? []
    : message.content.flatMap((p) => (p.type === 'image' ? [p.data] : []));
}

/**
 * A token estimate for engines with no tokenizer of their own (about four characters a
 * token for Latin text, one a character for CJK). Documented as an estimate.
 */
export function estimateTokens(text: string): number {
  const cjk = text.match(/[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/g)?.length ?? 0;
  return cjk + Math.ceil((text.length - cjk) / 4);
}

/** A parameter value that asks for nothing (absent, null, false, an empty list or object). */
export function isUnset(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}
