import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appError } from '../../errors/app-error.js';
import { jobStatuses, jobView, type JobStatus, type JobType } from '../../jobs/job.js';
import type { ListQuery } from '../../jobs/store.js';
import type { HttpServices } from '../http-services.js';
import { documentFetchPolicy } from '../fetch-policy.js';
import {
  batchJobSpec,
  jobTypeOf,
  jsonJobSpec,
  ocrJobSpec,
  summarizeDocumentJobSpec,
  type JobSpecsServices,
} from '../jobs/job-specs.js';
import { streamJobEvents } from '../jobs/job-events.js';
import { jobOwner, seesAllJobs, submitJob, visibleJob, type SubmitJobServices } from '../jobs/submit-job.js';
import { numberField } from '../number-field.js';
import { isJsonObject, readDocument } from '../read-document.js';

/** What these routes use of the services. */
type JobsServices = Pick<HttpServices, 'config' | 'jobs'> & SubmitJobServices & JobSpecsServices;

const tags = ['jobs'];
const idParam = (request: FastifyRequest): string => (request.params as { id: string }).id;

/**
 * Async jobs: create (JSON {type, input, options, callback_url}, or a document as multipart
 * or raw body with `type`), read, list, cancel, and follow as server-sent events.
 */
export function registerJobRoutes(app: FastifyInstance, services: JobsServices): void {
  app.post(
    '/api/v1/jobs',
    { config: { scope: 'key' as const }, schema: { tags, summary: 'Create a job (202 with its id and Location)' } },
    async (request, reply) => {
      const body = request.body;
      if (isJsonObject(body))
        return submitJob(request, reply, services, await jsonJobSpec(services, body, request.work), body.callback_url);
      // A document as multipart or raw body: the type and options come as fields.
      const document = await readDocument(request, documentFetchPolicy(services.config), request.work);
      const type = jobTypeOf(document.fields.type ?? 'ocr');
      if (type !== 'ocr' && type !== 'summarize')
        throw appError(
          'invalid_parameter',
          `a ${type} job is created with a JSON body ({"type": "${type}", "input": ...})`,
          { field: 'type' },
        );
      // The other fields are the options; readers take the ones they know (type and callback_url are not among them).
      return submitJob(
        request,
        reply,
        services,
        type === 'ocr' ? await ocrJobSpec(services, document) : summarizeDocumentJobSpec(services, document),
        document.fields.callback_url,
      );
    },
  );

  app.post(
    '/api/v1/batches',
    {
      config: { scope: 'key' as const },
      schema: { tags, summary: 'Create a batch job ({items: [{type, input, options}], callback_url})' },
    },
    async (request, reply) => {
      const body = request.body;
      if (!isJsonObject(body))
        throw appError(
          'invalid_parameter',
          'send the batch as JSON: {"items": [{"type": "ocr", "input": {"data": "<base64>"}}, ...]}',
          { field: 'items' },
        );
      return submitJob(
        request,
        reply,
        services,
        await batchJobSpec(services, body.items, request.work),
        body.callback_url,
      );
    },
  );

  app.get(
    '/api/v1/jobs',
    {
      config: { scope: 'key' as const },
      schema: { tags, summary: 'List jobs, newest first (status, type, limit, cursor)' },
    },
    async (request) => {
      const page = await services.jobs.store.list(jobListQuery(request));
      return {
        object: 'list',
        data: page.jobs.map((job) => jobView(job, { result: false })),
        next_cursor: page.next,
        has_more: page.next !== null,
      };
    },
  );

  app.get(
    '/api/v1/jobs/:id',
    {
      config: { scope: 'key' as const },
      schema: { tags, summary: 'A job: status, queue position, progress, result or error' },
    },
    async (request) => jobView(await visibleJob(request, services, idParam(request))),
  );

  app.get(
    '/api/v1/batches/:id',
    { config: { scope: 'key' as const }, schema: { tags, summary: 'A batch job, with each item\u2019s status' } },
    async (request) => {
      const job = await visibleJob(request, services, idParam(request));
      if (job.type !== 'batch')
        throw appError('not_found', `${job.id} is a ${job.type} job, not a batch; read it at /api/v1/jobs/${job.id}`);
      return { ...jobView(job), items: [...(await services.jobs.store.partials(job.id)).values()] };
    },
  );

  app.delete(
    '/api/v1/jobs/:id',
    {
      config: { scope: 'key' as const },
      schema: { tags, summary: 'Cancel a job (a running one stops at its next page, step or token)' },
    },
    async (request) => {
      const job = await visibleJob(request, services, idParam(request));
      const after = (await services.jobs.store.cancel(job.id)) ?? job;
      return { ...jobView(after, { result: false }), cancel_requested: after.status === 'running' };
    },
  );

  app.get(
    '/api/v1/jobs/:id/events',
    {
      config: { scope: 'key' as const },
      schema: {
        tags,
        summary: 'Server-sent events: job-status, job-progress, job-partial (each page or item), job-end',
      },
    },
    async (request, reply) => {
      const job = await visibleJob(request, services, idParam(request));
      return streamJobEvents(request, reply, services.jobs.store, job.id);
    },
  );
}

/** A page of the caller's jobs (all jobs for admins and without auth): status, type, limit, cursor from the query. */
export function jobListQuery(request: FastifyRequest, fixedType?: JobType): ListQuery {
  const query = request.query as Record<string, string | undefined>;
  const status = query.status;
  if (status !== undefined && !jobStatuses.includes(status as JobStatus))
    throw appError('invalid_parameter', `status must be one of ${jobStatuses.join(', ')}`, {
      field: 'status',
      allowed: [...jobStatuses],
    });
  const type = fixedType ?? (query.type === undefined ? undefined : jobTypeOf(query.type));
  const limit = numberField(query.limit, 'limit', { min: 1, max: 100, integer: true }) ?? 20;
  if (query.cursor !== undefined && !/^\d{1,15}$/.test(query.cursor))
    throw appError('invalid_parameter', 'cursor must be the next_cursor of a previous page', { field: 'cursor' });
  return {
    ...(seesAllJobs(request) ? {} : { owner: jobOwner(request) }),
    ...(status ? { status: status as JobStatus } : {}),
    ...(type ? { type } : {}),
    limit,
    ...(query.cursor ? { cursor: query.cursor } : {}),
  };
}
