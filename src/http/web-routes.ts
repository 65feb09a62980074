import { readdir, readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const root = new URL('../../..', import.meta.url); // the package root, from dist/src/http/
const policy =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/** Built page files by name (the page's HTML and CSS from web/, its scripts from dist/web/). */
async function loadFiles(): Promise<Map<string, { body: Buffer; type: string }>> {
  const files = new Map<string, { body: Buffer; type: string }>();
  files.set('index.html', { body: await readFile(new URL('web/index.html', root)), type: 'text/html; charset=utf-8' });
  files.set('styles.css', { body: await readFile(new URL('web/styles.css', root)), type: 'text/css; charset=utf-8' });
  for (const name of await readdir(new URL('dist/web/', root))) {
    if (name.endsWith('.js'))
      files.set(name, {
        body: await readFile(new URL(`dist/web/${name}`, root)),
        type: 'application/javascript; charset=utf-8',
      });
  }
  return files;
}

/** Browsers ask for HTML first; the seeds' JSON clients (curl, requests) send * / * or JSON. */
export function wantsHtml(request: FastifyRequest): boolean {
  return /(^|,)\s*text\/html/.test(request.headers.accept ?? '');
}

/** The playground at /ui (and at / for browsers), served from memory with a strict CSP. */
export function registerWebRoutes(
  app: FastifyInstance,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  let files: ReturnType<typeof loadFiles> | undefined;
  const send = async (name: string, reply: FastifyReply): Promise<FastifyReply> => {
    files ??= loadFiles();
    const file = (await files).get(name);
    if (!file) {
      reply.callNotFound();
      return reply;
    }
    return reply
      .type(file.type)
      .header('content-security-policy', policy)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache')
      .send(file.body);
  };
  app.get(
    '/ui',
    {
      config: { scope: 'public' as const },
      schema: {
        tags: ['operations'],
        summary: 'The playground page',
        response: { 200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    (_request, reply) => send('index.html', reply),
  );
  app.get('/ui/:file', { config: { scope: 'public' as const }, schema: { hide: true } }, (request, reply) =>
    send((request.params as { file: string }).file, reply),
  );
  return (_request, reply) => send('index.html', reply);
}
