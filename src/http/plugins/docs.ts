import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { version } from '../../shared/version.js';
import { documentRoute } from '../route-docs.js';

const redocBundle = createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js');

const redocPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>visiongate API - ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="/openapi.json"></redoc><script src="/redoc/redoc.standalone.js"></script></body></html>`;

/** OpenAPI spec at /openapi.json, Swagger UI at /docs and ReDoc at /redoc, as FastAPI serves them. */
export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'visiongate',
        version,
        description: 'OCR of images and PDFs, seed-compatible routes and the native API.',
      },
      tags: [
        { name: 'native', description: 'visiongate API (/api/v1)' },
        { name: 'ChatVLMLLM', description: 'ChatVLMLLM REST API, unchanged' },
        { name: 'InternVL OCR', description: 'InternVL engineering-document OCR service, unchanged' },
        { name: 'DeepSynth', description: 'DeepSynth summarizer API, unchanged' },
        { name: 'OpenAI', description: 'OpenAI-compatible /v1' },
        { name: 'operations', description: 'Health, metrics and the playground' },
      ],
      components: {
        // When auth is on (auth.keys), a key goes in either header; with auth off, no key is needed.
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <key>' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
      security: [{ bearerAuth: [] }, { apiKeyHeader: [] }, {}],
    },
    // Bodies and answers of the routes that read their own input, for the document only (route-docs.ts).
    transform: ({ schema, route }) =>
      documentRoute({ ...route, schema: schema as Record<string, unknown> | undefined }) as never,
  });
  // Swagger UI registers its own routes: they are public, declared for all of them here.
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, scope: 'public' };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });
  app.get('/openapi.json', { config: { scope: 'public' as const }, schema: { hide: true } }, async () => app.swagger());
  app.get('/redoc', { config: { scope: 'public' as const }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(redocPage),
  );
  let bundle: Promise<Buffer> | undefined;
  app.get(
    '/redoc/redoc.standalone.js',
    { config: { scope: 'public' as const }, schema: { hide: true } },
    async (_request, reply) => {
      bundle ??= readFile(redocBundle);
      return reply
        .type('application/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=86400')
        .send(await bundle);
    },
  );
}
