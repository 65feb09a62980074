import type { ChatMessage, ChatPart, ChatRequest } from '../shared/chat.js';
import { appError, formatBytes } from '../errors/app-error.js';
import { guardedFetch, type FetchPolicy } from '../net/guarded-fetch.js';

export interface ParsedChat {
  model: string;
  request: ChatRequest;
  stream: boolean;
  includeUsage: boolean;
}

const maxImages = 16;
const roles = ['system', 'user', 'assistant', 'developer'];

const bad = (param: string, message: string): Error => appError('invalid_parameter', message, { field: param });

function numberParam(body: Record<string, unknown>, name: string, min: number, max: number, integer = false): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw bad(name, `${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, received ${JSON.stringify(value)}`);
  }
  return value;
}

async function imageBytes(url: unknown, param: string, policy: FetchPolicy, signal: AbortSignal): Promise<Buffer> {
  if (typeof url !== 'string' || !url) throw bad(param, `${param} must be a data: URL or an http(s) URL`);
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    if (comma < 0 || !/;base64$/i.test(url.slice(0, comma))) throw bad(param, `${param}: only base64 data: URLs are accepted (data:image/png;base64,...)`);
    const bytes = Buffer.from(url.slice(comma + 1), 'base64');
    if (bytes.length > policy.maxBytes) throw appError('payload_too_large', `${param}: the image is ${formatBytes(bytes.length)}; the limit is ${formatBytes(policy.maxBytes)}`, { field: param });
    return bytes;
  }
  return (await guardedFetch(url, policy, signal)).bytes;
}

/** An OpenAI chat-completions body → our chat request, images fetched through the SSRF guard. */
export async function parseChatBody(raw: unknown, policy: FetchPolicy, signal: AbortSignal, maxPromptChars: number, defaultModel?: string): Promise<ParsedChat> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('body', 'the body must be a JSON object');
  const body = raw as Record<string, unknown>;
  // Behind the OCRFlux proxy a request may leave the model out: OCRFLUX_MODEL serves it, as in the seed.
  const model = body.model === undefined || body.model === null ? defaultModel : body.model;
  if (typeof model !== 'string' || !model) throw bad('model', 'you must provide a model parameter');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw bad('messages', 'messages must be a non-empty array');
  if (body.n !== undefined && body.n !== 1) throw bad('n', 'only n=1 is supported');
  let images = 0;
  const messages: ChatMessage[] = [];
  for (const [i, m] of (body.messages as unknown[]).entries()) {
    const message = m as { role?: unknown; content?: unknown };
    if (typeof message !== 'object' || message === null || !roles.includes(String(message.role))) throw bad(`messages[${i}].role`, `messages[${i}].role must be one of ${roles.join(', ')}`);
    const role = message.role === 'developer' ? 'system' : (message.role as ChatMessage['role']);
    if (typeof message.content === 'string') {
      messages.push({ role, content: message.content });
      continue;
    }
    if (!Array.isArray(message.content)) throw bad(`messages[${i}].content`, `messages[${i}].content must be a string or an array of content parts`);
    const parts: ChatPart[] = [];
    for (const [j, p] of (message.content as unknown[]).entries()) {
      const part = p as { type?: unknown; text?: unknown; image_url?: unknown };
      const param = `messages[${i}].content[${j}]`;
      if (part?.type === 'text' && typeof part.text === 'string') parts.push({ type: 'text', text: part.text });
      else if (part?.type === 'image_url') {
        if (++images > maxImages) throw bad(param, `at most ${maxImages} images per request`);
        const url = typeof part.image_url === 'string' ? part.image_url : (part.image_url as { url?: unknown } | undefined)?.url;
        parts.push({ type: 'image', data: await imageBytes(url, `${param}.image_url.url`, policy, signal) });
      } else throw bad(param, `${param} must be {"type": "text", "text": ...} or {"type": "image_url", "image_url": {"url": ...}}`);
    }
    messages.push({ role, content: parts });
  }
  const promptChars = messages.reduce((n, m) => n + (typeof m.content === 'string' ? m.content.length : m.content.reduce((k, p) => k + (p.type === 'text' ? p.text.length : 0), 0)), 0);
  if (promptChars > maxPromptChars) throw appError('payload_too_large', `the messages hold ${promptChars} characters of text; the limit is ${maxPromptChars} (limits.maxPromptChars)`, { field: 'messages', limit: maxPromptChars });
  const stop = body.stop === undefined || body.stop === null ? undefined : typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (stop !== undefined && (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string') || stop.length > 4)) throw bad('stop', 'stop must be a string or up to 4 strings');
  const maxTokens = numberParam(body, 'max_completion_tokens', 1, 1_000_000, true) ?? numberParam(body, 'max_tokens', 1, 1_000_000, true);
  const temperature = numberParam(body, 'temperature', 0, 2);
  const topP = numberParam(body, 'top_p', 0, 1);
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw bad('stream', 'stream must be a boolean');
  const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
  return {
    model,
    request: { messages, ...(maxTokens !== undefined ? { maxTokens } : {}), ...(temperature !== undefined ? { temperature } : {}), ...(topP !== undefined ? { topP } : {}), ...(stop ? { stop: stop as string[] } : {}) },
    stream: body.stream === true,
    includeUsage: streamOptions?.include_usage === true,
  };
}
