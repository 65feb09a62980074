import type {} from '@fastify/multipart'; // request.parts() / isMultipart() types
import type { FastifyRequest } from 'fastify';
import { appError, formatBytes } from '../errors/app-error.js';
import { collectUpload } from './collect-upload.js';
import { guardedFetch, type FetchPolicy } from '../net/guarded-fetch.js';

/** A document taken from a request, plus every non-file field sent with it. */
export interface RequestDocument {
  bytes: Buffer;
  filename: string | undefined;
  fields: Record<string, string>;
}

type Fields = Record<string, string>;

/** A parsed JSON object body (not an array, not the raw bytes of a non-JSON body). */
export function isJsonObject(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && !Array.isArray(body);
}

/** The scalar fields of a query or JSON object as the strings a form would send (string lists joined with +). */
export function stringFields(source: unknown): Fields {
  const out: Fields = {};
  if (typeof source !== 'object' || source === null) return out;
  for (const [key, value] of Object.entries(source)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value.join('+');
  }
  return out;
}

/** `data:` URL or bare base64 → bytes; rejects text that is not base64. */
function decodeBase64(value: string, field: string): Buffer {
  const payload = value.startsWith('data:') ? value.slice(value.indexOf(',') + 1) : value;
  const compact = payload.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact))
    throw appError('invalid_parameter', `${field}: not valid base64 (or a data: URL)`, { field });
  return Buffer.from(compact, 'base64');
}

async function fromMultipart(
  request: FastifyRequest,
  fileField: string | undefined,
  policy: FetchPolicy,
): Promise<RequestDocument> {
  const fields: Fields = {};
  let file: { bytes: Buffer; filename: string } | undefined;
  // One byte over the limit reaches us, so collectUpload (not busboy's truncation) answers 413.
  const options = { limits: { fileSize: policy.maxBytes + 1 } } as Parameters<FastifyRequest['parts']>[0];
  for await (const part of request.parts(options)) {
    if (part.type === 'file') {
      // Only the first file (or the named field) is the document; others are drained.
      if (!file && (!fileField || part.fieldname === fileField))
        file = { bytes: await collectUpload(part.file, policy.maxBytes), filename: part.filename };
      else part.file.resume();
    } else if (typeof part.value === 'string' || typeof part.value === 'number' || typeof part.value === 'boolean') {
      fields[part.fieldname] = String(part.value);
    }
  }
  if (!file)
    throw appError(
      'missing_document',
      `no file in the multipart body; send the document as the "${fileField ?? 'file'}" field`,
      { field: fileField ?? 'file' },
    );
  return { bytes: file.bytes, filename: file.filename, fields };
}

/**
 * Reads the document from any of the accepted forms: multipart (first file), JSON with
 * `data` (base64 or data: URL) or `url`, or the raw body with any other content type.
 * Query-string fields apply to every form; body fields win over them.
 */
export async function readDocument(
  request: FastifyRequest,
  policy: FetchPolicy,
  signal: AbortSignal,
  options: { fileField?: string } = {},
): Promise<RequestDocument> {
  const query = stringFields(request.query);
  if (request.isMultipart()) {
    const doc = await fromMultipart(request, options.fileField, policy);
    return { ...doc, fields: { ...query, ...doc.fields } };
  }
  const body = request.body;
  if (Buffer.isBuffer(body)) {
    if (body.length === 0)
      throw appError(
        'missing_document',
        'the request body is empty; send the document as the body, as multipart "file", or as JSON {"data": base64} or {"url": ...}',
      );
    return { bytes: body, filename: query.filename, fields: query };
  }
  if (typeof body === 'object' && body !== null)
    return documentFromJson(body as Record<string, unknown>, query, policy, signal);
  throw appError(
    'missing_document',
    'no document in the request; send it as multipart "file", as the raw body, or as JSON {"data": base64} or {"url": ...}',
  );
}

/** A document from JSON: `data` (base64 or a data: URL) or `url`; the other scalar fields come along. */
export async function documentFromJson(
  json: Record<string, unknown>,
  query: Fields,
  policy: FetchPolicy,
  signal: AbortSignal,
): Promise<RequestDocument> {
  const fields = { ...query, ...stringFields(json) };
  delete fields.data;
  delete fields.url;
  if (typeof json.data === 'string' && json.data.length) {
    const bytes = decodeBase64(json.data, 'data');
    if (bytes.length > policy.maxBytes)
      throw appError(
        'payload_too_large',
        `the decoded document is ${formatBytes(bytes.length)}; the limit is ${formatBytes(policy.maxBytes)} (limits.maxDocumentBytes)`,
        { limit: policy.maxBytes },
      );
    return { bytes, filename: typeof json.filename === 'string' ? json.filename : undefined, fields };
  }
  if (typeof json.url === 'string' && json.url.length) {
    const fetched = await guardedFetch(json.url, policy, signal);
    return { bytes: fetched.bytes, filename: new URL(fetched.finalUrl).pathname.split('/').pop() || undefined, fields };
  }
  throw appError('missing_document', 'the JSON body has neither "data" (base64 or data: URL) nor "url"', {
    field: 'data',
  });
}
