/**
 * The DeepSynth summarizer API (seed 000, Flask), unchanged for its clients: same paths,
 * fields, defaults and `{"error": ...}` bodies, over the same core as /api/v1/summarize.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  characterCount,
  compressionRatio,
  summarizeDocument,
  summarizeText,
  type SummarizeOptions,
  type SummaryResult,
} from '../../core/summarize.js';
import { runQueued, type RunQueuedServices } from '../jobs/run-queued.js';
import { textSummaryJob, type JobSpecsServices } from '../jobs/job-specs.js';
import { describeBytes, sniffKind } from '../../documents/sniff.js';
import { appError } from '../../errors/app-error.js';
import type { HttpServices, CoreServices } from '../http-services.js';
import { isJsonObject } from '../read-document.js';
import { secureFilename } from './secure-filename.js';
import { readMultipart, type Upload } from './uploads.js';

/** What these routes use of the services. */
type DeepsynthServices = CoreServices & Pick<HttpServices, 'config' | 'models'> & RunQueuedServices & JobSpecsServices;

const maxBytes = 16 * 1024 * 1024;
const tooLarge = 'File too large (max 16MB)';
const timestamp = (): string => new Date().toISOString().replace('Z', '');

/** What the summarizers can do: the seed passed any value through, so values outside are clamped to these. */
const bounds = { max_length: { min: 1, max: 4096 }, temperature: { min: 0, max: 2 } };

/**
 * max_length and temperature as the seed read them (`data.get('max_length', 128)`,
 * `int(request.form.get('max_length', 128))`, `float(…'temperature', 0.7)`): any number is
 * taken and clamped to what the engine can do; the value used is echoed back. Only a value
 * that is not a number at all is refused (the seed failed on it too).
 */
function parameter(fields: Record<string, unknown>, name: 'max_length' | 'temperature', fallback: number): number {
  const raw = fields[name];
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : NaN;
  if (!Number.isFinite(n))
    throw appError('bad_request', `${name} must be a number, received ${JSON.stringify(raw)}`, { field: name });
  const { min, max } = bounds[name];
  const clamped = Math.min(max, Math.max(min, n));
  return name === 'max_length' ? Math.round(clamped) : clamped;
}

/** The summarizer is the config's choice (compat.deepsynthSummarizer), never implied by which models exist. */
function deepSynthOptions(fields: Record<string, unknown>, summarizer: string): SummarizeOptions {
  const base = {
    maxLength: parameter(fields, 'max_length', 128),
    temperature: parameter(fields, 'temperature', 0.7),
    allowEmpty: true,
  };
  return summarizer === 'extractive'
    ? { engine: 'extractive', ...base }
    : { engine: 'abstractive', model: summarizer, ...base };
}

const echoed = (options: SummarizeOptions) => ({ max_length: options.maxLength, temperature: options.temperature });

/** Flask's `request.get_json()`: the JSON object, or nothing. */
function jsonBody(request: FastifyRequest): Record<string, unknown> | undefined {
  return isJsonObject(request.body) ? request.body : undefined;
}

