import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { registerChatVlmLlmRoutes } from './http/compat/chatvlmllm.js';
import { registerDeepSynthRoutes } from './http/compat/deepsynth.js';
import { registerInternVlRoutes } from './http/compat/internvl.js';
import { registerSummarizeRoute } from './http/native/summarize-route.js';
import { registerOpenAiRoutes, registerResponsesRoute } from './http/openai/routes.js';
import { registerHealthRoutes } from './http/health-route.js';
import { registerModelRoutes } from './http/native/models-route.js';
import { collectUpload } from './http/collect-upload.js';
import { registerAdmission } from './http/plugins/admission.js';
import { registerAuth, requireDeclaredScopes } from './http/plugins/auth.js';
import { redactUrl, registerBodyGuards } from './http/plugins/body-guards.js';
import { registerDocs } from './http/plugins/docs.js';
import { registerMetrics } from './http/plugins/metrics.js';
import { registerWebRoutes } from './http/web-routes.js';
import { registerOcrRoute } from './http/native/ocr-route.js';
import { registerJobRoutes } from './http/native/jobs-route.js';
import { registerImageRoutes } from './http/native/images-route.js';
import { registerOpenAiImageRoutes } from './http/openai/images-route.js';
import { registerStableDiffusionRoutes } from './http/compat/stable-diffusion.js';
import { registerErrorHandler } from './http/plugins/error-handler.js';
import { registerRequestSignal } from './http/plugins/request-signal.js';
import type { Services } from './services.js';

export interface AppOptions {
  /** false for silence (tests), or a stream to log to instead of stdout. */
  logger?: false | { stream: NodeJS.WritableStream };
}

/** One access-log line a request ("request completed", with its status and time), not Fastify's two: logging was the largest cost on the proxy's hot path. */
class OneLineLog extends LogController {
  override incomingRequest(): void {}
}

const safeRequestId = /^[\w.:-]{1,128}$/;

/** Builds the Fastify app around ready services. Never listens (tests use inject or listen themselves). */
export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const { limits, server } = services.config;
  const app = Fastify({
    // Keys never reach the logs: both headers that may carry one are redacted.
    // stdout is written asynchronously: a synchronous write per log line blocked the event loop whenever
    // the reader of the pipe lagged (a quarter of a millisecond a request in the proxy bench). Lines are
    // gathered up to 8 KB or 100 ms before a write (one syscall for many requests: 12% less server CPU per
    // proxied request in the bench); pino flushes the rest on exit (a kill -9 loses at most 100 ms of lines).
    logger:
      options.logger === false
        ? false
        : {
            level: services.config.log.level,
            redact: ['req.headers.authorization', 'req.headers["x-api-key"]'],
            // A key sent in the query string (refused, but still sent) never reaches the log either.
            serializers: {
              req: (req: {
                method: string;
                url: string;
                host?: string;
                ip?: string;
                socket?: { remotePort?: number };
              }) => ({
                method: req.method,
                url: redactUrl(req.url),
                host: req.host,
                remoteAddress: req.ip,
                remotePort: req.socket?.remotePort,
              }),
            },
            // Access lines leave in batches (8 KB or every 100 ms): one write per request cost the proxy path CPU.
            stream: options.logger
              ? options.logger.stream
              : pino.destination({ dest: 1, sync: false, minLength: 8192, periodicFlush: 100 }),
          },
    // base64 JSON is 4/3 of the document, plus room for the other fields.
    bodyLimit: Math.ceil(limits.maxDocumentBytes * 1.37) + 64 * 1024,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && safeRequestId.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    logController: new OneLineLog(),
    // Bounds the drain on shutdown: a connection that goes idle after close() began waits at most this long.
    keepAliveTimeout: 5000,
  });
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    // Refused mid-upload: say the connection ends, then close it the lingering way (as Apache and nginx
    // do): half-close after the answer and keep reading (discarding) what the client still sends until it
    // stops, at most 2 s. Closing at once would make the kernel reset the connection when the client's next
    // bytes arrive, and a reset discards the 413 the client had not read yet.
    if (reply.statusCode === 413 && !request.raw.complete) {
      void reply.header('connection', 'close');
      request.raw.resume();
      const socket = request.raw.socket;
      // Node ends a `Connection: close` response with socket.destroySoon(): make that one linger.
      // (app.inject's sockets are stand-ins without these methods: nothing to linger there.)
      if (typeof socket?.destroy === 'function')
        socket.destroySoon = () => {
          socket.end();
          socket.resume();
          const timer = setTimeout(() => socket.destroy(), 2000).unref();
          socket.once('close', () => clearTimeout(timer));
        };
    }
  });
  // Before any route: every route must declare who may call it (config.scope).
  requireDeclaredScopes(app);
  // First: the spec sees every route registered after it (/metrics included).
  await registerDocs(app);
  // JSON past 1 MB is parsed in a worker thread: JSON.parse of a 50 MB body would hold the
  // event loop for a second or more (every other client, /health included, waiting).
  registerErrorHandler(app, limits.maxDocumentBytes, (body, request) => {
    // Fastify gathers a body this large into a buffer of its own; a view into a larger one is copied first.
    const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const bytes = owned ? body : new Uint8Array(body);
    return services.workers.run({ type: 'parse-json', bytes }, request.work, [bytes.buffer as ArrayBuffer]);
  });
  registerRequestSignal(app, server.requestTimeoutMs);
  registerMetrics(app, services.metrics);
  registerAuth(app, services.config.auth, services.usage, limits.maxConcurrentPerKey);
  registerAdmission(app, limits.maxConcurrentRequests);
  registerBodyGuards(app, limits.maxJsonDepth, limits.bodyTimeoutMs);

  // Any body that is not JSON or multipart is the document itself: read with its limit
  // enforced as bytes arrive, spooled to disk past 256 KB so concurrent uploads cost no memory.
  app.addContentTypeParser('*', (_request, payload, done) => {
    collectUpload(payload, limits.maxDocumentBytes).then(
      (body) => done(null, body),
      (error: Error) => done(error),
    );
  });
  // CORS stays closed (no headers at all) unless origins are configured.
  // Every method a route takes (the seeds' DELETE /models/{name} and DELETE /cache too), as the
  // FastAPI seeds' CORSMiddleware allowed them.
  if (server.corsOrigins.length) {
    // A browser sends no key with a preflight: the OPTIONS route the CORS plugin adds is public.
    app.addHook('onRoute', (route) => {
      if (route.method === 'OPTIONS' && !route.config?.scope) route.config = { ...route.config, scope: 'key' }; // preflights pass the auth hook by themselves
    });
    await app.register(cors, {
      origin: [...server.corsOrigins],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      exposedHeaders: ['x-request-id', 'retry-after', 'x-visiongate-image-ocr', 'x-visiongate-backend'],
    });
  }
  await app.register(multipart, {
    limits: { fileSize: limits.maxDocumentBytes, files: 20, fields: 50, fieldSize: 1024 * 1024, parts: 100 },
  });

  registerHealthRoutes(app, services, registerWebRoutes(app));
  registerOcrRoute(app, services);
  registerModelRoutes(app, services);
  registerChatVlmLlmRoutes(app, services);
  registerInternVlRoutes(app, services);
  registerSummarizeRoute(app, services);
  registerDeepSynthRoutes(app, services);
  registerOpenAiRoutes(app, services);
  registerResponsesRoute(app, services);
  registerJobRoutes(app, services);
  registerImageRoutes(app, services);
  registerOpenAiImageRoutes(app, services);
  registerStableDiffusionRoutes(app, services);
  return app;
}
