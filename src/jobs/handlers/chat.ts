import { openChat, type ChatDependencies } from '../../core/chat.js';
import { appError } from '../../errors/app-error.js';
import type { ChatMessage, ChatPart, ChatRequest } from '../../shared/chat.js';
import type { JobContext, JobSpec } from '../job.js';

/** A content part as a job keeps it: an image is a slice of the job's input, not bytes in the JSON. */
type StoredPart = { type: 'text'; text: string } | { type: 'image'; offset: number; length: number; detail?: string };

/** A message as a job keeps it: everything of the parsed message (tool calls, extra fields), images as slices. */
type StoredMessage = Omit<ChatMessage, 'content'> & { content: string | StoredPart[] | null };

/** The parameters of a chat job: the core's parsed request, checked and with its images fetched at submission. */
export interface ChatJobParams {
  model: string;
  request: Omit<ChatRequest, 'messages'> & { messages: StoredMessage[] };
}

/** A chat job of a parsed request: its images are laid end to end in the job's input. */
export function chatJobSpec(model: string, request: ChatRequest): JobSpec {
  const images: Buffer[] = [];
  let offset = 0;
  const store = (part: ChatPart): StoredPart => {
    if (part.type === 'text') return part;
    images.push(part.data);
    offset += part.data.length;
    return {
      type: 'image',
      offset: offset - part.data.length,
      length: part.data.length,
      ...(part.detail ? { detail: part.detail } : {}),
    };
  };
  const messages = request.messages.map(
    (m): StoredMessage => ({
      ...m,
      content: typeof m.content === 'string' || m.content === null ? m.content : m.content.map(store),
    }),
  );
  const params: ChatJobParams = { model, request: { ...request, messages } };
  return {
    type: 'chat',
    params: params as unknown as Record<string, unknown>,
    ...(images.length ? { input: Buffer.concat(images) } : {}),
  };
}

function requestOf(params: ChatJobParams, input: Buffer | undefined): ChatRequest {
  const part = (stored: StoredPart): ChatPart => {
    if (stored.type === 'text') return stored;
    if (!input || stored.offset + stored.length > input.length)
      throw appError('internal', 'the chat job lost its images');
    return {
      type: 'image',
      data: input.subarray(stored.offset, stored.offset + stored.length),
      ...(stored.detail ? { detail: stored.detail } : {}),
    };
  };
  const messages = params.request.messages.map(
    (m): ChatMessage => ({
      ...m,
      content: typeof m.content === 'string' || m.content === null ? m.content : m.content.map(part),
    }),
  );
  return { ...params.request, messages };
}

/** A chat completion as a job; reports tokens as they come. */
export async function runChatJob(deps: ChatDependencies, context: JobContext): Promise<unknown> {
  const params = context.job.params as unknown as Partial<ChatJobParams>;
  if (typeof params.model !== 'string' || !params.request) {
    // Jobs stored by visiongate before 0.1 kept the raw HTTP body, which the job layer no longer reads.
    throw appError('invalid_parameter', 'this chat job was stored in an older format; submit it again', {
      field: 'input',
    });
  }
  const chat = await openChat(deps, params.model, requestOf(params as ChatJobParams, context.input), context.signal);
  try {
    let content = '';
    let tokens = 0;
    for await (const piece of chat.stream(context.signal)) {
      if (piece.type === 'delta') {
        content += piece.content;
        if (++tokens % 16 === 0) await context.progress({ unit: 'tokens', done: tokens });
      } else if (piece.type === 'done') {
        return { model: params.model, content, finish_reason: piece.finishReason, usage: piece.usage };
      }
    }
    return { model: params.model, content, finish_reason: 'stop', usage: null };
  } finally {
    chat.release();
  }
}
