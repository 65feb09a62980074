import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { appError, formatBytes, isAppError } from '../../errors/app-error.js';
import { pydantic } from '../../errors/pydantic.js';
import { spoolUpload, type SpooledUpload } from '../collect-upload.js';

export interface Upload {
  filename: string;
  /** Bytes received (for a file over the limit, the limit). */
  size: number;
  /** Its first bytes (up to 1 KB): enough to sniff its type without reading it back. */
  head: Buffer;
  /** Larger than the route's limit: nothing of it was kept. */
  tooLarge: boolean;
  /** Its bytes (from memory or its spool file). */
  read(): Promise<Buffer>;
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
  /** Deletes the spool files; routes call it when they are done (also on error). */
  dispose(): Promise<void>;
}

const nothing = async (): Promise<Buffer> => Buffer.alloc(0);

/**
 * Reads the seed routes' multipart uploads as they stream in, like every other route: each
 * file's limit is enforced as bytes arrive, and a file past 256 KB is spooled to a private
 * temporary file and read back only when it is processed, so a batch of large files costs
 * disk, not memory. An oversize file is marked, not thrown, so a batch can fail that one
 * file alone. A body that is not multipart has no files.
 */
export async function readMultipart(request: FastifyRequest, limits: UploadLimits): Promise<Uploads> {
  const fields: Record<string, string> = {};
  const files: Upload[] = [];
  const spooled: SpooledUpload[] = [];
  const dispose = async (): Promise<void> => void (await Promise.all(spooled.map((s) => s.dispose())));
  if (!request.isMultipart()) return { files, fields, extra: 0, dispose };
  let extra = 0;
  // throwFileSizeLimit is honoured per request at run time; the plugin's types omit it.
  // One byte past the limit reaches spoolUpload, which refuses the file (busboy would only truncate it).
  // Parts: every file the route takes plus room for its form fields.
  const options = {
    limits: { fileSize: limits.maxBytes + 1, files: limits.maxFiles + 1, parts: limits.maxFiles + 51 },
    throwFileSizeLimit: false,
  } as Parameters<FastifyRequest['parts']>[0];
  let total = 0;
  try {
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
      let file: Upload;
      try {
        const upload = await spoolUpload(part.file, limits.maxBytes);
        spooled.push(upload);
        file = { filename: part.filename, size: upload.size, head: upload.head, tooLarge: false, read: upload.read };
      } catch (error) {
        if (!isAppError(error) || error.code !== 'payload_too_large') throw error;
        // Too large: drop what came, drain the rest of this part, go on with the others.
        part.file.resume();
        file = { filename: part.filename, size: limits.maxBytes, head: Buffer.alloc(0), tooLarge: true, read: nothing };
      }
      // A file over its own limit counts with the bytes the limit lets through.
      total += file.size;
      if (limits.maxTotalBytes !== undefined && total > limits.maxTotalBytes) {
        throw appError(
          'payload_too_large',
          `The files of this batch exceed ${formatBytes(limits.maxTotalBytes)} together (limits.maxBatchBytes)`,
          { limit: limits.maxTotalBytes },
        );
      }
      files.push(file);
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  return { files, fields, extra, dispose };
}

/** The FastAPI seeds' reading: a missing file is a 422, too many files a 400. */
export async function readUploads(request: FastifyRequest, limits: UploadLimits): Promise<Omit<Uploads, 'extra'>> {
  const uploads = await readMultipart(request, limits);
  if (uploads.extra > 0 || uploads.files.length === 0) await uploads.dispose();
  if (uploads.extra > 0)
    throw appError('bad_request', `Maximum ${limits.maxFiles} files per batch`, { limit: limits.maxFiles });
  if (uploads.files.length === 0) throw fieldRequired(limits.field);
  return uploads;
}

/**
 * Maps the files of a batch with at most `concurrency` in progress, each read from its
 * spool only when its turn comes; results keep the files' order.
 */
export async function mapUploads<T>(
  files: Upload[],
  concurrency: number,
  work: (upload: Upload, index: number) => Promise<T>,
): Promise<Array<PromiseSettledResult<T>>> {
  const results: Array<PromiseSettledResult<T>> = new Array(files.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const index = next++;
      try {
        results[index] = { status: 'fulfilled', value: await work(files[index]!, index) };
      } catch (reason) {
        results[index] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, lane));
  return results;
}
