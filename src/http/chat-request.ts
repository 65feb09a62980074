import type { ChatMessage, ChatPart, ChatRequest, ToolCall } from '../shared/chat.js';
import { appError, formatBytes } from '../errors/app-error.js';
import { guardedFetch, type FetchPolicy } from '../net/guarded-fetch.js';

export interface ParsedChat {
  model: string;
  request: ChatRequest;
  stream: boolean;
  includeUsage: boolean;
}

const maxImages = 16;
const roles = ['system', 'user', 'assistant', 'developer', 'tool'];
/** The fields of a message visiongate reads; any other (name, refusal, ...) is kept and forwarded. */
const ownMessageFields = new Set(['role', 'content', 'tool_calls', 'tool_call_id']);
/** The request fields visiongate itself interprets; every other one is forwarded as sent. */
const ownFields = new Set(['model', 'messages', 'stream']);

const bad = (param: string, message: string): Error => appError('invalid_parameter', message, { field: param });

function numberParam(
  body: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  integer = false,
): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    value < min ||
    value > max
  ) {
    throw bad(
      name,
      `${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, received ${JSON.stringify(value)}`,
    );
  }
  return value;
}

async function imageBytes(url: unknown, param: string, policy: FetchPolicy, signal: AbortSignal): Promise<Buffer> {
  if (typeof url !== 'string' || !url) throw bad(param, `${param} must be a data: URL or an http(s) URL`);
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    if (comma < 0 || !/;base64$/i.test(url.slice(0, comma)))
      throw bad(param, `${param}: only base64 data: URLs are accepted (data:image/png;base64,...)`);
    const bytes = Buffer.from(url.slice(comma + 1), 'base64');
    if (bytes.length > policy.maxBytes)
      throw appError(
        'payload_too_large',
        `${param}: the image is ${formatBytes(bytes.length)}; the limit is ${formatBytes(policy.maxBytes)}`,
        { field: param },
      );
    return bytes;
  }
  return (await guardedFetch(url, policy, signal)).bytes;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function toolCalls(value: unknown, param: string): ToolCall[] {
  const valid = (c: unknown): boolean =>
    isObject(c) &&
    typeof c.id === 'string' &&
    isObject(c.function) &&
    typeof c.function.name === 'string' &&
    typeof c.function.arguments === 'string';
  if (!Array.isArray(value) || !value.every(valid))
    throw bad(param, `${param} must be a list of {"id", "type": "function", "function": {"name", "arguments"}}`);
  // Kept as sent (extra fields included): the backend gets them unchanged.
  return value as ToolCall[];
}

interface Counter {
  images: number;
}

async function parseContent(
  content: unknown,
  param: string,
  counter: Counter,
  policy: FetchPolicy,
  signal: AbortSignal,
): Promise<string | ChatPart[]> {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw bad(param, `${param} must be a string or an array of content parts`);
  const parts: ChatPart[] = [];
  for (const [j, p] of (content as unknown[]).entries()) {
    const part = p as { type?: unknown; text?: unknown; image_url?: unknown };
    const at = `${param}[${j}]`;
    if (part?.type === 'text' && typeof part.text === 'string') parts.push({ type: 'text', text: part.text });
    else if (part?.type === 'image_url') {
      if (++counter.images > maxImages) throw bad(at, `at most ${maxImages} images per request`);
      const image = isObject(part.image_url) ? part.image_url : undefined;
      const url = typeof part.image_url === 'string' ? part.image_url : image?.url;
      const detail = typeof image?.detail === 'string' ? image.detail : undefined;
      parts.push({
        type: 'image',
        data: await imageBytes(url, `${at}.image_url.url`, policy, signal),
        ...(detail ? { detail } : {}),
      });
    } else
      throw bad(at, `${at} must be {"type": "text", "text": ...} or {"type": "image_url", "image_url": {"url": ...}}`);
  }
  return parts;
}

