/**
 * An upstream written from the documented wire format of vLLM's OpenAI-compatible server
 * (`POST /v1/chat/completions`, JSON or SSE with `data: [DONE]`, its error object), with
 * scripted faults: error statuses, dropped connections, slow and broken streams.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { status: number; message?: string }
  | { drop: 'before-response' | 'mid-stream' }
  | { delayMs: number };

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

type Message = { role: string; content: string | null | Array<{ type: string; text?: string }> };

const textOf = (m: Message): string =>
  m.content === null
    ? ''
    : typeof m.content === 'string'
      ? m.content
      : m.content.flatMap((p) => (p.type === 'text' && p.text ? [p.text] : [])).join('\n');

/** "Summarize …\n\n<text>" → its first 8 words (shorter, as a summary is); anything else is echoed. */
function answer(body: Record<string, unknown>): string {
  const messages = body.messages as Message[];
  const last = textOf(messages[messages.length - 1]!);
  if (last.startsWith('Summarize'))
    return last
      .slice(last.indexOf('\n\n') + 2)
      .split(/\s+/)
      .slice(0, 8)
      .join(' ');
  const images = messages.flatMap((m) =>
    typeof m.content === 'string' || m.content === null ? [] : m.content.filter((p) => p.type === 'image_url'),
  ).length;
  return `echo: ${last}${images ? ` [images: ${images}]` : ''}`;
}

interface FakeChoice {
  content: string | null;
  refusal: string | null;
  toolCalls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  logprobs: { content: unknown[]; refusal: null } | null;
  finish: string;
}

type Tool = {
  type: string;
  function: { name: string; parameters?: { properties?: Record<string, { type?: string }> } };
};

/** A value of each property a JSON schema names (strings get `text`), as a model following the schema would write. */
function example(
  schema: { type?: string; properties?: Record<string, unknown>; items?: unknown; enum?: unknown[] } | undefined,
  text: string,
): unknown {
  if (schema?.enum?.length) return schema.enum[0];
  switch (schema?.type) {
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([k, v]) => [k, example(v as typeof schema, text)]),
      );
    case 'array':
      return [example(schema.items as typeof schema, text)];
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    default:
      return text;
  }
}

/** One token's logprobs, as OpenAI reports them (top_logprobs alternatives when asked). */
function logprob(token: string, body: Record<string, unknown>): unknown {
  const top = typeof body.top_logprobs === 'number' ? body.top_logprobs : 0;
  const bytes = [...Buffer.from(token)];
  return {
    token,
    logprob: -0.25,
    bytes,
    top_logprobs: Array.from({ length: top }, (_, i) => ({
      token: i ? `${token}${i}` : token,
      logprob: -0.25 - i,
      bytes,
    })),
  };
}

/**
 * The choices a model following the request would give: tool calls when tools are offered
 * (arguments from each tool's schema), a tool's result read back, JSON for response_format,
 * a refusal when asked to refuse, `n` of them, with logprobs when asked.
 */
function choicesOf(body: Record<string, unknown>): FakeChoice[] {
  const messages = body.messages as Message[];
  const last = messages[messages.length - 1]!;
  const text = textOf(last);
  const n = typeof body.n === 'number' ? body.n : 1;
  const tools = (body.tools as Tool[] | undefined) ?? [];
  const choice = body.tool_choice as { function?: { name?: string } } | string | undefined;
  const logprobs = body.logprobs === true;
  return Array.from({ length: n }, (_, index): FakeChoice => {
    const suffix = index ? ` [choice ${index + 1}]` : '';
    if (tools.length && last.role !== 'tool' && choice !== 'none') {
      const tool =
        tools.find((t) => typeof choice === 'object' && t.function.name === choice.function?.name) ?? tools[0]!;
      const args = JSON.stringify(example({ type: 'object', ...tool.function.parameters }, text));
      return {
        content: null,
        refusal: null,
        toolCalls: [
          { id: `call_fake${index}`, type: 'function', function: { name: tool.function.name, arguments: args } },
        ],
        logprobs: null,
        finish: 'tool_calls',
      };
    }
    if (text.includes('REFUSE'))
      return {
        content: null,
        refusal: "I'm sorry, I can't help with that.",
        logprobs: logprobs ? { content: [], refusal: null } : null,
        finish: 'stop',
      };
    const format = body.response_format as
      | { type?: string; json_schema?: { schema?: Parameters<typeof example>[0] } }
      | undefined;
    const content =
      format?.type === 'json_schema'
        ? JSON.stringify(example(format.json_schema?.schema, text))
        : format?.type === 'json_object'
          ? JSON.stringify({ echo: text })
          : last.role === 'tool'
            ? `echo tool: ${text}${suffix}`
            : `${answer(body)}${suffix}`;
    const finish =
      typeof body.max_tokens === 'number' && content.split(' ').length > body.max_tokens ? 'length' : 'stop';
    return {
      content,
      refusal: null,
      logprobs: logprobs
        ? { content: content.split(' ').map((w, i) => logprob(i ? ` ${w}` : w, body)), refusal: null }
        : null,
      finish,
    };
  });
}

