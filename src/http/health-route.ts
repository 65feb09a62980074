import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { wantsHtml } from './web-routes.js';
import type { HttpServices } from './http-services.js';
import { version } from '../shared/version.js';

/** What these routes use of the services. */
type HealthServices = Pick<HttpServices, 'config' | 'engines' | 'images' | 'jobs' | 'models'>;

/**
 * GET / and GET /health are shared by every seed service: one superset JSON holding every
 * field any seed client reads, with honest values (no GPU here: gpu_available false).
 * Answers from cached state only, so it stays fast while OCR keeps every core busy.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  services: HealthServices,
  page: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>,
): void {
  app.get(
    '/',
    { config: { scope: 'key' as const, publicWhen: wantsHtml, surface: 'compat' } },
    async (request, reply) =>
      wantsHtml(request)
        ? page(request, reply)
        : {
            message: 'visiongate API',
            service: 'visiongate',
            version,
            docs: '/docs',
            health: '/health',
            api: '/api/v1',
            compatible_with: [
              'ChatVLMLLM API',
              'InterVL OCR',
              'DeepSynth summarizer',
              'Stable Diffusion API',
              'OCRFlux API',
            ],
            endpoints: {
              generate: '/generate',
              generate_image: '/generate/image',
              images: '/api/v1/images',
              openai: '/v1',
            },
            playground: '/ui',
          },
  );

  app.get('/health', { config: { scope: 'public' as const, surface: 'compat' } }, async () => {
    const engines = await services.engines.statuses();
    const loaded = services.models.loadedIds();
    const internvl = services.config.compat.internvlModel;
    // The GPU of the ChatVLMLLM default model's backend, when the config says which it is.
    const gpu = services.models.deviceOf(services.config.compat.chatvlmDefaultModel) ?? null;
    return {
      status: 'healthy',
      service: 'visiongate',
      version,
      uptime_s: Math.round(process.uptime()),
      timestamp: new Date().toISOString(),
      device: services.models.deviceOf(internvl) ? 'cuda' : 'cpu',
      gpu_available: gpu !== null,
      gpu_name: gpu,
      // The seeds each reported one model; ready to serve counts as loaded, since engines load on first use.
      model: internvl,
      model_loaded: engines.some((e) => e.available),
      models_loaded: loaded.length,
      loaded_models: loaded,
      // Which summarizer the DeepSynth routes use (compat.deepsynthSummarizer): a config choice, shown.
      summarizer:
        services.config.compat.deepsynthSummarizer === 'extractive'
          ? { engine: 'extractive', model: null }
          : { engine: 'abstractive', model: services.config.compat.deepsynthSummarizer },
      // The Stable Diffusion seed's: which models make images, and which have a live backend session.
      image_models: services.images.ids(),
      cached_models: services.images.cached(),
      engines: Object.fromEntries(
        engines.map((e) => [
          e.name,
          {
            available: e.available,
            loaded: e.loaded,
            languages: e.languages,
            concurrency: e.concurrency,
            ...(e.version ? { version: e.version } : {}),
            ...(e.models ? { models: e.models } : {}),
            ...(e.reason ? { reason: e.reason } : {}),
          },
        ]),
      ),
    };
  });

  app.get('/ready', { config: { scope: 'public' as const } }, async (_request, reply) => {
    const [engines, store] = await Promise.all([services.engines.statuses(), services.jobs.store.ping()]);
    const ready = engines.some((e) => e.available) && store;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      engines: engines.filter((e) => e.available).map((e) => e.name),
      job_store: { kind: services.jobs.store.kind, reachable: store },
    });
  });
}
