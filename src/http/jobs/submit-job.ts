import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { appError } from '../../errors/app-error.js';
import { jobView, type JobSpec, type JobState } from '../../jobs/job.js';
import type { BatchItem } from '../../jobs/handlers/batch.js';
import { newWebhookSecret } from '../../jobs/webhooks.js';
import { checkFetchableUrl } from '../../net/guarded-fetch.js';
import type { HttpServices } from '../http-services.js';
import { checkScope } from '../plugins/auth.js';

/** What these routes use of the services. */
export type SubmitJobServices = Pick<HttpServices, 'config' | 'jobs'>;

const idempotencyKeyPattern = /^[\x21-\x7e]{1,255}$/;

/** `?async=true` (or a form/JSON field) asks a native route for a job instead of waiting. */
export function wantsAsync(fields: Record<string, unknown>): boolean {
  const value = fields.async;
  return value === true || value === 'true' || value === '1';
}

/** The API key's name scopes jobs: each key sees (and deduplicates) its own. */
export const jobOwner = (request: FastifyRequest): string => request.apiKey?.name ?? '';

/** Keys given the admin scope by name see every key's jobs (without auth there is one owner). */
export const seesAllJobs = (request: FastifyRequest): boolean =>
  request.apiKey === undefined || request.apiKey.scopes?.includes('admin') === true;

function hashRequest(spec: JobSpec, callbackUrl: string | undefined): string {
  const hash = createHash('sha256')
    .update(spec.type)
    .update('\0')
    .update(JSON.stringify(spec.requested ?? spec.params))
    .update('\0')
    .update(callbackUrl ?? '');
  if (spec.input) hash.update('\0').update(spec.input);
  return hash.digest('hex');
}

/** The capabilities a spec spends (a batch: each item's). */
function scopesOf(spec: JobSpec): Array<'ocr' | 'summarize' | 'chat' | 'image'> {
  return itemsOf(spec).map((i) => i.type);
}

/** A spec's items: a batch's, or the spec itself. */
const itemsOf = (spec: JobSpec): Array<Pick<BatchItem, 'type' | 'params'>> =>
  spec.type === 'batch' ? (spec.params.items as BatchItem[]) : [spec as Pick<BatchItem, 'type' | 'params'>];

/**
 * Queues a job for the request's key: Idempotency-Key makes retries return the same job,
 * callback_url (checked now, and again when delivered) gets a signed webhook when it ends.
 * Answers 202 with Location (200 when an idempotent retry returns the earlier job).
 */
export async function submitJob(
  request: FastifyRequest,
  reply: FastifyReply,
  services: SubmitJobServices,
  spec: JobSpec,
  callbackUrl: unknown,
): Promise<Record<string, unknown>> {
  for (const scope of new Set(scopesOf(spec))) checkScope(request, scope);
  const key = request.headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || !idempotencyKeyPattern.test(key)))
    throw appError('invalid_parameter', 'Idempotency-Key must be 1 to 255 printable ASCII characters', {
      field: 'Idempotency-Key',
    });
  let callback: string | undefined;
  if (callbackUrl !== undefined && callbackUrl !== '') {
    if (typeof callbackUrl !== 'string')
      throw appError('invalid_parameter', 'callback_url must be a URL string', { field: 'callback_url' });
    try {
      callback = checkFetchableUrl(callbackUrl, services.config.fetch).href;
    } catch (error) {
      throw appError('url_forbidden', `callback_url: ${(error as Error).message}`, { field: 'callback_url' });
    }
  }
  const secret = callback && !services.config.jobs.webhookSecret ? newWebhookSecret() : undefined;
  const { job, created } = await services.jobs.submit({
    ...spec,
    owner: jobOwner(request),
    ...(key ? { idempotencyKey: key } : {}),
    requestHash: hashRequest(spec, callback),
    ...(callback ? { callbackUrl: callback } : {}),
    ...(secret ? { callbackSecret: secret } : {}),
  });
  void reply.code(created ? 202 : 200).header('location', `/api/v1/jobs/${job.id}`);
  return { ...jobView(job), ...(job.callback?.secret ? { webhook_secret: job.callback.secret } : {}) };
}

/** The job, if the request's key may see it (others' jobs are 404, as if they did not exist). */
export async function visibleJob(request: FastifyRequest, services: SubmitJobServices, id: string): Promise<JobState> {
  const job = /^job_[0-9a-f]{32}$/.test(id) ? await services.jobs.store.get(id) : undefined;
  if (!job || (!seesAllJobs(request) && job.owner !== jobOwner(request)))
    throw appError(
      'not_found',
      `no job ${JSON.stringify(id.slice(0, 80))}; jobs expire ${services.config.jobs.resultTtlSeconds} s after they end (jobs.resultTtlSeconds)`,
      { id: id.slice(0, 80) },
    );
  return job;
}
