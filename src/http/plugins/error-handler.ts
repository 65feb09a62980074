import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appError, type AppError, formatBytes, isAppError } from '../../errors/app-error.js';
import { pydantic } from '../../errors/pydantic.js';
import { renderError, type Surface } from '../../errors/render.js';
import { invalidJson } from '../../shared/json-problem.js';

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
      return appError(
        'payload_too_large',
        own ?? `the upload is larger than ${formatBytes(Math.min(limit, maxBytes))} (limits.maxDocumentBytes)`,
        { limit: Math.min(limit, maxBytes) },
      );
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
  if (
    /^(Multipart: Boundary not found|Unexpected end of (multipart data|form|file)|Malformed part header|Part terminated early|Missing Content-Type|Unsupported Content-Type|Malformed urlencoded form)/i.test(
      error.message,
    )
  )
    return appError('bad_request', `the multipart body is malformed: ${error.message}`);
  if (error.validation) {
    // The field at fault, as the surfaces name fields: "messages[0].role", or the missing property.
    const first = error.validation[0] as { instancePath?: string; params?: { missingProperty?: unknown } } | undefined;
    const path = (first?.instancePath ?? '')
      .split('/')
      .filter(Boolean)
      .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
    const missing = typeof first?.params?.missingProperty === 'string' ? first.params.missingProperty : '';
    const field = [path, missing].filter(Boolean).join('.');
    return appError(
      'invalid_parameter',
      `${error.validationContext ?? 'request'}${error.message.replace(/^(body|querystring|params)/, '')}`,
      field ? { field } : {},
    );
  }
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError)
    return appError('bad_request', `the body is not valid JSON: ${error.message}`);
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500)
    return appError(error.statusCode === 413 ? 'payload_too_large' : 'bad_request', error.message);
  return appError(
    'internal',
    'an internal error occurred; it has been logged with this request id',
    {},
    { cause: error },
  );
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const surface = request.routeOptions.config?.surface ?? 'native';
  const { status, contentType, body } = renderError(
    surface,
    error,
    request.url.split('?')[0] ?? request.url,
    request.id,
  );
  if (error.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.code(status).type(contentType).send(body);
}

/** A registered route, for telling "no such path" from "not this method" (405 with Allow). */
interface KnownRoute {
  segments: string[];
  methods: Set<string>;
  surface: Surface;
}

const split = (path: string): string[] => path.split('/').filter((s, i) => i > 0 || s !== '');

/** Fastify's patterns as the routes here use them: static segments, `:param` segments, a trailing `*`. */
function matches(pattern: string[], path: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === '*') return true;
    const segment = path[i];
    if (segment === undefined) return false;
    if (p.startsWith(':') ? segment === '' : p !== segment) return false;
  }
  return pattern.length === path.length;
}

/** Which surface answers for a path no route claims: /v1 speaks OpenAI, /api problem+json, the root the seeds. */
function surfaceOfPath(path: string): Surface | 'root' {
  if (path === '/v1' || path.startsWith('/v1/')) return 'openai';
  if (path === '/api' || path.startsWith('/api/')) return 'native';
  return 'root';
}

/** The words each surface's own framework uses for a wrong method (FastAPI/Starlette, Flask/werkzeug). */
function methodNotAllowed(surface: Surface, method: string, path: string, allow: string): AppError {
  const message =
    surface === 'compat'
      ? 'Method Not Allowed'
      : surface === 'flask'
        ? 'The method is not allowed for the requested URL.'
        : `${method} is not allowed on ${path}; it answers ${allow}`;
  return appError('method_not_allowed', message, { allowed: allow.split(', ') });
}

/** Parses a large JSON body off the event loop (a worker thread), refusing what the default parser refuses. */
export type LargeJsonParser = (text: string, request: FastifyRequest) => Promise<unknown>;

/** Bodies from this size are handed to the large-body parser: JSON.parse of 50 MB holds the event loop for a second. */
const largeJson = 1024 * 1024;

/**
 * Bodies that are not JSON, described as Python's json module would (FastAPI's 422 carries
 * its message and position); an empty JSON body is a missing body, as FastAPI reads it.
 */
function registerJsonParser(app: FastifyInstance, parseLarge: LargeJsonParser | undefined): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      done(
        appError(
          'bad_request',
          'the body is empty but Content-Type says application/json; send a JSON object',
          {},
          { validation: pydantic.missing(['body'], null) },
        ),
        undefined,
      );
      return;
    }
    if (parseLarge && text.length >= largeJson) {
      parseLarge(text, request).then(
        (value) => done(null, value),
        (error: Error) => done(error, undefined),
      );
      return;
    }
    parse(request, text, (error, value) => {
      if (!error) return done(null, value);
      // Prototype poisoning is refused as Fastify refuses it; only syntax errors get located.
      if ((error as FastifyError).code !== 'FST_ERR_CTP_INVALID_JSON_BODY') return done(error, undefined);
      done(invalidJson(text), undefined);
    });
  });
}

/**
 * One error handler for every route (catalog errors rendered by the route's surface), and the
 * one answer for paths and methods no route takes: 405 with `Allow` in the path's own error
 * shape, 404 as OpenAI's error object under /v1, problem+json under /api, and at the root one
 * body both seed families read (FastAPI's `detail`, DeepSynth's Flask `error`).
 */
export function registerErrorHandler(app: FastifyInstance, maxBytes: number, parseLarge?: LargeJsonParser): void {
  const routes: KnownRoute[] = [];
  app.addHook('onRoute', (route) => {
    // The CORS plugin's catch-all OPTIONS route says nothing about which paths exist.
    if (route.url === '*' || route.url === '/*') return;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((m) => m.toUpperCase());
    if (methods.includes('GET')) methods.push('HEAD');
    const surface = route.config?.surface ?? 'native';
    const segments = split(route.url);
    const known = routes.find((r) => r.segments.join('/') === segments.join('/'));
    if (known) for (const m of methods) known.methods.add(m);
    else routes.push({ segments, methods: new Set(methods), surface });
  });
  registerJsonParser(app, parseLarge);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = isAppError(error) ? error : fromFramework(error, request, maxBytes);
    if (known.status >= 500 && known.code !== 'engine_unavailable')
      request.log.error({ err: known.cause ?? error }, 'request failed');
    else request.log.info({ code: known.code, status: known.status }, known.message);
    if (reply.raw.headersSent) return;
    return sendError(request, reply, known);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    const segments = split(path);
    const owners = routes.filter((r) => matches(r.segments, segments));
    const allowed = [...new Set(owners.flatMap((r) => [...r.methods]))];
    if (owners.length && !allowed.includes(request.method)) {
      const surface = owners[0]!.surface;
      const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
      const allow = allowed.sort((a, b) => order.indexOf(a) - order.indexOf(b)).join(', ');
      void reply.header('allow', allow);
      const { status, contentType, body } = renderError(
        surface,
        methodNotAllowed(surface, request.method, path, allow),
        path,
        request.id,
      );
      return reply.code(status).type(contentType).send(body);
    }
    const surface = surfaceOfPath(path);
    if (surface === 'root')
      return reply.code(404).type('application/json').send({ detail: 'Not Found', error: 'Endpoint not found' });
    const message =
      surface === 'openai' ? `Invalid URL (${request.method} ${path})` : `no route ${request.method} ${path}`;
    const { status, contentType, body } = renderError(surface, appError('not_found', message), path, request.id);
    return reply.code(status).type(contentType).send(body);
  });
}
