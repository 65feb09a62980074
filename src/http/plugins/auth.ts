import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import { KeyLimits } from '../../auth/key-limits.js';
import { KeyRing, loadKeys } from '../../auth/keys.js';
import type { ApiKeyConfig, Config } from '../../config/schema.js';
import { appError } from '../../errors/app-error.js';
import { callerContext, type UsageMeter, type Cost } from '../../runtime/usage-meter.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key the request authenticated with (auth on). */
    apiKey?: ApiKeyConfig;
  }
  interface FastifyContextConfig {
    /**
     * Who may call the route, declared by every route (checked at start-up): `public` (no key),
     * `key` (any valid key; jobs check the scopes of what they carry), or the scope a key needs.
     */
    scope?: RouteScope;
    /** A request this predicate accepts is public even on a keyed route (the playground page at /). */
    publicWhen?: (request: FastifyRequest) => boolean;
  }
}

export type Scope = NonNullable<ApiKeyConfig['scopes']>[number];
export type RouteScope = Scope | 'public' | 'key';

/**
 * A CORS preflight: browsers send it without credentials by design (Fetch standard), so
 * asking it for a key would make every keyed route unreachable from a configured frontend.
 * It runs nothing: it is answered with the CORS headers only.
 */
function isPreflight(request: FastifyRequest): boolean {
  return (
    request.method === 'OPTIONS' &&
    typeof request.headers.origin === 'string' &&
    typeof request.headers['access-control-request-method'] === 'string'
  );
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
  if (key?.scopes && !key.scopes.includes(scope))
    throw appError(
      'forbidden',
      `API key "${key.name}" has no "${scope}" scope; it has ${key.scopes.join(', ') || 'none'}`,
      { scope },
    );
}

/** The operator: no keys (auth off), or a key with the admin scope (or no scope list: every scope). */
export function isAdmin(request: FastifyRequest): boolean {
  const key = request.apiKey;
  return !key?.scopes || key.scopes.includes('admin');
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

/** Every route's declared scope, as registered (HEAD routes Fastify adds included). */
export interface DeclaredRoute {
  method: string;
  url: string;
  scope: RouteScope | undefined;
}

const declared = new WeakMap<FastifyInstance, DeclaredRoute[]>();

/** The routes of an app with their declared scopes (for the route-scope test and the docs). */
export const declaredRoutes = (app: FastifyInstance): readonly DeclaredRoute[] => declared.get(app) ?? [];

/**
 * Every route must declare its scope: the app refuses to start otherwise. Routes that a
 * plugin registers (Swagger UI) get theirs from the context they are registered in.
 */
export function requireDeclaredScopes(app: FastifyInstance): void {
  const routes: Array<{ method: string | string[]; url: string; config?: { scope?: RouteScope } }> = [];
  app.addHook('onRoute', (route) => {
    routes.push(route as (typeof routes)[number]);
  });
  app.addHook('onReady', async () => {
    const table = routes.flatMap((r) =>
      [r.method].flat().map((method) => ({ method, url: r.url, scope: r.config?.scope })),
    );
    declared.set(app, table);
    const missing = table.filter((r) => !r.scope).map((r) => `${r.method} ${r.url}`);
    if (missing.length) throw new Error(`routes without a declared scope (config.scope): ${missing.join(', ')}`);
  });
}

/**
 * API keys on every route but the public ones: hashed, compared in constant time, sent as
 * `Authorization: Bearer` or `X-API-Key`; the route's declared scope (config.scope), checked here
 * and nowhere else; rate, concurrency and quota limits. Model access is checked where model
 * names are resolved (runtime/model-access.ts), with the key's models carried in async context.
 */
export function registerAuth(
  app: FastifyInstance,
  auth: Readonly<Config['auth']>,
  meter: UsageMeter,
  maxConcurrentPerKey = 0,
): void {
  if (!auth.enabled) return;
  const ring = new KeyRing(loadKeys(auth.keys, auth.keyFile));
  const limits = new KeyLimits(Date.now, maxConcurrentPerKey);
  app.decorateRequest('apiKey', undefined);
  app.addHook('onRequest', async (request, reply) => {
    // An unknown path (404) still needs a key: it says nothing to strangers.
    const config: FastifyContextConfig = request.is404 ? {} : request.routeOptions.config;
    const scope = config.scope ?? 'key';
    if (scope === 'public' || config.publicWhen?.(request) || isPreflight(request)) return;
    // A wrong method on a public path (POST /health) learns its 405 without a key, as before.
    if (request.is404 && declaredRoutes(app).some((r) => r.url === request.url.split('?')[0] && r.scope === 'public'))
      return;
    const presented = presentedKey(request);
    if (!presented)
      throw appError(
        'unauthorized',
        'an API key is required: send it as "Authorization: Bearer <key>" or "X-API-Key: <key>"',
      );
    const key = ring.find(presented);
    if (!key) throw appError('unauthorized', 'the API key is not valid');
    request.apiKey = key;
    if (scope !== 'key') checkScope(request, scope);
    checkQuota(key, meter);
    const leave = limits.enter(key);
    reply.raw.once('close', leave);
  });
  // The rest of the request runs with its key in async context, so the core can count costs.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.apiKey)
      callerContext.run(
        { key: request.apiKey.name, meter, ...(request.apiKey.models ? { models: request.apiKey.models } : {}) },
        done,
      );
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
      throw appError(
        'rate_limited',
        `API key "${key.name}" has used its daily quota of ${limit} ${cost} (${Math.round(totals[cost] * 100) / 100} used); it resets at 00:00 UTC`,
        { limit, quota: cost },
        { retryAfterSeconds: meter.secondsToReset() },
      );
    }
  }
}
