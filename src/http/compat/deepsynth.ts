/**
 * The DeepSynth summarizer API (seed 000, Flask), unchanged for its clients: same paths,
 * fields, defaults and `{"error": ...}` bodies, over the same core as /api/v1/summarize.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { compressionRatio, summarizeDocument, summarizeText, type SummaryResult } from '../../core/summarize.js';
import { runQueued, type RunQueuedServices } from '../jobs/run-queued.js';
import { textSummaryJob, type JobSpecsServices } from '../jobs/job-specs.js';
import { describeBytes, sniffKind } from '../../documents/sniff.js';
import { appError } from '../../errors/app-error.js';
import type { HttpServices, CoreServices } from '../http-services.js';
import { summarizeOptionsFrom } from '../summarize-options.js';
import { isJsonObject } from '../read-document.js';
import { readMultipart, type Upload } from './uploads.js';

/** What these routes use of the services. */
type DeepsynthServices = CoreServices & Pick<HttpServices, 'config' | 'models'> & RunQueuedServices & JobSpecsServices;

const maxBytes = 16 * 1024 * 1024;
const tooLarge = 'File too large (max 16MB)';
const timestamp = (): string => new Date().toISOString().replace('Z', '');

/** Unknown paths under DeepSynth's own prefixes answer its 404 body. */
export const deepSynthNotFound = {
  owns: (path: string): boolean => path.startsWith('/summarize') || (path.startsWith('/batch/') && !path.startsWith('/batch/ocr')),
  surface: 'flask' as const,
  message: 'Endpoint not found',
};

/** Flask's `request.get_json()`: the JSON object, or nothing. */
function jsonBody(request: FastifyRequest): Record<string, unknown> | undefined {
  return isJsonObject(request.body) ? request.body : undefined;
}

export function registerDeepSynthRoutes(app: FastifyInstance, services: DeepsynthServices): void {
  const config = { surface: 'flask' as const, payloadTooLarge: tooLarge };
  const ocr = { engine: services.config.ocr.defaultEngine, languages: services.config.ocr.defaultLanguages.split('+'), dpi: services.config.ocr.pdfDpi };
  const options = { config, bodyLimit: maxBytes, schema: { tags: ['DeepSynth'] } };
  // Like the seed's DeepSeek model: abstractive when a chat model is configured.
  const hasChat = services.models.firstConversational() !== undefined;

  /** Multipart upload → summary of its text (any text file, PDF or image); a spooled upload's file is deleted after. */
  const summarizeUpload = async (request: FastifyRequest, field: 'file' | 'image') => {
    const { files, fields, dispose } = await readMultipart(request, { field, maxBytes, maxFiles: 1 });
    try {
      return await summarizeOne(files, fields, field, request);
    } finally {
      await dispose();
    }
  };
  const summarizeOne = async (files: Upload[], fields: Record<string, string>, field: 'file' | 'image', request: FastifyRequest) => {
    const upload = files[0];
    if (!upload) throw appError('bad_request', field === 'file' ? 'No file provided' : 'No image provided');
    if (upload.filename === '') throw appError('bad_request', field === 'file' ? 'No file selected' : 'No image selected');
    if (upload.tooLarge) throw appError('payload_too_large', tooLarge);
    // /summarize/image reads pictures (and PDFs) only; text files go to /summarize/file.
    const bytes = await upload.read();
    if (field === 'image' && !sniffKind(bytes)) throw appError('unsupported_media_type', `The image is ${describeBytes(bytes)}, not a JPEG, PNG, TIFF, BMP, WebP, GIF or PDF`);
    const result = await summarizeDocument(services, bytes, upload.filename, summarizeOptionsFrom(fields, hasChat), ocr, request.work);
    return { result, filename: upload.filename };
  };

  app.post('/summarize/text', { ...options, schema: { ...options.schema, summary: 'Summarize text (JSON: text, max_length=128, temperature=0.7)' } }, async (request) => {
    const data = jsonBody(request);
    if (!data || !('text' in data)) throw appError('bad_request', 'Missing text field');
    if (typeof data.text !== 'string') throw appError('bad_request', 'text must be a string', { field: 'text' });
    if (data.text.trim().length === 0) throw appError('bad_request', 'Empty text provided');
    const result = await summarizeText(services, data.text, summarizeOptionsFrom(data, hasChat), request.work);
    return {
      summary: result.summary,
      original_length: result.original_length,
      summary_length: result.summary_length,
      compression_ratio: result.compression_ratio,
      parameters: result.parameters,
      timestamp: timestamp(),
    };
  });

  app.post('/summarize/file', { ...options, schema: { ...options.schema, summary: 'Summarize an uploaded file (multipart file; max_length, temperature)' } }, async (request) => {
    const { result, filename } = await summarizeUpload(request, 'file');
    return { summary: result.summary, filename, original_length: result.original_length, summary_length: result.summary_length, compression_ratio: result.compression_ratio, timestamp: timestamp() };
  });

  app.post('/summarize/image', { ...options, schema: { ...options.schema, summary: 'Summarize a document image (multipart image; max_length, temperature)' } }, async (request) => {
    const { result, filename } = await summarizeUpload(request, 'image');
    return { summary: result.summary, filename, summary_length: result.summary_length, timestamp: timestamp() };
  });

  app.post('/batch/summarize', { ...options, schema: { ...options.schema, summary: 'Summarize up to 10 texts (JSON: texts, max_length, temperature)' } }, async (request) => {
    const data = jsonBody(request);
    if (!data || !('texts' in data)) throw appError('bad_request', 'Missing texts field');
    const texts = data.texts;
    if (!Array.isArray(texts)) throw appError('bad_request', 'texts must be a list');
    if (texts.length > 10) throw appError('bad_request', 'Maximum 10 texts per batch');
    const parameters = summarizeOptionsFrom(data, hasChat);
    const results = [];
    let totalOriginal = 0;
    let totalSummary = 0;
    for (const [index, text] of texts.entries()) {
      if (typeof text !== 'string') throw appError('bad_request', `texts[${index}] must be a string`);
      // An empty text has an empty summary, as the seed's model gave.
      const summary = text.trim() ? ((await runQueued(services, request, textSummaryJob(services, text, parameters), request.work)) as SummaryResult).summary : '';
      totalOriginal += text.length;
      totalSummary += summary.length;
      results.push({ index, summary, original_length: text.length, summary_length: summary.length, compression_ratio: compressionRatio(text.length, summary.length) });
    }
    return { results, batch_size: texts.length, total_compression_ratio: compressionRatio(totalOriginal, totalSummary), timestamp: timestamp() };
  });
}
