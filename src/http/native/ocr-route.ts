import type { FastifyInstance } from 'fastify';
import { ocrDocument } from '../../core/ocr.js';
import type { HttpServices, CoreServices } from '../http-services.js';
import { documentFetchPolicy } from '../fetch-policy.js';
import { ocrOptionsFrom, outputFormat } from '../ocr-options.js';
import { readDocument } from '../read-document.js';
import { ocrJobSpec, type JobSpecsServices } from '../jobs/job-specs.js';
import { submitJob, wantsAsync, type SubmitJobServices } from '../jobs/submit-job.js';

/** What these routes use of the services. */
type OcrServices = CoreServices & Pick<HttpServices, 'config'> & SubmitJobServices & JobSpecsServices;

/** POST /api/v1/ocr: a document in (multipart, raw, base64 JSON or URL), text out; `async=true` makes it a job. */
export function registerOcrRoute(app: FastifyInstance, services: OcrServices): void {
  app.post('/api/v1/ocr', { config: { scope: 'ocr' as const } }, async (request, reply) => {
    const document = await readDocument(request, documentFetchPolicy(services.config), request.work);
    if (wantsAsync(document.fields))
      return submitJob(request, reply, services, await ocrJobSpec(services, document), document.fields.callback_url);
    const format = outputFormat(document.fields, request.headers.accept);
    const result = await ocrDocument(
      services,
      document.bytes,
      ocrOptionsFrom(document.fields, services.ocrDefaults),
      request.work,
    );
    if (format === 'text') return reply.type('text/plain; charset=utf-8').send(result.text);
    if (format === 'markdown') return reply.type('text/markdown; charset=utf-8').send(result.markdown);
    return { ...result, filename: document.filename ?? null };
  });
}
