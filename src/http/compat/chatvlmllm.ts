/**
 * The ChatVLMLLM REST API (seed 001), unchanged for its clients: same paths, fields,
 * defaults, limits and `{"detail": ...}` errors, over the same core as /api/v1.
 */
import type {} from '@fastify/swagger'; // schema.tags / summary / consumes types
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appError, isAppError, withTimeout } from '../../errors/app-error.js';
import { checkNumber } from '../../errors/pydantic.js';
import type { HttpServices, CoreServices } from '../http-services.js';
import { openChat } from '../../core/chat.js';
import { checkFormat, ocrUpload, type OcrRunner } from './ocr-upload.js';
import { queuedOcr, type RunQueuedServices } from '../jobs/run-queued.js';
import { mapUploads, readUploads, type Upload } from './uploads.js';

/** What these routes use of the services. */
type ChatvlmllmServices = CoreServices & Pick<HttpServices, 'config' | 'models'> & RunQueuedServices;

const maxMb = 10;
const limits = { maxBytes: maxMb * 1024 * 1024, seconds: 30 };
const formats = { allowed: ['jpeg', 'png', 'bmp', 'tiff'] as const, text: 'JPG, PNG, BMP, TIFF' };

/** model and language come from the query string or the form (the seed's clients use both). */
function pick(request: FastifyRequest, fields: Record<string, string>, name: string): string | undefined {
  const query = request.query as Record<string, string | undefined>;
  return fields[name] ?? query[name] ?? undefined;
}

/** A form field declared `float = Form(None, ge=…, le=…)` / `int`: Pydantic's checks, the form string echoed. */
function fieldNumber(
  fields: Record<string, string>,
  name: string,
  range: { min: number; max: number; integer?: boolean },
): number | undefined {
  const raw = fields[name];
  if (raw === undefined || raw === '') return undefined;
  const checked = checkNumber(raw, { integer: range.integer ?? false, min: range.min, max: range.max }, ['body', name]);
  if ('value' in checked) return checked.value;
  throw appError(
    'invalid_parameter',
    `${name}: ${checked.error.msg} (${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}), received ${JSON.stringify(raw)}`,
    { field: name },
    { validation: checked.error },
  );
}

