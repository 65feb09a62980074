import type { FastifyInstance } from 'fastify';
import { appError } from '../../errors/app-error.js';

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
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(appError('request_timeout', `the request took longer than ${timeoutMs} ms (server.requestTimeoutMs)`)), timeoutMs);
    timer.unref();
    reply.raw.once('close', () => {
      clearTimeout(timer);
      // Closed before the answer was written: the client went away.
      if (!reply.raw.writableFinished) controller.abort(appError('client_closed', 'the client closed the connection'));
    });
    request.work = controller.signal;
  });
}
