import type { FastifyInstance } from 'fastify';
import { appError, withTimeout } from '../../errors/app-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Aborts when the client goes away or the request outlives server.requestTimeoutMs. */
    work: AbortSignal;
  }
}

/** Gives every request an AbortSignal that long work passes down to engines. */
export function registerRequestSignal(app: FastifyInstance, timeoutMs: number): void {
  app.decorateRequest('work', undefined as unknown as AbortSignal);
  app.addHook('onRequest', async (request, reply) => {
    const disconnect = new AbortController();
    const work = withTimeout(disconnect.signal, timeoutMs, 'server.requestTimeoutMs');
    reply.raw.once('close', () => {
      // Closed before the answer was written: the client went away.
      if (!reply.raw.writableFinished) disconnect.abort(appError('client_closed', 'the client closed the connection'));
      work.clear();
    });
    request.work = work.signal;
  });
}
