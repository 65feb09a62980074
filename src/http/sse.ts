import type { FastifyReply, FastifyRequest } from 'fastify';

export interface EventStream {
  event(name: string, data: unknown): void;
  /** A comment line: keeps proxies from closing an idle stream. */
  ping(): void;
  end(): void;
  readonly closed: boolean;
}

/** Takes over the reply for server-sent events. */
export function openEventStream(request: FastifyRequest, reply: FastifyReply): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-request-id': request.id });
  return {
    event(name, data) {
      if (!raw.destroyed) raw.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    ping() {
      if (!raw.destroyed) raw.write(': ping\n\n');
    },
    end() {
      if (!raw.destroyed) raw.end();
    },
    get closed() {
      return raw.destroyed || raw.writableEnded;
    },
  };
}
