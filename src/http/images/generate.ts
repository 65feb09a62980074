import type { FastifyRequest } from 'fastify';
import { appError } from '../../errors/app-error.js';
import { pydantic } from '../../errors/pydantic.js';
import type { Generation } from '../../images/generator.js';
import type { HttpServices } from '../http-services.js';
import { imageJobSpec, type JobSpecsServices } from '../jobs/job-specs.js';
import { runQueued, type RunQueuedServices } from '../jobs/run-queued.js';
import type { JobSpec } from '../../jobs/job.js';
import { isJsonObject } from '../read-document.js';

/** What these routes use of the services. */
export type GenerateServices = Pick<HttpServices, 'config' | 'images'> & RunQueuedServices & JobSpecsServices;

/** A JSON object body, or a 422 saying what was sent instead. */
export function jsonObject(body: unknown): Record<string, unknown> {
  if (isJsonObject(body)) return body;
  // FastAPI: no body at all is a missing body; any other JSON value is not an object.
  const validation =
    body === undefined || body === null
      ? pydantic.missing(['body'], null)
      : pydantic.modelAttributesType(['body'], Buffer.isBuffer(body) ? body.toString('latin1') : body);
  throw appError(
    'invalid_parameter',
    'the body must be a JSON object (Content-Type: application/json) holding at least "prompt"',
    {},
    { validation },
  );
}

/**
 * Every generation route waits through the job queue: the job store then holds each
 * generation's history (who, parameters, when, how long), and a client that goes away
 * cancels its job, which interrupts the backend.
 */
export async function generateNow(
  services: GenerateServices,
  request: FastifyRequest,
  body: Record<string, unknown>,
): Promise<Generation> {
  return (await runQueued(services, request, imageSpec(services, body), request.work)) as Generation;
}

/** The job of a generation request (resolving its model checks the caller's key may use it). */
export function imageSpec(services: GenerateServices, body: Record<string, unknown>): JobSpec {
  return imageJobSpec(services, body);
}

/** response_format: url (default) or b64_json, as OpenAI's images API takes it. */
export function responseFormat(body: Record<string, unknown>): 'url' | 'b64_json' {
  const value = body.response_format ?? 'url';
  if (value !== 'url' && value !== 'b64_json')
    throw appError(
      'invalid_parameter',
      `response_format must be "url" or "b64_json", received ${JSON.stringify(value)}`,
      { field: 'response_format', allowed: ['url', 'b64_json'] },
    );
  return value;
}

/**
 * Where GET /api/v1/images/{id} serves an image: under server.publicUrl when configured,
 * else a path relative to this server; never built from the request's Host header, which the
 * client (or anyone in between) chooses.
 */
export const imageUrl = (services: Pick<HttpServices, 'config'>, id: string): string =>
  `${(services.config.server.publicUrl ?? '').replace(/\/$/, '')}/api/v1/images/${id}`;

/** A saved image's bytes, or a 404 that says why it may be gone. */
export async function savedImage(services: GenerateServices, id: string): Promise<Buffer> {
  const png = await services.images.store.read(id);
  if (!png)
    throw appError(
      'not_found',
      `no image '${id}': it was never made here, or it was deleted after images.retentionDays (${services.config.images.retentionDays} days)`,
      { id },
    );
  return png;
}
