/**
 * The /v1 wire shapes as TypeBox schemas, declared on the routes so /openapi.json documents them.
 * Request bodies are checked by Fastify against them (loosely: every field OpenAI may add passes),
 * then read in full by the parsers; answers are documented, not re-serialized (a pass-through keeps
 * every field the backend sent, so the routes serialize with JSON.stringify).
 */
import { type TSchema, Type } from '../../shared/typebox.js';

const nullable = <T extends TSchema>(schema: T): T => ({ ...schema, nullable: true });

export const OpenAiError = Type.Object(
  {
    error: Type.Object({
      message: Type.String(),
      type: Type.String(),
      param: nullable(Type.String()),
      code: nullable(Type.String()),
    }),
  },
  { description: "OpenAI's error object" },
);

const errors = {
  400: { ...OpenAiError, description: 'Invalid request, or a parameter this model cannot honour (`param` names it)' },
  401: { ...OpenAiError, description: 'API key required' },
  403: { ...OpenAiError, description: 'Not allowed for this API key' },
  404: { ...OpenAiError, description: 'Unknown model' },
  429: { ...OpenAiError, description: 'Rate limited (by visiongate or the backend); see Retry-After' },
  502: { ...OpenAiError, description: 'The backend failed' },
  503: { ...OpenAiError, description: "The model's queue is full, or the backend is unavailable; see Retry-After" },
  504: { ...OpenAiError, description: 'The backend timed out' },
};

const ToolCall = Type.Object({
  id: Type.String(),
  type: Type.Literal('function'),
  function: Type.Object({ name: Type.String(), arguments: Type.String() }),
});
const Usage = Type.Object({
  prompt_tokens: Type.Integer(),
  completion_tokens: Type.Integer(),
  total_tokens: Type.Integer(),
});

export const ChatCompletionRequest = Type.Object(
  {
    model: Type.Optional(
      nullable(
        Type.String({ description: 'A configured model name or alias (behind the OCRFlux proxy it may be left out)' }),
      ),
    ),
    // Roles and parts are checked by the parser, whose errors name the exact message and part.
    messages: Type.Array(Type.Object({}), {
      description: 'roles system, developer, user, assistant, tool; text and image_url parts; assistant tool_calls',
    }),
    stream: Type.Optional(nullable(Type.Boolean())),
    stream_options: Type.Optional(nullable(Type.Object({ include_usage: Type.Optional(Type.Boolean()) }))),
    max_tokens: Type.Optional(nullable(Type.Integer({ minimum: 1 }))),
    max_completion_tokens: Type.Optional(nullable(Type.Integer({ minimum: 1 }))),
    temperature: Type.Optional(nullable(Type.Number({ minimum: 0, maximum: 2 }))),
    top_p: Type.Optional(nullable(Type.Number({ minimum: 0, maximum: 1 }))),
    n: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 128 }))),
    tools: Type.Optional(Type.Array(Type.Object({ type: Type.String() }))),
  },
  {
    description:
      'Every other field of OpenAI chat completions (tool_choice, response_format, logprobs, seed, ...) is forwarded to OpenAI-compatible backends unchanged, or refused by name by backends that cannot honour it',
  },
);

export const ChatCompletion = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('chat.completion'),
    created: Type.Integer(),
    model: Type.String(),
    system_fingerprint: Type.Optional(Type.String()),
    choices: Type.Array(
      Type.Object({
        index: Type.Integer(),
        finish_reason: Type.String({ enum: ['stop', 'length', 'tool_calls', 'content_filter', 'function_call'] }),
        logprobs: nullable(Type.Object({})),
        message: Type.Object({
          role: Type.Literal('assistant'),
          content: nullable(Type.String()),
          refusal: nullable(Type.String()),
          tool_calls: Type.Optional(Type.Array(ToolCall)),
        }),
      }),
    ),
    usage: Type.Optional(Usage),
  },
  {
    description:
      'A chat completion; with stream: true, text/event-stream of chat.completion.chunk objects ending with data: [DONE]',
  },
);

export const ResponsesRequest = Type.Object(
  {
    model: Type.String(),
    // Not a union: Fastify's type coercion would turn a string into a one-item array. The translator checks it.
    input: Type.Unknown({
      description: 'a string, or a list of input items (messages, function_call, function_call_output)',
    }),
    instructions: Type.Optional(nullable(Type.String())),
    stream: Type.Optional(nullable(Type.Boolean())),
    max_output_tokens: Type.Optional(nullable(Type.Integer({ minimum: 1 }))),
    tools: Type.Optional(Type.Array(Type.Object({ type: Type.String() }))),
  },
  { description: 'Translated onto chat completions; fields with no chat equivalent are refused by name' },
);

export const ResponseObject = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('response'),
    created_at: Type.Integer(),
    status: Type.String({ enum: ['completed', 'incomplete', 'in_progress', 'failed'] }),
    model: Type.String(),
    output: Type.Array(Type.Object({ type: Type.String({ enum: ['message', 'function_call'] }), id: Type.String() })),
    output_text: Type.String(),
    usage: nullable(
      Type.Object({ input_tokens: Type.Integer(), output_tokens: Type.Integer(), total_tokens: Type.Integer() }),
    ),
  },
  {
    description:
      'A response; with stream: true, text/event-stream of typed events (response.created ... response.completed)',
  },
);

const Model = Type.Object({
  id: Type.String(),
  object: Type.Literal('model'),
  created: Type.Integer(),
  owned_by: Type.String(),
});
export const ModelList = Type.Object({ object: Type.Literal('list'), data: Type.Array(Model) });
export { Model };

export const ImageRequest = Type.Object(
  {
    prompt: Type.String(),
    model: Type.Optional(nullable(Type.String())),
    n: Type.Optional(nullable(Type.Integer({ minimum: 1 }))),
    size: Type.Optional(nullable(Type.String())),
    response_format: Type.Optional(nullable(Type.String({ enum: ['url', 'b64_json'] }))),
    stream: Type.Optional(nullable(Type.Boolean())),
    partial_images: Type.Optional(
      nullable(Type.Integer({ description: 'with stream: partial images to send, 0 to 3' })),
    ),
  },
  {
    description:
      'stream: true answers with server-sent events (image_generation.partial_image, then image_generation.completed). quality, style, output_format and other OpenAI fields go to an OpenAI images backend unchanged; other backends refuse them by name',
  },
);
export const ImagesResponse = Type.Object({
  created: Type.Integer(),
  data: Type.Array(
    Type.Object({
      url: Type.Optional(Type.String()),
      b64_json: Type.Optional(Type.String()),
      revised_prompt: Type.Optional(Type.String()),
    }),
  ),
});

/** Route schema parts: the documented answers, every error status the route can give, and no re-serialization. */
export function documented(ok: TSchema, statuses: Array<keyof typeof errors>): { response: Record<number, TSchema> } {
  return { response: { 200: ok, ...Object.fromEntries(statuses.map((s) => [s, errors[s]])) } };
}

/** Answers leave as the route built them (a backend's extra fields included), not through a schema serializer. */
export const plainJson = { serializerCompiler: () => (data: unknown) => JSON.stringify(data) };
