import type { FastifyInstance } from 'fastify';
import { appError } from '../../errors/app-error.js';

const exempt = new Set(['/health', '/ready', '/metrics']);

/** A ceiling on requests in flight: past it, 503 with Retry-After at once, never a hang. */
export function registerAdmission(app: FastifyInstance, maxConcurrent: number): void {
  let inFlight = 0;
  app.addHook('onRequest', async (request, reply) => {
    if (exempt.has(request.url.split('?')[0] ?? '')) return;
    if (inFlight >= maxConcurrent)
      throw appError(
        'overloaded',
        `the server is serving ${inFlight} requests, its limit (limits.maxConcurrentRequests); retry shortly`,
        { limit: maxConcurrent },
        { retryAfterSeconds: 1 },
      );
    inFlight++;
    reply.raw.once('close', () => inFlight--);
  });
}
