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
export function openEventStream(request: FastifyRequest, reply: FastifyReply, headers: Record<string, string> = {}): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-request-id': request.id });
  return {
    event(name, data) {
      if (!raw.destroyed) raw.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    data(data) {
      if (!raw.destroyed) raw.write(`data: ${JSON.stringify(data)}\n\n`);
    },
    ping() {
      if (!raw.destroyed) raw.write(': ping\n\n');
    },
    end(last) {
      if (!raw.destroyed) raw.end(last);
    },
    get closed() {
      return raw.destroyed || raw.writableEnded;
    },
  };
}
