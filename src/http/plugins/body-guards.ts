import type { FastifyInstance } from 'fastify';
import { appError } from '../../errors/app-error.js';
import { sendError } from './error-handler.js';

/** The deepest nesting in a parsed JSON value, walked with an explicit stack (never recursion); stops past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(node) ? node : Object.values(node))
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Refusals every body gets before a route sees it: a Content-Encoding visiongate does not
 * decode (the body would otherwise be read as if it were plain: a gzip "document", JSON
 * that is not JSON), and JSON nested deeper than limits.maxJsonDepth (a later
 * JSON.stringify, for idempotency hashes or job storage, would overflow the stack).
 */
export function registerBodyGuards(app: FastifyInstance, maxJsonDepth: number, bodyTimeoutMs: number): void {
  // A body still arriving after limits.bodyTimeoutMs (slow-body floods): answer 408 naming the
  // limit and close the connection, so its admission slot (and its key's) is freed.
  app.addHook('onRequest', async (request, reply) => {
    const hasBody =
      request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
    if (!hasBody || request.raw.complete) return;
    const timer = setTimeout(() => {
      if (request.raw.complete || reply.raw.writableEnded) return;
      const error = appError(
        'body_timeout',
        `the request body did not arrive within ${bodyTimeoutMs / 1000} s (limits.bodyTimeoutMs)`,
        { limit: bodyTimeoutMs },
      );
      if (!reply.sent) void sendError(request, reply.header('connection', 'close'), error);
      setTimeout(() => request.raw.socket?.destroy?.(), 100).unref();
    }, bodyTimeoutMs);
    timer.unref();
    reply.raw.once('close', () => clearTimeout(timer));
  });
  app.addHook('onRequest', async (request) => {
    const encoding = request.headers['content-encoding']?.trim().toLowerCase();
    if (!encoding || encoding === 'identity') return;
    const hasBody =
      request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
    if (!hasBody) return;
    throw appError(
      'unsupported_encoding',
      `the body has Content-Encoding "${encoding.slice(0, 40)}", which visiongate does not decode; send it uncompressed (Content-Encoding: identity or none)`,
      { field: 'content-encoding', received: encoding.slice(0, 40), allowed: ['identity'] },
    );
  });
  app.addHook('preValidation', async (request) => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || Buffer.isBuffer(body)) return;
    const depth = jsonDepth(body, maxJsonDepth);
    if (depth > maxJsonDepth)
      throw appError(
        'bad_request',
        `the JSON body is nested more than ${maxJsonDepth} levels deep (limits.maxJsonDepth)`,
        { limit: maxJsonDepth },
      );
  });
}

const secretParameters = /^(?:api[_-]?key|key|token|access[_-]?token|auth|authorization|password|secret)$/i;

/** A URL for the log with the values of secret-looking query parameters (?api_key=…) replaced. */
export function redactUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const query = url
    .slice(mark + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      let name = eq < 0 ? pair : pair.slice(0, eq);
      try {
        name = decodeURIComponent(name.replaceAll('+', ' '));
      } catch {
        // An undecodable name is logged as sent.
      }
      return eq >= 0 && secretParameters.test(name) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    })
    .join('&');
  return `${url.slice(0, mark)}?${query}`;
}
