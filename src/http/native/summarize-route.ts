import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { summarizeDocument, summarizeText, type SummaryDeltas, type SummaryResult } from '../../core/summarize.js';
import { appError, isAppError } from '../../errors/app-error.js';
import { renderProblem } from '../../errors/render.js';
import type { HttpServices, CoreServices } from '../http-services.js';
import { documentFetchPolicy } from '../fetch-policy.js';
import { readDocument } from '../read-document.js';
import { summarizeDocumentOptions, summarizeOptionsFrom } from '../summarize-options.js';
import { openEventStream } from '../sse.js';
import { summarizeDocumentJobSpec, summarizeTextJobSpec, type JobSpecsServices } from '../jobs/job-specs.js';
import { submitJob, wantsAsync, type SubmitJobServices } from '../jobs/submit-job.js';

/** What these routes use of the services. */
type SummarizeServices = CoreServices & Pick<HttpServices, 'config' | 'models'> & SubmitJobServices & JobSpecsServices;

type Run = (onDelta?: SummaryDeltas) => Promise<SummaryResult & { filename?: string | null }>;

/** Server-sent events: `delta` events as the summary is written, then `summary` with the result. */
async function streamSummary(request: FastifyRequest, reply: FastifyReply, run: Run): Promise<FastifyReply> {
  const stream = openEventStream(request, reply);
  try {
    stream.event('summary', await run((delta) => stream.event('delta', { content: delta })));
  } catch (error) {
    const known = isAppError(error) ? error : appError('internal', 'the summary failed');
    if (!isAppError(error)) request.log.error({ err: error }, 'summary stream failed');
    stream.event('error', renderProblem(known, request.url, request.id));
  }
  stream.end();
  return reply;
}

/**
 * POST /api/v1/summarize: JSON `text`, a text/plain body, or any document (as /api/v1/ocr
 * takes it). `stream: true` answers with server-sent events (abstractive tokens as they come).
 */
export function registerSummarizeRoute(app: FastifyInstance, services: SummarizeServices): void {
  const hasChat = (): boolean => services.models.firstConversational() !== undefined;
  app.post(
    '/api/v1/summarize',
    {
      config: { scope: 'summarize' as const },
      schema: { tags: ['native'], summary: 'Summarize text or a document (stream: true for SSE)' },
    },
    async (request, reply) => {
      const body = request.body;
      const query = request.query as Record<string, string>;
      const isText = typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && 'text' in body;
      // Fastify parses text/plain bodies to a string itself.
      const plain = typeof body === 'string';
      let fields: Record<string, unknown>;
      let run: Run;
      if (isText || plain) {
        fields = isText ? { ...query, ...(body as Record<string, unknown>) } : query;
        const text = isText ? (body as { text: unknown }).text : body;
        if (typeof text !== 'string') throw appError('invalid_parameter', 'text must be a string', { field: 'text' });
        if (!text.trim()) throw appError('invalid_parameter', 'text is empty', { field: 'text' });
        if (wantsAsync(fields))
          return submitJob(request, reply, services, summarizeTextJobSpec(services, text, fields), fields.callback_url);
        const options = summarizeOptionsFrom(fields, hasChat());
        run = (onDelta) => summarizeText(services, text, options, request.work, {}, onDelta);
      } else {
        const document = await readDocument(request, documentFetchPolicy(services.config), request.work);
        fields = document.fields;
        if (wantsAsync(fields))
          return submitJob(
            request,
            reply,
            services,
            summarizeDocumentJobSpec(services, document),
            document.fields.callback_url,
          );
        const { options, ocr } = summarizeDocumentOptions(document.fields, services.ocrDefaults, hasChat());
        run = async (onDelta) => ({
          ...(await summarizeDocument(
            services,
            document.bytes,
            document.filename,
            options,
            ocr,
            request.work,
            onDelta,
          )),
          filename: document.filename ?? null,
        });
      }
      const stream = fields.stream === true || fields.stream === 'true';
      return stream ? streamSummary(request, reply, run) : run();
    },
  );
}
