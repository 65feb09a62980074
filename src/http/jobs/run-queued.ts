import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { errorCatalog, type ErrorCode } from '../../errors/catalog.js';
import { appError } from '../../errors/app-error.js';
import type { JobSpec } from '../../jobs/job.js';
import type { OcrOptions, OcrResult } from '../../core/ocr.js';
import type { HttpServices } from '../http-services.js';
import { jobOwner } from './submit-job.js';

/** What these routes use of the services. */
export type RunQueuedServices = Pick<HttpServices, 'jobs'>;

/**
 * A synchronous answer through the queue (the seeds' batch routes): queue the job, wait for
 * it, give back its result or its error. A request that goes away cancels its job.
 */
export async function runQueued(
  services: RunQueuedServices,
  request: FastifyRequest,
  spec: JobSpec,
  signal: AbortSignal,
): Promise<unknown> {
  const { job } = await services.jobs.submit({ ...spec, owner: jobOwner(request), requestHash: randomUUID() });
  const cancel = (): void => void services.jobs.store.cancel(job.id).catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  try {
    const done = await services.jobs.wait(job.id, signal);
    if (done.status === 'succeeded') return done.result;
    const code = (done.error?.code ?? 'internal') as ErrorCode;
    throw appError(code in errorCatalog ? code : 'internal', done.error?.detail ?? `the job ended ${done.status}`);
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

/** OCR through the queue, for routes that read several files: each file one job. */
export function queuedOcr(
  services: RunQueuedServices,
  request: FastifyRequest,
): (bytes: Buffer, options: OcrOptions, signal: AbortSignal) => Promise<OcrResult> {
  return async (bytes, options, signal) =>
    (await runQueued(
      services,
      request,
      { type: 'ocr', params: { options, filename: null }, input: bytes },
      signal,
    )) as OcrResult;
}
