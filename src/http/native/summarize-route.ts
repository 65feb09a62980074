import type { FastifyInstance } from 'fastify';
import { summarizeDocument, summarizeText } from '../../core/summarize.js';
import { appError } from '../../errors/app-error.js';
import type { Services } from '../../services.js';
import { documentFetchPolicy } from '../fetch-policy.js';
import { ocrOptionsFrom } from '../ocr-options.js';
import { readDocument } from '../read-document.js';
import { summarizeOptionsFrom } from '../summarize-options.js';

/** POST /api/v1/summarize: JSON `text`, a text/plain body, or any document (as /api/v1/ocr takes it). */
export function registerSummarizeRoute(app: FastifyInstance, services: Services): void {
  app.post('/api/v1/summarize', { schema: { tags: ['native'], summary: 'Summarize text or a document' } }, async (request) => {
    const body = request.body;
    const query = request.query as Record<string, string>;
    const isText = typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && 'text' in body;
    // Fastify parses text/plain bodies to a string itself.
    const plain = typeof body === 'string';
    if (isText || plain) {
      const fields = isText ? { ...query, ...(body as Record<string, unknown>) } : query;
      const text = isText ? (body as { text: unknown }).text : body;
      if (typeof text !== 'string') throw appError('invalid_parameter', 'text must be a string', { field: 'text' });
      if (!text.trim()) throw appError('invalid_parameter', 'text is empty', { field: 'text' });
      return summarizeText(services, text, summarizeOptionsFrom(fields), request.work);
    }
    const document = await readDocument(request, documentFetchPolicy(services.config), request.work);
    const ocr = ocrOptionsFrom(document.fields, services.config);
    const result = await summarizeDocument(services, document.bytes, document.filename, summarizeOptionsFrom(document.fields), ocr, request.work);
    return { ...result, filename: document.filename ?? null };
  });
}
