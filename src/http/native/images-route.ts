import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { generateNow, imageSpec, imageUrl, jsonObject, responseFormat, savedImage } from '../images/generate.js';
import { submitJob, wantsAsync } from '../jobs/submit-job.js';

/**
 * POST /api/v1/images: generate (JSON: prompt and the parameter table; `async: true` or
 * ?async=true makes it a job whose progress is the backend's steps). GET /api/v1/images/{id}: the PNG.
 */
export function registerImageRoutes(app: FastifyInstance, services: Services): void {
  app.post('/api/v1/images', { schema: { tags: ['Images'], summary: 'Generate images (sync, or a job with async=true)' } }, async (request, reply) => {
    const body = jsonObject(request.body);
    const query = request.query as Record<string, unknown>;
    if (wantsAsync({ ...body, ...query })) return submitJob(request, reply, services, imageSpec(services, request, body), body.callback_url);
    const inline = responseFormat(body) === 'b64_json';
    const generation = await generateNow(services, request, body);
    const images = await Promise.all(
      generation.images.map(async (image) => ({ id: image.id, url: imageUrl(request, image.id), seed: image.seed, width: image.width, height: image.height, ...(inline ? { b64_json: (await savedImage(services, image.id)).toString('base64') } : {}) })),
    );
    return { object: 'image.generation', model: generation.model, seed: generation.seed, duration_ms: generation.duration_ms, parameters: generation.parameters, images };
  });

  app.get('/api/v1/images/:id', { schema: { tags: ['Images'], summary: 'A generated PNG (its parameters are in its text chunk)' } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const png = await savedImage(services, id);
    return reply.type('image/png').header('cache-control', 'private, max-age=86400, immutable').header('x-content-type-options', 'nosniff').send(png);
  });
}