async function parseMessage(
  m: unknown,
  i: number,
  counter: Counter,
  policy: FetchPolicy,
  signal: AbortSignal,
): Promise<ChatMessage> {
  if (!isObject(m) || !roles.includes(String(m.role)))
    throw bad(`messages[${i}].role`, `messages[${i}].role must be one of ${roles.join(', ')}`);
  // Many open servers know no "developer" role; it means what "system" means.
  const role = m.role === 'developer' ? 'system' : (m.role as ChatMessage['role']);
  const extra = Object.fromEntries(Object.entries(m).filter(([k]) => !ownMessageFields.has(k)));
  const message: ChatMessage = { role, content: null, ...(Object.keys(extra).length ? { extra } : {}) };
  if (role === 'assistant' && m.tool_calls !== undefined && m.tool_calls !== null)
    message.toolCalls = toolCalls(m.tool_calls, `messages[${i}].tool_calls`);
  if (role === 'tool') {
    if (typeof m.tool_call_id !== 'string' || !m.tool_call_id)
      throw bad(
        `messages[${i}].tool_call_id`,
        `messages[${i}] is a tool message: it needs tool_call_id, the id of the call it answers`,
      );
    message.toolCallId = m.tool_call_id;
  }
  // Only an assistant message may have no content (it calls tools, or was refused).
  if ((m.content === null || m.content === undefined) && role === 'assistant') return message;
  message.content = await parseContent(m.content, `messages[${i}].content`, counter, policy, signal);
  return message;
}

/** An OpenAI chat-completions body → our chat request, images fetched through the SSRF guard. */
export async function parseChatBody(
  raw: unknown,
  policy: FetchPolicy,
  signal: AbortSignal,
  maxPromptChars: number,
  defaultModel?: string,
): Promise<ParsedChat> {
  if (!isObject(raw)) throw bad('body', 'the body must be a JSON object');
  const body = raw;
  // Behind the OCRFlux proxy a request may leave the model out: OCRFLUX_MODEL serves it, as in the seed.
  const model = body.model === undefined || body.model === null ? defaultModel : body.model;
  if (typeof model !== 'string' || !model) throw bad('model', 'you must provide a model parameter');
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    throw bad('messages', 'messages must be a non-empty array');
  numberParam(body, 'n', 1, 128, true);
  const counter = { images: 0 };
  const messages: ChatMessage[] = [];
  for (const [i, m] of (body.messages as unknown[]).entries())
    messages.push(await parseMessage(m, i, counter, policy, signal));
  const promptChars = messages.reduce(
    (n, m) =>
      n +
      (typeof m.content === 'string'
        ? m.content.length
        : (m.content ?? []).reduce((k, p) => k + (p.type === 'text' ? p.text.length : 0), 0)),
    0,
  );
  if (promptChars > maxPromptChars)
    throw appError(
      'payload_too_large',
      `the messages hold ${promptChars} characters of text; the limit is ${maxPromptChars} (limits.maxPromptChars)`,
      { field: 'messages', limit: maxPromptChars },
    );
  const stop =
    body.stop === undefined || body.stop === null ? undefined : typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (stop !== undefined && (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string') || stop.length > 4))
    throw bad('stop', 'stop must be a string or up to 4 strings');
  const maxTokens =
    numberParam(body, 'max_completion_tokens', 1, 1_000_000, true) ??
    numberParam(body, 'max_tokens', 1, 1_000_000, true);
  const temperature = numberParam(body, 'temperature', 0, 2);
  const topP = numberParam(body, 'top_p', 0, 1);
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean')
    throw bad('stream', 'stream must be a boolean');
  if (body.stream_options !== undefined && body.stream_options !== null && !isObject(body.stream_options))
    throw bad('stream_options', 'stream_options must be an object');
  const streamOptions = body.stream_options as { include_usage?: unknown } | undefined | null;
  const parameters = Object.fromEntries(Object.entries(body).filter(([k]) => !ownFields.has(k)));
  return {
    model,
    request: {
      messages,
      parameters,
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(topP !== undefined ? { topP } : {}),
      ...(stop ? { stop: stop as string[] } : {}),
    },
    stream: body.stream === true,
    includeUsage: streamOptions?.include_usage === true,
  };
}
