import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';

const version = '0.1.0';

/**
 * GET /health: liveness plus what is installed. Answers from cached state only (engine
 * detection ran at start-up), so it stays fast while OCR keeps every core busy.
 */
export function registerHealthRoutes(app: FastifyInstance, services: Services): void {
  app.get('/health', async () => {
    const engines = await services.engines.statuses();
    return {
      status: 'healthy',
      service: 'visiongate',
      version,
      uptime_s: Math.round(process.uptime()),
      device: 'cpu',
      gpu_available: false,
      engines: Object.fromEntries(engines.map((e) => [e.name, { available: e.available, loaded: e.loaded, languages: e.languages, concurrency: e.concurrency, ...(e.version ? { version: e.version } : {}), ...(e.reason ? { reason: e.reason } : {}) }])),
    };
  });
  app.get('/ready', async (request, reply) => {
    const engines = await services.engines.statuses();
    const ready = engines.some((e) => e.available);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', engines: engines.filter((e) => e.available).map((e) => e.name) });
  });
}
