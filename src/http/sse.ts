import type { FastifyReply, FastifyRequest } from 'fastify';

export interface EventStream {
  event(name: string, data: unknown): void;
  /** An unnamed event (OpenAI's streams use only these). */
  data(data: unknown): void;
  /** A comment line: keeps proxies from closing an idle stream. */
  ping(): void;
  /** Ends the stream, after `last` (raw text such as "data: [DONE]\n\n") when given. */
  end(last?: string): void;
  readonly closed: boolean;
}

/** Takes over the reply for server-sent events (with `headers` added to the stream's own). */
export function openEventStream(
  request: FastifyRequest,
  reply: FastifyReply,
  headers: Record<string, string> = {},
): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
  // Events written in one turn of the event loop (a backend's chunk often holds several) leave in one
  // write: fewer syscalls and packets on the proxy's hot path.
  let corked = false;
  const uncork = (): void => {
    if (!corked) return;
    corked = false;
    raw.uncork();
  };
  const write = (text: string): void => {
    if (raw.destroyed) return;
    if (!corked) {
      corked = true;
      raw.cork();
      setImmediate(uncork);
    }
    raw.write(text);
  };
  return {
    event(name, data) {
      write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    data(data) {
      write(`data: ${JSON.stringify(data)}\n\n`);
    },
    ping() {
      if (!raw.destroyed) raw.write(': ping\n\n');
    },
    end(last) {
      // Uncork first: on Node 22 and later, ending a corked response drops what the cork still holds.
      uncork();
      if (!raw.destroyed) raw.end(last);
    },
    get closed() {
      return raw.destroyed || raw.writableEnded;
    },
  };
}
