import { basename } from 'node:path';
/**
 * The Stable Diffusion API (seed 003, FastAPI) unchanged for its clients: POST /generate
 * (base64 JSON), POST /generate/image (PNG bytes), DELETE /cache, with FastAPI's error
 * bodies; GET / and GET /health are the shared ones (health-route.ts). Over the same
 * generation core as /api/v1/images and /v1/images/generations.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpServices } from '../http-services.js';
import { generateNow, jsonObject, savedImage, type GenerateServices } from '../images/generate.js';

/** What these routes use of the services. */
type StableDiffusionServices = Pick<HttpServices, 'images'> & GenerateServices;

export function registerStableDiffusionRoutes(app: FastifyInstance, services: StableDiffusionServices): void {
  const options = (summary: string, scope: 'image' | 'admin' = 'image') => ({
    config: { surface: 'compat' as const, scope },
    schema: { tags: ['Stable Diffusion'], summary },
  });

  const generate = async (request: FastifyRequest) => {
    const generation = await generateNow(services, request, jsonObject(request.body));
    const first = generation.images[0]!;
    return { generation, first, png: await savedImage(services, first.id) };
  };

  app.post(
    '/generate',
    options('Generate an image; JSON with image_base64, model_id, generation_time, image_path'),
    async (request) => {
      const { generation, first, png } = await generate(request);
      return {
        image_base64: png.toString('base64'),
        model_id: generation.model,
        generation_time: Math.round(generation.duration_ms) / 1000,
        // The seed's shape (the file under its output/ folder), without this server's absolute path.
        image_path: `output/${basename(first.path)}`,
        // Beyond the seed: what replays it, and where the image is served.
        seed: first.seed,
        image_id: first.id,
        ...(generation.images.length > 1
          ? {
              images_base64: [
                png,
                ...(await Promise.all(generation.images.slice(1).map((i) => savedImage(services, i.id)))),
              ].map((b) => b.toString('base64')),
            }
          : {}),
      };
    },
  );

  app.post('/generate/image', options('Generate an image; the PNG itself'), async (request, reply) => {
    const { generation, first, png } = await generate(request);
    return reply
      .type('image/png')
      .header('content-disposition', `inline; filename="${first.id}.png"`)
      .header('x-model-id', generation.model)
      .header('x-seed', String(first.seed))
      .header('x-generation-time', String(generation.duration_ms / 1000))
      .send(png);
  });

  app.delete(
    '/cache',
    options('Drop cached backend sessions and loaded checkpoints; says what was dropped', 'admin'),
    async () => {
      const cleared = await services.images.reset();
      return {
        message: cleared.length ? `Cache cleared: ${cleared.length} model(s)` : 'Cache cleared: nothing was cached',
        cleared_models: cleared.map((c) => c.model),
        details: cleared,
      };
    },
  );
}
