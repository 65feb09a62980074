import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { appError, formatBytes } from '../../errors/app-error.js';
import { pydantic } from '../../errors/pydantic.js';

export interface Upload {
  filename: string;
  bytes: Buffer;
  /** Larger than the route's limit: only the first `maxBytes` were kept. */
  tooLarge: boolean;
}

export interface UploadLimits {
  /** Form field holding the file(s). */
  field: string;
  maxBytes: number;
  maxFiles: number;
  /** All files together (a batch); past it, 413 with the route's words. */
  maxTotalBytes?: number;
}

/** FastAPI's answer to a missing form field: 422 with a validation list. */
export function fieldRequired(field: string): Error {
  return appError(
    'missing_document',
    `Field required: the multipart field "${field}" holds no file`,
    { field },
    { validation: pydantic.missing(['body', field], null) },
  );
}

export interface Uploads {
  files: Upload[];
  fields: Record<string, string>;
  /** Files past maxFiles, drained unread. */
  extra: number;
}

/**
 * Reads the seed routes' multipart uploads. Files are held in memory only (nothing is
 * written to disk, so nothing can be left behind); an oversize file is marked, not thrown,
 * so a batch can fail that one file alone. A body that is not multipart has no files.
 */
export async function readMultipart(request: FastifyRequest, limits: UploadLimits): Promise<Uploads> {
  const fields: Record<string, string> = {};
  const files: Upload[] = [];
  if (!request.isMultipart()) return { files, fields, extra: 0 };
  let extra = 0;
  // throwFileSizeLimit is honoured per request at run time; the plugin's types omit it.
  // Parts: every file the route takes plus room for its form fields.
  const options = {
    limits: { fileSize: limits.maxBytes, files: limits.maxFiles + 1, parts: limits.maxFiles + 51 },
    throwFileSizeLimit: false,
  } as Parameters<FastifyRequest['parts']>[0];
  let total = 0;
  for await (const part of request.parts(options)) {
    if (part.type === 'field') {
      if (typeof part.value === 'string') fields[part.fieldname] = part.value;
      continue;
    }
    if (part.fieldname !== limits.field || files.length >= limits.maxFiles) {
      if (part.fieldname === limits.field) extra++;
      part.file.resume();
      continue;
    }
    const bytes = await part.toBuffer();
    total += bytes.length;
    if (limits.maxTotalBytes !== undefined && total > limits.maxTotalBytes) {
      throw appError(
        'payload_too_large',
        `The files of this batch exceed ${formatBytes(limits.maxTotalBytes)} together (limits.maxBatchBytes)`,
        { limit: limits.maxTotalBytes },
      );
    }
    files.push({ filename: part.filename, bytes, tooLarge: part.file.truncated });
  }
  return { files, fields, extra };
}

/** The FastAPI seeds' reading: a missing file is a 422, too many files a 400. */
export async function readUploads(
  request: FastifyRequest,
  limits: UploadLimits,
): Promise<{ files: Upload[]; fields: Record<string, string> }> {
  const { files, fields, extra } = await readMultipart(request, limits);
  if (extra > 0)
    throw appError('bad_request', `Maximum ${limits.maxFiles} files per batch`, { limit: limits.maxFiles });
  if (files.length === 0) throw fieldRequired(limits.field);
  return { files, fields };
}
