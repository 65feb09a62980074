import { randomUUID } from 'node:crypto';
import type { ChatChunk, ChatResult, ChatUsage, FinishReason, NativeAnswer, ToolCall } from '../../shared/chat.js';

const newId = (prefix: string): string => `${prefix}_${randomUUID().replaceAll('-', '')}`;

type Item = Record<string, unknown>;

function usageOf(usage: ChatUsage): Record<string, unknown> {
  const prompt = usage.prompt_tokens_details as { cached_tokens?: number } | undefined;
  const completion = usage.completion_tokens_details as { reasoning_tokens?: number } | undefined;
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: prompt?.cached_tokens ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: completion?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens,
  };
}

const functionCall = (call: ToolCall, status: string): Item => ({
  type: 'function_call',
  id: newId('fc'),
  call_id: call.id,
  name: call.function.name,
  arguments: call.function.arguments,
  status,
});

/** Chat logprobs (one entry per token) → Responses' output_text logprobs. */
function logprobsOf(native: NativeAnswer | undefined): unknown[] {
  const choice = (
    native?.choices as Array<{ index?: number; logprobs?: { content?: unknown[] | null } | null }> | undefined
  )?.find((c) => (c.index ?? 0) === 0);
  return choice?.logprobs?.content ?? [];
}

function refusalOf(native: NativeAnswer | undefined): string | undefined {
  const choice = (
    native?.choices as Array<{ index?: number; message?: { refusal?: string | null } }> | undefined
  )?.find((c) => (c.index ?? 0) === 0);
  return choice?.message?.refusal ?? undefined;
}

/** One Response object around the chat runtime's answer. */
export class ResponseBuilder {
  readonly id = newId('resp');
  readonly createdAt = Math.floor(Date.now() / 1000);

  constructor(
    private readonly model: string,
    private readonly echo: Record<string, unknown>,
  ) {}

  /** The Response object; `output` and usage once there is an answer. */
  object(
    status: string,
    output: Item[] = [],
    usage: ChatUsage | null = null,
    finish?: FinishReason,
  ): Record<string, unknown> {
    const incomplete =
      finish === 'length'
        ? { reason: 'max_output_tokens' }
        : finish === 'content_filter'
          ? { reason: 'content_filter' }
          : null;
    return {
      id: this.id,
      object: 'response',
      created_at: this.createdAt,
      status: incomplete && status === 'completed' ? 'incomplete' : status,
      error: null,
      incomplete_details: incomplete,
      model: this.model,
      output,
      output_text: output
        .flatMap((item) =>
          item.type === 'message'
            ? (item.content as Array<{ type: string; text?: string }>).flatMap((p) =>
                p.type === 'output_text' ? [p.text ?? ''] : [],
              )
            : [],
        )
        .join(''),
      ...this.echo,
      usage: usage ? usageOf(usage) : null,
    };
  }

  /** A whole answer → the completed Response. */
  complete(result: ChatResult): Record<string, unknown> {
    const output: Item[] = [];
    const refusal = refusalOf(result.native);
    if (refusal)
      output.push({
        type: 'message',
        id: newId('msg'),
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'refusal', refusal }],
      });
    else if (result.content || !result.toolCalls?.length)
      output.push(this.message(result.content, 'completed', logprobsOf(result.native)));
    for (const call of result.toolCalls ?? []) output.push(functionCall(call, 'completed'));
    return this.object('completed', output, result.usage, result.finishReason);
  }

  message(text: string, status: string, logprobs: unknown[] = [], id = newId('msg')): Item {
    return {
      type: 'message',
      id,
      status,
      role: 'assistant',
      content: [{ type: 'output_text', text, annotations: [], logprobs }],
    };
  }
}

/**
 * The typed events of a streamed Response, from the chat runtime's chunks: response.created,
 * response.in_progress, the message item with its output_text deltas, function_call items,
 * then response.completed (or response.incomplete). Each event carries its sequence_number.
 */
export class ResponseEvents {
  private sequence = 0;
  private readonly messageId = newId('msg');
  private text = '';
  private textOpen = false;
  private readonly output: Item[] = [];

  constructor(private readonly response: ResponseBuilder) {}

  private event(type: string, fields: Record<string, unknown>): [string, Record<string, unknown>] {
    return [type, { type, sequence_number: this.sequence++, ...fields }];
  }

  start(): Array<[string, Record<string, unknown>]> {
    const response = this.response.object('in_progress');
    return [this.event('response.created', { response }), this.event('response.in_progress', { response })];
  }

  private closeText(): Array<[string, Record<string, unknown>]> {
    if (!this.textOpen) return [];
    this.textOpen = false;
    const at = { item_id: this.messageId, output_index: this.output.length, content_index: 0 };
    const item = this.response.message(this.text, 'completed', [], this.messageId);
    this.output.push(item);
    return [
      this.event('response.output_text.done', { ...at, text: this.text, logprobs: [] }),
      this.event('response.content_part.done', {
        ...at,
        part: { type: 'output_text', text: this.text, annotations: [], logprobs: [] },
      }),
      this.event('response.output_item.done', { output_index: at.output_index, item }),
    ];
  }

  render(piece: ChatChunk): Array<[string, Record<string, unknown>]> {
    if (piece.type === 'event') return [];
    const out: Array<[string, Record<string, unknown>]> = [];
    const outputIndex = this.output.length;
    if (piece.type === 'delta') {
      if (!this.textOpen) {
        this.textOpen = true;
        out.push(
          this.event('response.output_item.added', {
            output_index: outputIndex,
            item: this.response.message('', 'in_progress', [], this.messageId),
          }),
        );
        out.push(
          this.event('response.content_part.added', {
            item_id: this.messageId,
            output_index: outputIndex,
            content_index: 0,
            part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
          }),
        );
      }
      this.text += piece.content;
      out.push(
        this.event('response.output_text.delta', {
          item_id: this.messageId,
          output_index: outputIndex,
          content_index: 0,
          delta: piece.content,
          logprobs: [],
        }),
      );
      return out;
    }
    out.push(...this.closeText());
    for (const call of piece.toolCalls ?? []) {
      const item = functionCall(call, 'in_progress');
      const at = { item_id: item.id, output_index: this.output.length };
      out.push(
        this.event('response.output_item.added', { output_index: at.output_index, item: { ...item, arguments: '' } }),
      );
      out.push(this.event('response.function_call_arguments.delta', { ...at, delta: call.function.arguments }));
      out.push(this.event('response.function_call_arguments.done', { ...at, arguments: call.function.arguments }));
      const done = { ...item, status: 'completed' };
      this.output.push(done);
      out.push(this.event('response.output_item.done', { output_index: at.output_index, item: done }));
    }
    if (this.output.length === 0) this.output.push(this.response.message('', 'completed', [], this.messageId));
    const response = this.response.object('completed', this.output, piece.usage, piece.finishReason);
    out.push(this.event(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response }));
    return out;
  }

  /** A failure after the stream began, as OpenAI's Responses streams report one. */
  error(body: { error: { message: string; code: unknown; param: unknown } }): Array<[string, Record<string, unknown>]> {
    return [this.event('error', { code: body.error.code, message: body.error.message, param: body.error.param })];
  }
}
