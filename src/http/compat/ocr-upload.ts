import { ocrDocument, type OcrOptions, type OcrResult } from '../../core/ocr.js';
import { sniffKind, type DocumentKind } from '../../documents/sniff.js';
import { parseLanguages } from '../../shared/languages.js';
import { appError } from '../../errors/app-error.js';
import type { HttpServices, CoreServices } from '../http-services.js';
import type { Upload } from './uploads.js';

/** What these routes use of the services. */
export type OcrUploadServices = CoreServices & Pick<HttpServices, 'config' | 'models'>;

export interface UploadOcr {
  result: OcrResult;
  model: string;
  seconds: number;
  kind: DocumentKind;
}

/** Reads a document: in this request, or through the job queue (the batch routes). */
export type OcrRunner = (bytes: Buffer, options: OcrOptions, signal: AbortSignal) => Promise<OcrResult>;

/** The seed's format check: the upload's sniffed type among those it lists, else its 400. */
export function checkFormat(upload: Upload, allowed: readonly DocumentKind[], formatsText: string): DocumentKind {
  const kind = sniffKind(upload.head);
  if (!kind || !allowed.includes(kind)) {
    throw appError(
      'bad_request',
      `Unsupported file format: ${kind ? `.${kind === 'jpeg' ? 'jpg' : kind}` : 'unknown'}. Supported formats: ${formatsText}`,
      { received: kind ?? 'unknown' },
    );
  }
  return kind;
}

/**
 * The one path every seed OCR route takes: check the upload against the seed's formats
 * and size, resolve the seed's model id in the registry, OCR through the core.
 */
export async function ocrUpload(
  services: OcrUploadServices,
  upload: Upload,
  request: {
    model: string;
    language?: string | undefined;
    allowed: DocumentKind[];
    formatsText: string;
    maxMb: number;
  },
  signal: AbortSignal,
  run: OcrRunner = (bytes, options, s) => ocrDocument(services, bytes, options, s),
): Promise<UploadOcr> {
  if (upload.tooLarge)
    throw appError('payload_too_large', `File too large. Maximum size: ${request.maxMb}MB`, {
      limit: request.maxMb * 1024 * 1024,
    });
  const kind = checkFormat(upload, request.allowed, request.formatsText);
  const model = services.models.ocrEngineOf(request.model);
  const started = performance.now();
  const result = await run(
    await upload.read(),
    {
      engine: model.engine,
      languages: parseLanguages(request.language, model.languages),
      dpi: services.ocrDefaults.dpi,
    },
    signal,
  );
  services.models.markUsed(model.id);
  return { result, model: model.id, seconds: Math.round(performance.now() - started) / 1000, kind };
}
