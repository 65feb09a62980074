/**
 * The least a proxy can do, for reference in the proxy bench: Fastify and undici, the stack
 * visiongate is built on, passing `/v1/chat/completions` to the upstream and its answer back
 * (JSON, or SSE piped through) with nothing else: no validation, auth, limits, metrics or logs.
 * What it adds over a direct call is the floor of what the stack can add on this machine.
 * Usage: node passthrough-process.js UPSTREAM_URL; prints its base URL, then serves until killed.
 */
import Fastify from 'fastify';
import { Agent, request } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: passthrough-process.js UPSTREAM_URL');
const agent = new Agent({ keepAliveTimeout: 30_000 });
const app = Fastify();
app.post('/v1/chat/completions', async (req, reply) => {
  const response = await request(`${upstream}/chat/completions`, {
    method: 'POST',
    body: JSON.stringify(req.body),
    headers: { 'content-type': 'application/json' },
    dispatcher: agent,
  });
  reply.code(response.statusCode).header('content-type', String(response.headers['content-type'] ?? ''));
  return reply.send(response.body);
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`passthrough at ${url}\n`);
