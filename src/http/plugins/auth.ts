import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KeyLimits } from '../../auth/key-limits.js';
import { KeyRing, loadKeys } from '../../auth/keys.js';
import type { ApiKeyConfig, Config } from '../../config/schema.js';
import { appError } from '../../errors/app-error.js';
import { usageContext, UsageMeter, type Cost } from '../../runtime/usage-meter.js';
import { wantsHtml } from '../web-routes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key the request authenticated with (auth on). */
    apiKey?: ApiKeyConfig;
  }
}

type Scope = NonNullable<ApiKeyConfig['scopes']>[number];

/** What each route spends, for key scopes; routes not listed only need a valid key. */
const capabilities: Record<string, Scope> = {
  'POST /api/v1/ocr': 'ocr',
  'POST /ocr': 'ocr',
  'POST /batch/ocr': 'ocr',
  'POST /ocr/process': 'ocr',
  'POST /ocr/batch': 'ocr',
  'POST /v1/chat/completions': 'chat',
  'POST /chat': 'chat',
  'POST /api/v1/summarize': 'summarize',
  'POST /summarize/text': 'summarize',
  'POST /summarize/file': 'summarize',
  'POST /summarize/image': 'summarize',
  'POST /batch/summarize': 'summarize',
  'POST /api/v1/images': 'image',
  'POST /v1/images/generations': 'image',
  'POST /generate': 'image',
  'POST /generate/image': 'image',
  'DELETE /cache': 'admin',
  'DELETE /models/:model_name': 'admin',
  'DELETE /api/v1/models/:name': 'admin',
  'POST /model/reload': 'admin',
  'GET /metrics': 'admin',
};

/** Liveness, docs and the playground page stay reachable without a key (the page asks for one). */
function isPublic(request: FastifyRequest, path: string): boolean {
  return path === '/health' || path === '/ready' || path === '/ui' || path.startsWith('/ui/') || path === '/docs' || path.startsWith('/docs/') || path.startsWith('/redoc') || path === '/openapi.json' || (path === '/' && wantsHtml(request));
}

function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  const bearer = typeof authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  const header = request.headers['x-api-key'];
  return bearer ?? (typeof header === 'string' && header ? header : undefined);
}

/** For routes whose capability depends on the body (jobs): 403 when the key lacks it. */
export function checkScope(request: FastifyRequest, scope: Scope): void {
  const key = request.apiKey;
  if (key?.scopes && !key.scopes.includes(scope)) throw appError('forbidden', `API key "${key.name}" has no "${scope}" scope; it has ${key.scopes.join(', ') || 'none'}`, { scope });
}

/** The operator: no keys (auth off), or a key with the admin scope (or no scope list: every scope). */
export function isAdmin(request: FastifyRequest): boolean {
  const key = request.apiKey;
  return !key || !key.scopes || key.scopes.includes('admin');
}

/**
 * A backend description without its addresses ("openai-compatible: http://gpu:8000/v1" →
 * "openai-compatible"), for keys that are not admin: upstream URLs and file paths are the
 * operator's business.
 */
export function backendForKey(request: FastifyRequest, backend: string): string {
  if (isAdmin(request)) return backend;
  return backend
    .split('; ')
    .map((part) => part.split(': ')[0]!)
    .join('; ');
}

/** A key limited to some models may use only those (403 otherwise). */
export function checkModelAccess(request: FastifyRequest, model: string): void {
  const allowed = request.apiKey?.models;
  if (allowed && !allowed.includes('*') && !allowed.includes(model)) {
    throw appError('forbidden', `API key "${request.apiKey!.name}" may not use model '${model}'; it may use ${allowed.join(', ')}`, { model });
  }
}

/**
 * API keys on every route but the public ones: hashed, compared in constant time, sent as
 * `Authorization: Bearer` or `X-API-Key`; per-key scopes, models, rate and concurrency limits.
 */
export function registerAuth(app: FastifyInstance, auth: Readonly<Config['auth']>, meter: UsageMeter, maxConcurrentPerKey = 0): void {
  if (!auth.enabled) return;
  const ring = new KeyRing(loadKeys(auth.keys, auth.keyFile));
  const limits = new KeyLimits(Date.now, maxConcurrentPerKey);
  app.decorateRequest('apiKey', undefined);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    if (isPublic(request, path)) return;
    const presented = presentedKey(request);
    if (!presented) throw appError('unauthorized', 'an API key is required: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>"');
    const key = ring.find(presented);
    if (!key) throw appError('unauthorized', 'the API key is not valid');
    const scope = capabilities[`${request.method} ${request.routeOptions.url ?? ''}`];
    request.apiKey = key;
    if (scope) checkScope(request, scope);
    checkQuota(key, meter);
    const leave = limits.enter(key);
    reply.raw.once('close', leave);
  });
  // The rest of the request runs with its key in async context, so the core can count costs.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.apiKey) usageContext.run({ key: request.apiKey.name, meter }, done);
    else done();
  });
}

const quotaNames: Array<[keyof NonNullable<ApiKeyConfig['quota']>, Cost]> = [
  ['pagesPerDay', 'pages'],
  ['megapixelsPerDay', 'megapixels'],
  ['imagesPerDay', 'images'],
  ['tokensPerDay', 'tokens'],
];

/** A key whose daily quota is spent is refused until 00:00 UTC (the request that crosses it finishes). */
function checkQuota(key: ApiKeyConfig, meter: UsageMeter): void {
  if (!key.quota) return;
  const totals = meter.totals(key.name);
  for (const [setting, cost] of quotaNames) {
    const limit = key.quota[setting];
    if (limit && totals[cost] >= limit) {
      throw appError('rate_limited', `API key "${key.name}" has used its daily quota of ${limit} ${cost} (${Math.round(totals[cost] * 100) / 100} used); it resets at 00:00 UTC`, { limit, quota: cost }, { retryAfterSeconds: meter.secondsToReset() });
    }
  }
}
