import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appError, AppError, formatBytes, isAppError } from '../../errors/app-error.js';
import { renderError, type Surface } from '../../errors/render.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which surface renders this route's errors (native problem+json by default). */
    surface?: Surface;
    /** The surface's own words for a body over the route's limit (a seed's exact 413 text). */
    payloadTooLarge?: string;
  }
}

/** Fastify's and its plugins' own errors, translated into the catalog. */
function fromFramework(error: FastifyError, request: FastifyRequest, maxBytes: number): AppError {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE': {
      const own = request.routeOptions.config?.payloadTooLarge;
      const limit = request.routeOptions.bodyLimit ?? maxBytes;
      return appError('payload_too_large', own ?? `the upload is larger than ${formatBytes(Math.min(limit, maxBytes))} (limits.maxDocumentBytes)`, { limit: Math.min(limit, maxBytes) });
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return appError('unsupported_media_type', error.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return appError('bad_request', error.message);
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return appError('bad_request', `${error.message} (too many parts in the multipart body)`);
  }
  // busboy's words for a malformed multipart body (no boundary, a boundary that never comes, a cut part).
  if (/^(Multipart: Boundary not found|Unexpected end of (multipart data|form|file)|Malformed part header|Part terminated early|Missing Content-Type|Unsupported Content-Type|Malformed urlencoded form)/i.test(error.message)) {
    return appError('bad_request', `the multipart body is malformed: ${error.message}`);
  }
  if (error.validation) return appError('invalid_parameter', `${error.validationContext ?? 'request'}${error.message.replace(/^(body|querystring|params)/, '')}`);
  if (error instanceof SyntaxError || /JSON/.test(error.message)) return appError('bad_request', `the body is not valid JSON: ${error.message}`);
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return appError(error.statusCode === 413 ? 'payload_too_large' : 'bad_request', error.message);
  return appError('internal', 'an internal error occurred; it has been logged with this request id', {}, { cause: error });
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const surface = request.routeOptions.config?.surface ?? 'native';
  const { status, contentType, body } = renderError(surface, error, request.url.split('?')[0] ?? request.url, request.id);
  if (error.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.code(status).type(contentType).send(body);
}

/** A family of paths whose unknown members answer in a seed's own 404 shape. */
export interface NotFoundOwner {
  owns(path: string): boolean;
  surface: Surface;
  message: string;
}

/** One error handler for every route: catalog errors rendered by the route's surface. */
export function registerErrorHandler(app: FastifyInstance, maxBytes: number, owners: NotFoundOwner[] = []): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = isAppError(error) ? error : fromFramework(error, request, maxBytes);
    if (known.status >= 500 && known.code !== 'engine_unavailable') request.log.error({ err: known.cause ?? error }, 'request failed');
    else request.log.info({ code: known.code, status: known.status }, known.message);
    if (reply.raw.headersSent) return;
    return sendError(request, reply, known);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    const owner = owners.find((o) => o.owns(path));
    if (owner) return reply.code(404).type('application/json').send(renderError(owner.surface, appError('not_found', owner.message), path, request.id).body);
    return sendError(request, reply, appError('not_found', `no route ${request.method} ${path}`));
  });
}
