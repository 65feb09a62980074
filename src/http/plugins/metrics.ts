import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../runtime/metrics.js';

/** Counts every request by route template (not raw URL: bounded label values), and serves GET /metrics. */
export function registerMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onRequest', async (_request, reply) => {
    metrics.httpInFlight.inc();
    // 'close' fires for finished and for abandoned requests alike: the gauge never leaks.
    reply.raw.once('close', () => metrics.httpInFlight.dec());
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });
  app.get(
    '/metrics',
    {
      config: { scope: 'admin' as const },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        response: {
          200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
        },
      },
    },
    async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
