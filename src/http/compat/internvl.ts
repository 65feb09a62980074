/**
 * The InternVL3-8B engineering-document OCR service (seed 002), unchanged for its
 * clients (InterVLAPIClient, Flask front ends), over the same core as /api/v1.
 */
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { extractStructure } from '../../core/structure.js';
import { withTimeout } from '../../errors/app-error.js';
import type { HttpServices } from '../http-services.js';
import { ocrUpload, type OcrRunner, type OcrUploadServices } from './ocr-upload.js';
import { queuedOcr, type RunQueuedServices } from '../jobs/run-queued.js';
import { mapUploads, readUploads, type Upload } from './uploads.js';

/** What these routes use of the services. */
type InternvlServices = Pick<HttpServices, 'config' | 'engines' | 'models'> & OcrUploadServices & RunQueuedServices;

const maxMb = 50;
const supportedFormats = ['.jpg', '.jpeg', '.png', '.pdf', '.bmp', '.tiff'];
const allowed = ['jpeg', 'png', 'pdf', 'bmp', 'tiff'] as const;
const defaultPrompt =
  'Extract all text, tables, dimensions, tolerances and annotations from this engineering document.';

function extensionOf(filename: string, kind: string): string {
  const dot = filename.lastIndexOf('.');
  return dot > 0 ? filename.slice(dot).toLowerCase() : `.${kind === 'jpeg' ? 'jpg' : kind}`;
}

export function registerInternVlRoutes(app: FastifyInstance, services: InternvlServices): void {
  const config = { surface: 'compat' as const };
  const modelName = services.config.compat.internvlModel;
  const engineLabel = (): string => services.models.list().find((m) => m.id === modelName)?.backend ?? 'unbound';

  const processOne = async (upload: Upload, prompt: string, signal: AbortSignal, run?: OcrRunner) => {
    const started = performance.now();
    const done = await ocrUpload(
      services,
      upload,
      { model: modelName, allowed: [...allowed], formatsText: supportedFormats.join(', '), maxMb },
      signal,
      run,
    );
    const first = done.result.pages[0];
    const confidence = done.result.pages.length
      ? done.result.pages.reduce((s, p) => s + p.confidence, 0) / done.result.pages.length
      : 0;
    return {
      status: 'success',
      raw_text: done.result.text,
      confidence: Math.round(confidence * 1000) / 1000,
      metadata: {
        model: done.model,
        device: 'cpu',
        prompt,
        processing_time: done.seconds,
        // InternVL counted 448-px tiles; here each processed page is one patch.
        image_patches: done.result.pages.length,
        total_processing_time: Math.round(performance.now() - started) / 1000,
      },
      structured_content: extractStructure(done.result),
      file_info: {
        filename: upload.filename,
        size: upload.size,
        format: extensionOf(upload.filename, done.kind),
        image_size: `${first?.width ?? 0}x${first?.height ?? 0}`,
      },
    };
  };

  app.get(
    '/model/info',
    { config: { ...config, scope: 'key' as const }, schema: { tags: ['InternVL OCR'], summary: 'Model information' } },
    async () => ({
      model_name: modelName,
      model_path: engineLabel(),
      device: 'cpu',
      is_loaded: services.models.loadedIds().includes(modelName),
      supported_formats: supportedFormats,
      max_file_size_mb: maxMb,
      gpu_available: false,
    }),
  );

  app.post(
    '/ocr/process',
    {
      config: { ...config, scope: 'ocr' as const },
      schema: {
        tags: ['InternVL OCR'],
        summary: 'OCR an engineering document (file, prompt) with structured content',
        consumes: ['multipart/form-data'],
      },
    },
    async (request) => {
      const { files, fields, dispose } = await readUploads(request, {
        field: 'file',
        maxBytes: maxMb * 1024 * 1024,
        maxFiles: 1,
      });
      try {
        return await processOne(files[0]!, fields.prompt || defaultPrompt, request.work);
      } finally {
        await dispose();
      }
    },
  );

  app.post(
    '/ocr/batch',
    {
      config: { ...config, scope: 'ocr' as const },
      schema: {
        tags: ['InternVL OCR'],
        summary: 'OCR several documents (files, prompt)',
        consumes: ['multipart/form-data'],
      },
    },
    async (request) => {
      // The seed set no count: the batch is bounded by jobs.maxBatchItems and limits.maxBatchBytes.
      const { limits, jobs } = services.config;
      const { files, fields, dispose } = await readUploads(request, {
        field: 'files',
        maxBytes: maxMb * 1024 * 1024,
        maxFiles: jobs.maxBatchItems,
        maxTotalBytes: limits.maxBatchBytes,
      });
      try {
        // Each file is a job of its own on the queue; as many at once as the queue runs, each
        // read from its spool file only when its turn comes, so the batch never sits in memory.
        const queued = queuedOcr(services, request);
        const settled = await mapUploads(files, jobs.concurrency, (upload) =>
          processOne(upload, fields.prompt || defaultPrompt, request.work, queued),
        );
        if (request.work.aborted) throw request.work.reason;
        const results = settled.map((outcome, index) =>
          outcome.status === 'fulfilled'
            ? outcome.value
            : {
                status: 'error',
                file_info: { filename: files[index]!.filename, size: files[index]!.size },
                error: (outcome.reason as Error).message,
              },
        );
        const successful = results.filter((r) => r.status === 'success').length;
        return { status: 'success', results, total: files.length, successful, failed: files.length - successful };
      } finally {
        await dispose();
      }
    },
  );

  app.post(
    '/model/reload',
    { config: { ...config, scope: 'admin' as const }, schema: { tags: ['InternVL OCR'], summary: 'Reload the model' } },
    async (request) => {
      const started = performance.now();
      await services.models.unload(modelName);
      const model = services.models.ocrEngineOf(modelName);
      // Load it again now (a tiny blank page through the engine), so the next request is warm.
      const warm = withTimeout(request.work, 60_000, 'model reload');
      try {
        const languages = model.languages;
        const engine = await services.engines.choose(model.engine, languages);
        await engine.recognize(
          { width: 64, height: 32, data: new Uint8Array(64 * 32).fill(255) },
          { languages },
          warm.signal,
        );
      } finally {
        warm.clear();
      }
      services.models.markUsed(model.id);
      return {
        status: 'success',
        message: `Model ${model.id} reloaded`,
        model: model.id,
        model_loaded: true,
        reload_time: Math.round(performance.now() - started) / 1000,
      };
    },
  );
}
