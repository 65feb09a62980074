import type { FastifyInstance } from 'fastify';
import { openChat } from '../../core/chat.js';
import { isAppError, appError } from '../../errors/app-error.js';
import { renderOpenAi } from '../../errors/render.js';
import type { HttpServices, CoreServices } from '../http-services.js';
import { documentFetchPolicy } from '../fetch-policy.js';
import { Type } from '../../shared/typebox.js';
import { parseChatBody } from '../chat-request.js';
import {
  ChatCompletion,
  ChatCompletionRequest,
  documented,
  Model,
  ModelList,
  plainJson,
  ResponseObject,
  ResponsesRequest,
} from './schemas.js';
import { ChunkRenderer, completionBody } from './chat-response.js';
import { responsesToChat } from './responses-request.js';
import { ResponseBuilder, ResponseEvents } from './responses-response.js';
import { openEventStream } from '../sse.js';

/** What these routes use of the services. */
type OpenAiServices = CoreServices & Pick<HttpServices, 'config' | 'models'>;

/** OpenAI-compatible /v1: chat completions (JSON and SSE) and the model list. */
export function registerOpenAiRoutes(app: FastifyInstance, services: OpenAiServices): void {
  const config = { surface: 'openai' as const };

  app.get(
    '/v1/models',
    {
      config: { ...config, scope: 'key' as const },
      schema: { tags: ['OpenAI'], summary: 'List models', ...documented(ModelList, [401]) },
      ...plainJson,
    },
    async () => ({
      object: 'list',
      data: services.models
        .list()
        .map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: 'visiongate', capabilities: m.capabilities })),
    }),
  );

  app.get(
    '/v1/models/:model',
    {
      config: { ...config, scope: 'key' as const },
      schema: {
        tags: ['OpenAI'],
        summary: 'One model',
        params: Type.Object({ model: Type.String() }),
        ...documented(Model, [401, 404]),
      },
      ...plainJson,
    },
    async (request) => {
      const { id } = services.models.require((request.params as { model: string }).model);
      return { id, object: 'model', created: 0, owned_by: 'visiongate' };
    },
  );

  app.post(
    '/v1/chat/completions',
    {
      config: { ...config, scope: 'chat' as const },
      schema: {
        tags: ['OpenAI'],
        summary: 'Chat completion: every parameter forwarded to OpenAI-compatible backends; stream or not',
        body: ChatCompletionRequest,
        ...documented(ChatCompletion, [400, 401, 403, 404, 429, 502, 503, 504]),
      },
      ...plainJson,
    },
    async (request, reply) => {
      const parsed = await parseChatBody(
        request.body,
        documentFetchPolicy(services.config),
        request.work,
        services.config.limits.maxPromptChars,
        services.models.defaultChatModel,
      );
      const chat = await openChat(services, parsed.model, { ...parsed.request, requestId: request.id }, request.work);
      // Which backend answered ("openai-compatible: http://gpu-server:30024/v1", "embedded OCR (auto)"):
      // a proxy's clients can tell a vLLM answer from the embedded OCR's.
      const headers: Record<string, string> = {
        'x-request-id': request.id,
        'x-visiongate-backend': chat.model.engine.backend,
      };
      if (chat.imagesAsText) headers['x-visiongate-image-ocr'] = String(chat.imagesAsText);
      try {
        if (!parsed.stream)
          return reply.headers(headers).send(completionBody(await chat.complete(request.work), parsed.model));
        const pieces = chat.stream(request.work)[Symbol.asyncIterator]();
        // Nothing is sent before the first chunk: a failure up to here (the upstream's 4xx/5xx, a
        // refused parameter) is answered with its real status and OpenAI's error body, not inside a 200.
        let next = await pieces.next();
        const stream = openEventStream(request, reply, headers);
        const render = new ChunkRenderer(parsed.model, parsed.includeUsage);
        try {
          for (; !next.done; next = await pieces.next())
            for (const event of render.render(next.value)) stream.data(event);
        } catch (error) {
          // Headers are gone: the error travels as an event, as OpenAI's own streams do.
          const known = isAppError(error) ? error : appError('internal', 'the stream failed');
          if (!isAppError(error)) request.log.error({ err: error }, 'chat stream failed');
          stream.data(renderOpenAi(known));
        }
        stream.end('data: [DONE]\n\n');
        return reply;
      } finally {
        chat.release();
      }
    },
  );
}

/** POST /v1/responses: OpenAI's Responses API, translated onto the same chat runtime as /v1/chat/completions. */
export function registerResponsesRoute(app: FastifyInstance, services: OpenAiServices): void {
  app.post(
    '/v1/responses',
    {
      config: { scope: 'chat' as const, surface: 'openai' },
      schema: {
        tags: ['OpenAI'],
        summary: 'Create a model response (Responses API, mapped onto chat completions; stream or not)',
        body: ResponsesRequest,
        ...documented(ResponseObject, [400, 401, 403, 404, 429, 502, 503, 504]),
      },
      ...plainJson,
    },
    async (request, reply) => {
      const translated = responsesToChat(request.body);
      const parsed = await parseChatBody(
        translated.chat,
        documentFetchPolicy(services.config),
        request.work,
        services.config.limits.maxPromptChars,
      );
      services.models.requireForChat(parsed.model); // model access is checked there, for the caller's key
      const chat = await openChat(services, parsed.model, { ...parsed.request, requestId: request.id }, request.work);
      const response = new ResponseBuilder(parsed.model, translated.echo);
      const headers: Record<string, string> = { 'x-request-id': request.id };
      if (chat.imagesAsText) headers['x-visiongate-image-ocr'] = String(chat.imagesAsText);
      try {
        if (!translated.stream)
          return reply.headers(headers).send(response.complete(await chat.complete(request.work)));
        const pieces = chat.stream(request.work)[Symbol.asyncIterator]();
        // As for chat completions: a failure before the first chunk keeps its real status.
        let next = await pieces.next();
        const stream = openEventStream(request, reply, headers);
        const events = new ResponseEvents(response);
        const send = (list: Array<[string, unknown]>): void => {
          for (const [name, data] of list) stream.event(name, data);
        };
        send(events.start());
        try {
          for (; !next.done; next = await pieces.next()) send(events.render(next.value));
        } catch (error) {
          const known = isAppError(error) ? error : appError('internal', 'the stream failed');
          if (!isAppError(error)) request.log.error({ err: error }, 'responses stream failed');
          send(events.error(renderOpenAi(known) as { error: { message: string; code: unknown; param: unknown } }));
        }
        stream.end();
        return reply;
      } finally {
        chat.release();
      }
    },
  );
}
