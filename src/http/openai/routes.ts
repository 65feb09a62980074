import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { openChat } from '../../core/chat.js';
import { isAppError, appError } from '../../errors/app-error.js';
import { renderOpenAi } from '../../errors/render.js';
import type { HttpServices, CoreServices } from '../http-services.js';
import { documentFetchPolicy } from '../fetch-policy.js';
import { parseChatBody } from '../chat-request.js';
import { openEventStream } from '../sse.js';

/** What these routes use of the services. */
type OpenAiServices = CoreServices & Pick<HttpServices, 'config' | 'models'>;

const created = (): number => Math.floor(Date.now() / 1000);

/** OpenAI-compatible /v1: chat completions (JSON and SSE) and the model list. */
export function registerOpenAiRoutes(app: FastifyInstance, services: OpenAiServices): void {
  const config = { surface: 'openai' as const };

  app.get('/v1/models', { config: { ...config, scope: 'key' as const }, schema: { tags: ['OpenAI'], summary: 'List models' } }, async () => ({
    object: 'list',
    data: services.models.list().map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: 'visiongate', capabilities: m.capabilities })),
  }));

  app.get('/v1/models/:model', { config: { ...config, scope: 'key' as const }, schema: { tags: ['OpenAI'], summary: 'One model' } }, async (request) => {
    const { id } = services.models.require((request.params as { model: string }).model);
    return { id, object: 'model', created: 0, owned_by: 'visiongate' };
  });

  app.post('/v1/chat/completions', { config: { ...config, scope: 'chat' as const }, schema: { tags: ['OpenAI'], summary: 'Chat completion (text and image_url parts; stream or not)' } }, async (request, reply) => {
    const parsed = await parseChatBody(request.body, documentFetchPolicy(services.config), request.work, services.config.limits.maxPromptChars, services.models.defaultChatModel);
    const chat = await openChat(services, parsed.model, { ...parsed.request, requestId: request.id }, request.work);
    const id = `chatcmpl-${randomUUID()}`;
    // Which backend answered ("openai-compatible: http://gpu-server:30024/v1", "embedded OCR (auto)"):
    // a proxy's clients can tell a vLLM answer from the embedded OCR's.
    const headers: Record<string, string> = { 'x-request-id': request.id, 'x-visiongate-backend': chat.model.engine.backend };
    if (chat.imagesAsText) headers['x-visiongate-image-ocr'] = String(chat.imagesAsText);
    try {
      if (!parsed.stream) {
        const result = await chat.complete(request.work);
        return reply.headers(headers).send({
          id,
          object: 'chat.completion',
          created: created(),
          model: parsed.model,
          choices: [{ index: 0, message: { role: 'assistant', content: result.content }, finish_reason: result.finishReason, logprobs: null }],
          usage: result.usage,
        });
      }
      const stream = openEventStream(request, reply, headers);
      const send = (data: unknown): void => stream.data(data);
      const chunk = (delta: Record<string, unknown>, finish: string | null) => ({ id, object: 'chat.completion.chunk', created: created(), model: parsed.model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });
      send(chunk({ role: 'assistant', content: '' }, null));
      try {
        for await (const piece of chat.stream(request.work)) {
          if (piece.type === 'delta') send(chunk({ content: piece.content }, null));
          else {
            send(chunk({}, piece.finishReason));
            if (parsed.includeUsage) send({ id, object: 'chat.completion.chunk', created: created(), model: parsed.model, choices: [], usage: piece.usage });
          }
        }
      } catch (error) {
        // Headers are gone: the error travels as an event, as OpenAI's own streams do.
        const known = isAppError(error) ? error : appError('internal', 'the stream failed');
        if (!isAppError(error)) request.log.error({ err: error }, 'chat stream failed');
        send(renderOpenAi(known));
      }
      stream.end('data: [DONE]\n\n');
      return reply;
    } finally {
      chat.release();
    }
  });
}
