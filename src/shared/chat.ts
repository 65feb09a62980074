/**
 * A chat conversation as the core parses it from any surface, and the chunks an engine
 * answers with: the chat engines, the core and the job store all share these.
 */
export type ChatPart = { type: 'text'; text: string } | { type: 'image'; data: Buffer };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ChatPart[];
}

export interface ChatRequest {
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  /** Sent upstream as x-request-id, so one id follows a request across servers. */
  requestId?: string;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type FinishReason = 'stop' | 'length';

export type ChatChunk = { type: 'delta'; content: string } | { type: 'done'; finishReason: FinishReason; usage: ChatUsage };

export interface ChatResult {
  content: string;
  finishReason: FinishReason;
  usage: ChatUsage;
}

/** `complete` for engines that only stream. */
export async function collect(chunks: AsyncIterable<ChatChunk>): Promise<ChatResult> {
  let content = '';
  for await (const chunk of chunks) {
    if (chunk.type === 'delta') content += chunk.content;
    else return { content, finishReason: chunk.finishReason, usage: chunk.usage };
  }
  throw new Error('the chat stream ended without a final chunk');
}

/** Text of a message (its text parts joined). */
export function textOf(message: ChatMessage): string {
  return typeof message.content === 'string' ? message.content : message.content.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
}

export function imagesOf(message: ChatMessage): Buffer[] {
  return typeof message.content === 'string' ? [] : message.content.flatMap((p) => (p.type === 'image' ? [p.data] : []));
}

/**
 * A token estimate for engines with no tokenizer of their own (about four characters a
 * token for Latin text, one a character for CJK). Documented as an estimate.
 */
export function estimateTokens(text: string): number {
  const cjk = text.match(/[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/g)?.length ?? 0;
  return cjk + Math.ceil((text.length - cjk) / 4);
}
