import { randomUUID } from 'node:crypto';
import type { ChatChunk, ChatResult, NativeAnswer } from '../../shared/chat.js';

const now = (): number => Math.floor(Date.now() / 1000);

/**
 * The chat completion object: the backend's own when it speaks OpenAI's format (every field
 * unchanged but `model`, the name the client asked for), else built from the engine's result.
 */
export function completionBody(result: ChatResult, model: string): NativeAnswer {
  if (result.native) return { ...result.native, model };
  const toolCalls = result.toolCalls?.length ? { tool_calls: result.toolCalls } : {};
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: now(),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: result.toolCalls?.length && !result.content ? null : result.content,
          refusal: null,
          ...toolCalls,
        },
        logprobs: null,
        finish_reason: result.finishReason,
      },
    ],
    usage: result.usage,
  };
}

/**
 * Turns engine chunks into chat.completion.chunk events: a backend's own events pass through
 * (only `model` rewritten, and the usage we asked for hidden from a client that did not);
 * a local engine's text is wrapped in OpenAI's chunk shape.
 */
export class ChunkRenderer {
  private readonly id = `chatcmpl-${randomUUID()}`;
  private readonly created = now();
  private started = false;
  /** The backend speaks OpenAI's format: its own events say everything, the final chunk adds nothing. */
  private passthrough = false;

  constructor(
    private readonly model: string,
    private readonly includeUsage: boolean,
  ) {}

  private chunk(delta: Record<string, unknown>, finish: string | null): NativeAnswer {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
  }

  /** The events (JSON objects) one engine chunk becomes, in order. */
  render(piece: ChatChunk): NativeAnswer[] {
    if (piece.type !== 'done' && piece.native) {
      this.passthrough = true;
      const event = piece.native;
      if (event.usage && !this.includeUsage) {
        if (Array.isArray(event.choices) && event.choices.length === 0) return [];
        const { usage: _hidden, ...rest } = event;
        return [{ ...rest, model: this.model }];
      }
      return [{ ...event, model: this.model }];
    }
    if (piece.type === 'event' || (piece.type === 'done' && this.passthrough)) return [];
    const out: NativeAnswer[] = [];
    if (!this.started) {
      this.started = true;
      out.push(this.chunk({ role: 'assistant', content: '' }, null));
    }
    if (piece.type === 'delta') out.push(this.chunk({ content: piece.content }, null));
    else {
      if (piece.toolCalls?.length)
        out.push(this.chunk({ tool_calls: piece.toolCalls.map((call, index) => ({ index, ...call })) }, null));
      out.push(this.chunk({}, piece.finishReason));
      if (this.includeUsage)
        out.push({
          id: this.id,
          object: 'chat.completion.chunk',
          created: this.created,
          model: this.model,
          choices: [],
          usage: piece.usage,
        });
    }
    return out;
  }
}
