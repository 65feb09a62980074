import type { FastifyInstance } from 'fastify';
import type { HttpServices } from '../http-services.js';
import {
  generateNow,
  imageSpec,
  imageUrl,
  jsonObject,
  responseFormat,
  savedImage,
  type GenerateServices,
} from '../images/generate.js';
import { submitJob, wantsAsync, type SubmitJobServices } from '../jobs/submit-job.js';
import { jobListQuery } from './jobs-route.js';
import { isoTime, type JobState } from '../../jobs/job.js';
import type { Generation } from '../../images/generator.js';
import { backendForKey } from '../plugins/auth.js';

/** What these routes use of the services. */
type ImagesServices = Pick<HttpServices, 'jobs'> & SubmitJobServices & GenerateServices;

/**
 * POST /api/v1/images: generate (JSON: prompt and the parameter table; `async: true` or
 * ?async=true makes it a job whose progress is the backend's steps). GET /api/v1/images/{id}: the PNG.
 */
export function registerImageRoutes(app: FastifyInstance, services: ImagesServices): void {
  app.post(
    '/api/v1/images',
    {
      config: { scope: 'image' as const },
      schema: { tags: ['Images'], summary: 'Generate images (sync, or a job with async=true)' },
    },
    async (request, reply) => {
      const body = jsonObject(request.body);
      const query = request.query as Record<string, unknown>;
      if (wantsAsync({ ...body, ...query }))
        return submitJob(request, reply, services, imageSpec(services, body), body.callback_url);
      const inline = responseFormat(body) === 'b64_json';
      const generation = await generateNow(services, request, body);
      const images = await Promise.all(
        generation.images.map(async (image) => ({
          id: image.id,
          url: imageUrl(services, image.id),
          seed: image.seed,
          width: image.width,
          height: image.height,
          ...(inline ? { b64_json: (await savedImage(services, image.id)).toString('base64') } : {}),
        })),
      );
      return {
        object: 'image.generation',
        model: generation.model,
        seed: generation.seed,
        duration_ms: generation.duration_ms,
        parameters: { ...generation.parameters, backend: backendForKey(request, generation.parameters.backend) },
        images,
      };
    },
  );

  app.get(
    '/api/v1/images',
    {
      config: { scope: 'key' as const },
      schema: {
        tags: ['Images'],
        summary:
          'History of generations, newest first (who, parameters, when, how long, images; status, limit, cursor)',
      },
    },
    async (request) => {
      const page = await services.jobs.store.list(jobListQuery(request, 'image'));
      return {
        object: 'list',
        data: page.jobs.map((job) => generationView(job, (backend) => backendForKey(request, backend))),
        next_cursor: page.next,
        has_more: page.next !== null,
      };
    },
  );

  app.get(
    '/api/v1/images/:id',
    {
      config: { scope: 'key' as const },
      schema: { tags: ['Images'], summary: 'A generated PNG (its parameters are in its text chunk)' },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const png = await savedImage(services, id);
      return reply
        .type('image/png')
        .header('cache-control', 'private, max-age=86400, immutable')
        .header('x-content-type-options', 'nosniff')
        .send(png);
    },
  );
}

/** One generation of the history: its job (who, when), what was asked, what came out. */
function generationView(job: JobState, showBackend: (backend: string) => string): Record<string, unknown> {
  const result = job.result as Generation | null;
  return {
    job_id: job.id,
    owner: job.owner || null,
    status: job.status,
    created_at: isoTime(job.createdAt),
    finished_at: isoTime(job.finishedAt),
    model: job.params.model,
    parameters: result?.parameters
      ? { ...result.parameters, backend: showBackend(result.parameters.backend) }
      : job.params,
    duration_ms: result?.duration_ms ?? null,
    images: (result?.images ?? []).map((i) => ({
      id: i.id,
      url: `/api/v1/images/${i.id}`,
      seed: i.seed,
      width: i.width,
      height: i.height,
    })),
    error: job.error,
  };
}