export function registerChatVlmLlmRoutes(app: FastifyInstance, services: ChatvlmllmServices): void {
  const config = { surface: 'compat' as const };
  const defaultModel = services.config.compat.chatvlmDefaultModel;
  /** The model behind a name, or the seed's own words for an unknown one. */
  const requireModel = (name: string) => {
    try {
      return services.models.require(name);
    } catch (error) {
      // 001: {"detail": "Failed to load model: Model 'invalid_model' not found"}
      if (isAppError(error) && error.code === 'model_not_found')
        throw appError('model_not_found', `Failed to load model: Model '${name}' not found`, error.facts);
      throw error;
    }
  };
  const ocrOne = async (
    request: FastifyRequest,
    upload: Upload,
    fields: Record<string, string>,
    signal: AbortSignal,
    run?: OcrRunner,
  ) => {
    const model = pick(request, fields, 'model') ?? defaultModel;
    requireModel(model); // the seed's words for an unknown model (and the key's model check)
    return ocrUpload(
      services,
      upload,
      {
        model,
        language: pick(request, fields, 'language'),
        allowed: [...formats.allowed],
        formatsText: formats.text,
        maxMb,
      },
      signal,
      run,
    );
  };
  const timed = (request: FastifyRequest) =>
    withTimeout(request.work, limits.seconds * 1000, 'the ChatVLMLLM 30 s request timeout');

  app.get(
    '/models',
    {
      config: { ...config, scope: 'key' as const },
      schema: { tags: ['ChatVLMLLM'], summary: 'List available and loaded models' },
    },
    async () => ({
      available: services.models.list().map((m) => ({ id: m.id, name: m.name, params: m.params })),
      loaded: services.models.loadedIds(),
    }),
  );

  /** The single-file routes' upload; its spool file (if any) is deleted once the answer is sent. */
  const readOneUpload = async (request: FastifyRequest, reply: FastifyReply) => {
    const uploads = await readUploads(request, { field: 'file', maxBytes: limits.maxBytes, maxFiles: 1 });
    reply.raw.once('close', () => void uploads.dispose());
    return uploads;
  };

  app.post(
    '/ocr',
    {
      config: { ...config, scope: 'ocr' as const },
      schema: {
        tags: ['ChatVLMLLM'],
        summary: 'Extract text from an image (file; model, language)',
        consumes: ['multipart/form-data'],
      },
    },
    async (request, reply) => {
      const { files, fields } = await readOneUpload(request, reply);
      const work = timed(request);
      try {
        const done = await ocrOne(request, files[0]!, fields, work.signal);
        const first = done.result.pages[0];
        return {
          text: done.result.text,
          model: done.model,
          processing_time: done.seconds,
          image_size: [first?.width ?? 0, first?.height ?? 0],
          language: pick(request, fields, 'language') ?? null,
        };
      } finally {
        work.clear();
      }
    },
  );

  app.post(
    '/chat',
    {
      config: { ...config, scope: 'chat' as const },
      schema: {
        tags: ['ChatVLMLLM'],
        summary: 'Chat about an image (file, prompt, model, temperature, max_tokens)',
        consumes: ['multipart/form-data'],
      },
    },
    async (request, reply) => {
      const { files, fields } = await readOneUpload(request, reply);
      const temperature = fieldNumber(fields, 'temperature', { min: 0, max: 1 });
      const maxTokens = fieldNumber(fields, 'max_tokens', { min: 1, max: 32768, integer: true });
      const upload = files[0]!;
      if (upload.tooLarge) throw appError('payload_too_large', `File too large. Maximum size: ${maxMb}MB`);
      // The same check /ocr makes ("Поддерживаемые форматы: JPG, PNG, BMP, TIFF").
      checkFormat(upload, formats.allowed, formats.text);
      const model = requireModel(pick(request, fields, 'model') ?? defaultModel);
      if (!services.models.converses(model.id)) {
        // The embedded OCR reads documents but does not converse: say so, never fake an answer.
        throw appError(
          'capability_unavailable',
          `No chat model is configured for '${model.id}'. Bind a vision or text model to this name in the config (models.${model.id}.chat: an OpenAI-compatible server such as vLLM, llama.cpp server or Ollama's /v1); /ocr works with the embedded engines.`,
          { model: model.id },
          { retryAfterSeconds: 3600 },
        );
      }
      const prompt = fields.prompt || 'Describe this image';
      const work = timed(request);
      const started = performance.now();
      try {
        const chat = await openChat(
          services,
          model.id,
          {
            messages: [
              {
                role: 'user',
                content: [
                  { type: 'text', text: prompt },
                  { type: 'image', data: await upload.read() },
                ],
              },
            ],
            ...(temperature !== undefined ? { temperature } : {}),
            ...(maxTokens !== undefined ? { maxTokens } : {}),
          },
          work.signal,
        );
        try {
          const result = await chat.complete(work.signal);
          if (chat.imagesAsText) void reply.header('x-visiongate-image-ocr', String(chat.imagesAsText));
          return {
            response: result.content,
            model: model.id,
            processing_time: Math.round(performance.now() - started) / 1000,
            prompt,
          };
        } finally {
          chat.release();
        }
      } finally {
        work.clear();
      }
    },
  );

  app.post(
    '/batch/ocr',
    {
      config: { ...config, scope: 'ocr' as const },
      schema: {
        tags: ['ChatVLMLLM'],
        summary: 'OCR up to 10 images (files[]; model)',
        consumes: ['multipart/form-data'],
      },
    },
    async (request) => {
      const { files, fields, dispose } = await readUploads(request, {
        field: 'files',
        maxBytes: limits.maxBytes,
        maxFiles: 10,
      });
      const work = timed(request);
      // Each file is a job of its own on the queue; as many at once as the queue runs, each read
      // from its spool file only when its turn comes, so the batch never sits in memory at once.
      const queued = queuedOcr(services, request);
      try {
        const seconds: number[] = [];
        const settled = await mapUploads(files, services.config.jobs.concurrency, async (upload, index) => {
          const started = performance.now();
          try {
            return await ocrOne(request, upload, fields, work.signal, queued);
          } finally {
            seconds[index] = Math.round(performance.now() - started) / 1000;
          }
        });
        if (work.signal.aborted) throw work.signal.reason;
        // One bad file fails alone, with its reason.
        const results = settled.map((outcome, index) =>
          outcome.status === 'fulfilled'
            ? {
                filename: files[index]!.filename,
                text: outcome.value.result.text,
                processing_time: outcome.value.seconds,
                status: 'success',
              }
            : {
                filename: files[index]!.filename,
                text: '',
                processing_time: seconds[index] ?? 0,
                status: 'error',
                error: (outcome.reason as Error).message,
              },
        );
        const successful = results.filter((r) => r.status === 'success').length;
        return { results, total: files.length, successful, failed: files.length - successful };
      } finally {
        work.clear();
        await dispose();
      }
    },
  );

  app.delete(
    '/models/:model_name',
    {
      config: { ...config, scope: 'admin' as const },
      schema: { tags: ['ChatVLMLLM'], summary: 'Unload a model from memory' },
    },
    async (request) => {
      const { model_name: name } = request.params as { model_name: string };
      requireModel(name);
      const { id } = await services.models.unload(name);
      return { status: 'success', message: `Model ${id} unloaded` };
    },
  );
}