function usageOf(body: Record<string, unknown>, content: string): Record<string, unknown> {
  const promptTokens = JSON.stringify(body.messages).length >> 2;
  const completionTokens = content.split(/\s+/).length;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const state: Omit<FakeUpstream, 'url' | 'root' | 'close'> = {
    received: [],
    requestIds: [],
    faults: [],
    chunkDelayMs: 0,
    aborted: 0,
    lastStreamEnd: 0,
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'POST' && req.url === '/api/chat') return ollama(req, res);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'error', message: 'Not Found', type: 'NotFoundError', param: null, code: 404 }));
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
      res.writeHead(fault.status, {
        'content-type': 'application/json',
        ...(fault.status === 429 ? { 'retry-after': '2' } : {}),
      });
      res.end(
        JSON.stringify({
          object: 'error',
          message: fault.message ?? `scripted ${fault.status}`,
          type: 'BadRequestError',
          param: null,
          code: fault.status,
        }),
      );
      return;
    }
    if (fault && 'drop' in fault && fault.drop === 'before-response') {
      req.socket.destroy();
      return;
    }
    const usage = usageOf(body, answer(body));
    const base = { id: 'chatcmpl-fake', created: 1700000000, model: String(body.model), system_fingerprint: 'fp_fake' };
    const choices = choicesOf(body);
    if (!body.stream) {
      const json = choices.map((c, index) => ({
        index,
        message: {
          role: 'assistant',
          content: c.content,
          refusal: c.refusal,
          ...(c.toolCalls ? { tool_calls: c.toolCalls } : {}),
        },
        logprobs: c.logprobs,
        finish_reason: c.finish,
      }));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...base, object: 'chat.completion', choices: json, usage, service_tier: 'default' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const send = (data: unknown): void => void res.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunk = (index: number, delta: Record<string, unknown>, finish: string | null, logprobs: unknown = null) => ({
      ...base,
      object: 'chat.completion.chunk',
      choices: [{ index, delta, logprobs, finish_reason: finish }],
    });
    for (const [index, c] of choices.entries()) {
      send(chunk(index, { role: 'assistant', content: '', refusal: null }, null));
      if (c.toolCalls) {
        // OpenAI streams a call's id and name first, then its arguments in pieces.
        for (const [i, call] of c.toolCalls.entries()) {
          const args = call.function.arguments;
          send(
            chunk(
              index,
              {
                tool_calls: [
                  { index: i, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
                ],
              },
              null,
            ),
          );
          send(
            chunk(
              index,
              { tool_calls: [{ index: i, function: { arguments: args.slice(0, args.length >> 1) } }] },
              null,
            ),
          );
          send(
            chunk(index, { tool_calls: [{ index: i, function: { arguments: args.slice(args.length >> 1) } }] }, null),
          );
        }
      }
      if (c.refusal) send(chunk(index, { refusal: c.refusal }, null));
      for (const [i, word] of (c.content === null ? [] : c.content.split(' ')).entries()) {
        if (res.destroyed) return;
        if (state.chunkDelayMs) await new Promise((r) => setTimeout(r, state.chunkDelayMs));
        if (fault && 'drop' in fault && fault.drop === 'mid-stream' && i === 1) {
          req.socket.destroy();
          return;
        }
        const piece = i ? ` ${word}` : word;
        send(
          chunk(
            index,
            { content: piece },
            null,
            c.logprobs ? { content: [logprob(piece, body)], refusal: null } : null,
          ),
        );
      }
      send(chunk(index, {}, c.finish));
    }
    if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage)
      send({ ...base, object: 'chat.completion.chunk', choices: [], usage });
    state.lastStreamEnd = performance.now();
    res.end('data: [DONE]\n\n');
  };
  /** Ollama's native chat: NDJSON lines, a final line with done, done_reason and counts; errors as {"error": "..."}. */
  const ollama = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    state.received.push(body);
    const fault = state.faults.shift();
    if (fault && 'status' in fault) {
      res
        .writeHead(fault.status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: fault.message ?? `scripted ${fault.status}` }));
      return;
    }
    const messages = body.messages as Array<{ role: string; content: string; images?: string[] }>;
    const last = messages[messages.length - 1]!;
    const tools = (body.tools as Tool[] | undefined) ?? [];
    // Ollama calls tools with arguments as an object, in the final message, with no call id.
    const toolCalls =
      tools.length && last.role !== 'tool'
        ? [
            {
              function: {
                name: tools[0]!.function.name,
                arguments: example({ type: 'object', ...tools[0]!.function.parameters }, last.content),
              },
            },
          ]
        : undefined;
    const content = toolCalls
      ? ''
      : body.format
        ? JSON.stringify(
            body.format === 'json'
              ? { echo: last.content }
              : example(body.format as Parameters<typeof example>[0], last.content),
          )
        : `echo: ${last.content}${last.images?.length ? ` [images: ${last.images.length}]` : ''}`;
    const final = {
      model: body.model,
      created_at: '2024-01-01T00:00:00Z',
      message: { role: 'assistant', content: '', ...(toolCalls ? { tool_calls: toolCalls } : {}) },
      done: true,
      done_reason: 'stop',
      prompt_eval_count: 7,
      eval_count: content.split(' ').length,
    };
    if (body.stream === false) {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...final, message: { role: 'assistant', content } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    for (const [i, word] of content.split(' ').entries())
      res.write(
        `${JSON.stringify({ model: body.model, created_at: '2024-01-01T00:00:00Z', message: { role: 'assistant', content: i ? ` ${word}` : word }, done: false })}\n`,
      );
    res.end(`${JSON.stringify(final)}\n`);
  };

  const server: Server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const upstream = state as FakeUpstream;
  upstream.root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  upstream.url = `${upstream.root}/v1`;
  upstream.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return upstream;
}
