/**
 * An upstream written from the documented wire format of vLLM's OpenAI-compatible server
 * (`POST /v1/chat/completions`, JSON or SSE with `data: [DONE]`, its error object), with
 * scripted faults: error statuses, dropped connections, slow and broken streams.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = { status: number; message?: string } | { drop: 'before-response' | 'mid-stream' } | { delayMs: number };

export interface FakeUpstream {
  /** The OpenAI-compatible base URL (…/v1). */
  url: string;
  /** The server root, where Ollama's native /api/chat answers. */
  root: string;
  /** Bodies received, in order. */
  received: Array<Record<string, unknown>>;
  /** The x-request-id header of each request, in order. */
  requestIds: Array<string | undefined>;
  /** Faults for the next requests, one per request. */
  faults: Fault[];
  /** Milliseconds between streamed chunks. */
  chunkDelayMs: number;
  /** Requests whose client went away before the answer ended. */
  aborted: number;
  /** When the last stream finished writing (performance.now()). */
  lastStreamEnd: number;
  close(): Promise<void>;
}

type Message = { role: string; content: string | Array<{ type: string; text?: string }> };

const textOf = (m: Message): string => (typeof m.content === 'string' ? m.content : m.content.flatMap((p) => (p.type === 'text' && p.text ? [p.text] : [])).join('\n'));

/** "Summarize …\n\n<text>" → its first 8 words (shorter, as a summary is); anything else is echoed. */
function answer(body: Record<string, unknown>): string {
  const messages = body.messages as Message[];
  const last = textOf(messages[messages.length - 1]!);
  if (last.startsWith('Summarize')) return last.slice(last.indexOf('\n\n') + 2).split(/\s+/).slice(0, 8).join(' ');
  const images = messages.flatMap((m) => (typeof m.content === 'string' ? [] : m.content.filter((p) => p.type === 'image_url'))).length;
  return `echo: ${last}${images ? ` [images: ${images}]` : ''}`;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const state: Omit<FakeUpstream, 'url' | 'root' | 'close'> = { received: [], requestIds: [], faults: [], chunkDelayMs: 0, aborted: 0, lastStreamEnd: 0 };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'POST' && req.url === '/api/chat') return ollama(req, res);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'error', message: 'Not Found', type: 'NotFoundError', param: null, code: 404 }));
      return;
    }
    const body = await readBody(req);
    state.received.push(body);
    state.requestIds.push(req.headers['x-request-id'] as string | undefined);
    res.on('close', () => {
      if (!res.writableFinished) state.aborted++;
    });
    const fault = state.faults.shift();
    if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault && 'status' in fault) {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.status === 429 ? { 'retry-after': '2' } : {}) });
      res.end(JSON.stringify({ object: 'error', message: fault.message ?? `scripted ${fault.status}`, type: 'BadRequestError', param: null, code: fault.status }));
      return;
    }
    if (fault && 'drop' in fault && fault.drop === 'before-response') {
      req.socket.destroy();
      return;
    }
    const content = answer(body);
    const promptTokens = JSON.stringify(body.messages).length >> 2;
    const completionTokens = content.split(/\s+/).length;
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
    const base = { id: 'chatcmpl-fake', created: 1700000000, model: String(body.model) };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (data: unknown): void => void res.write(`data: ${JSON.stringify(data)}\n\n`);
    send({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    const words = content.split(' ');
    for (const [i, word] of words.entries()) {
      if (res.destroyed) return;
      if (state.chunkDelayMs) await new Promise((r) => setTimeout(r, state.chunkDelayMs));
      if (fault && 'drop' in fault && fault.drop === 'mid-stream' && i === 1) {
        req.socket.destroy();
        return;
      }
      send({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: i ? ` ${word}` : word }, finish_reason: null }] });
    }
    send({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage) send({ ...base, object: 'chat.completion.chunk', choices: [], usage });
    state.lastStreamEnd = performance.now();
    res.end('data: [DONE]\n\n');
  };
  /** Ollama's native chat: NDJSON lines, a final line with done, done_reason and counts; errors as {"error": "..."}. */
  const ollama = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    state.received.push(body);
    const fault = state.faults.shift();
    if (fault && 'status' in fault) {
      res.writeHead(fault.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: fault.message ?? `scripted ${fault.status}` }));
      return;
    }
    const messages = body.messages as Array<{ role: string; content: string; images?: string[] }>;
    const last = messages[messages.length - 1]!;
    const content = `echo: ${last.content}${last.images?.length ? ` [images: ${last.images.length}]` : ''}`;
    const final = { model: body.model, created_at: '2024-01-01T00:00:00Z', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 7, eval_count: content.split(' ').length };
    if (body.stream === false) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...final, message: { role: 'assistant', content } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    for (const [i, word] of content.split(' ').entries()) res.write(`${JSON.stringify({ model: body.model, created_at: '2024-01-01T00:00:00Z', message: { role: 'assistant', content: i ? ` ${word}` : word }, done: false })}\n`);
    res.end(`${JSON.stringify(final)}\n`);
  };

  const server: Server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const upstream = state as FakeUpstream;
  upstream.root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  upstream.url = `${upstream.root}/v1`;
  upstream.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return upstream;
}