export function registerDeepSynthRoutes(app: FastifyInstance, services: DeepsynthServices): void {
  const config = { surface: 'flask' as const, payloadTooLarge: tooLarge, scope: 'summarize' as const };
  const ocr = {
    engine: services.config.ocr.defaultEngine,
    languages: services.config.ocr.defaultLanguages.split('+'),
    dpi: services.config.ocr.pdfDpi,
  };
  const options = { config, bodyLimit: maxBytes, schema: { tags: ['DeepSynth'] } };
  const summarizer = services.config.compat.deepsynthSummarizer;

  /** Multipart upload → summary of its text (any text file, PDF or image); a spooled upload's file is deleted after. */
  const summarizeUpload = async (request: FastifyRequest, field: 'file' | 'image') => {
    const { files, fields, dispose } = await readMultipart(request, { field, maxBytes, maxFiles: 1 });
    try {
      return await summarizeOne(files[0], fields, field, request);
    } finally {
      await dispose();
    }
  };
  const summarizeOne = async (
    upload: Upload | undefined,
    fields: Record<string, string>,
    field: 'file' | 'image',
    request: FastifyRequest,
  ) => {
    if (!upload) throw appError('bad_request', field === 'file' ? 'No file provided' : 'No image provided');
    if (upload.filename === '')
      throw appError('bad_request', field === 'file' ? 'No file selected' : 'No image selected');
    if (upload.tooLarge) throw appError('payload_too_large', tooLarge);
    const options = deepSynthOptions(fields, summarizer);
    // /summarize/image reads pictures (and PDFs) only; text files go to /summarize/file.
    if (field === 'image' && !sniffKind(upload.head))
      throw appError(
        'unsupported_media_type',
        `The image is ${describeBytes(upload.head)}, not a JPEG, PNG, TIFF, BMP, WebP, GIF or PDF`,
      );
    const result = await summarizeDocument(services, await upload.read(), upload.filename, options, ocr, request.work);
    // `filename = secure_filename(file.filename)`: the seed echoed the sanitised name.
    return { result, filename: secureFilename(upload.filename), parameters: echoed(options) };
  };

  app.post(
    '/summarize/text',
    {
      ...options,
      schema: { ...options.schema, summary: 'Summarize text (JSON: text, max_length=128, temperature=0.7)' },
    },
    async (request) => {
      const data = jsonBody(request);
      if (!data || !('text' in data)) throw appError('bad_request', 'Missing text field');
      if (typeof data.text !== 'string') throw appError('bad_request', 'text must be a string', { field: 'text' });
      if (data.text.trim().length === 0) throw appError('bad_request', 'Empty text provided');
      const result = await summarizeText(services, data.text, deepSynthOptions(data, summarizer), request.work);
      return {
        summary: result.summary,
        original_length: result.original_length,
        summary_length: result.summary_length,
        compression_ratio: result.compression_ratio,
        parameters: result.parameters,
        timestamp: timestamp(),
      };
    },
  );

  app.post(
    '/summarize/file',
    {
      ...options,
      schema: { ...options.schema, summary: 'Summarize an uploaded file (multipart file; max_length, temperature)' },
    },
    async (request) => {
      const { result, filename, parameters } = await summarizeUpload(request, 'file');
      return {
        summary: result.summary,
        filename,
        original_length: result.original_length,
        summary_length: result.summary_length,
        compression_ratio: result.compression_ratio,
        parameters,
        timestamp: timestamp(),
      };
    },
  );

  app.post(
    '/summarize/image',
    {
      ...options,
      schema: { ...options.schema, summary: 'Summarize a document image (multipart image; max_length, temperature)' },
    },
    async (request) => {
      const { result, filename, parameters } = await summarizeUpload(request, 'image');
      return {
        summary: result.summary,
        filename,
        summary_length: result.summary_length,
        parameters,
        timestamp: timestamp(),
      };
    },
  );

  app.post(
    '/batch/summarize',
    {
      ...options,
      schema: { ...options.schema, summary: 'Summarize up to 10 texts (JSON: texts, max_length, temperature)' },
    },
    async (request) => {
      const data = jsonBody(request);
      if (!data || !('texts' in data)) throw appError('bad_request', 'Missing texts field');
      const texts = data.texts;
      if (!Array.isArray(texts)) throw appError('bad_request', 'texts must be a list');
      if (texts.length > 10) throw appError('bad_request', 'Maximum 10 texts per batch');
      const parameters = deepSynthOptions(data, summarizer);
      const results = [];
      let totalOriginal = 0;
      let totalSummary = 0;
      for (const [index, text] of texts.entries()) {
        if (typeof text !== 'string') throw appError('bad_request', `texts[${index}] must be a string`);
        // An empty text has an empty summary, as the seed's model gave.
        const summary = text.trim()
          ? (
              (await runQueued(
                services,
                request,
                textSummaryJob(services, text, parameters),
                request.work,
              )) as SummaryResult
            ).summary
          : '';
        // Python's len(): code points.
        const originalLength = characterCount(text);
        const summaryLength = characterCount(summary);
        totalOriginal += originalLength;
        totalSummary += summaryLength;
        results.push({
          index,
          summary,
          original_length: originalLength,
          summary_length: summaryLength,
          compression_ratio: compressionRatio(originalLength, summaryLength),
        });
      }
      return {
        results,
        batch_size: texts.length,
        total_compression_ratio: compressionRatio(totalOriginal, totalSummary),
        parameters: echoed(parameters),
        timestamp: timestamp(),
      };
    },
  );
}
