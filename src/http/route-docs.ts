/**
 * The OpenAPI documentation of the routes whose handlers read their own input (seed routes with
 * their seeds' error shapes, multipart uploads, raw documents, jobs, images, health): request bodies
 * and answers, per status, in one table. It documents; it does not validate (a schema on those routes
 * would change the seeds' own error answers), and a test checks every route's live answers against
 * it. The /v1 routes carry their TypeBox schemas themselves (they validate too).
 */
import { type TSchema, Type } from '../shared/typebox.js';
import type { Surface } from '../errors/render.js';

const text = Type.String();
const number = Type.Number();
const integer = Type.Integer();
const nullable = (schema: TSchema): TSchema => Type.Union([schema, Type.Null()]);
const list = (schema: TSchema): TSchema => Type.Array(schema);
/** An object with at least these fields (answers may carry more). */
const obj = (properties: Record<string, TSchema>, optional: string[] = []): TSchema =>
  Type.Object(
    Object.fromEntries(
      Object.entries(properties).map(([k, v]) => [k, optional.includes(k) ? Type.Optional(v) : v]),
    ) as Record<string, TSchema>,
  );
const anyObject = Type.Object({});
const binary = Type.String({ format: 'binary' });

/** Each surface's error body: FastAPI's detail (string or validation list), Flask's error, problem details, OpenAI's error. */
const errorBodies: Record<Surface, { contentType: string; schema: TSchema }> = {
  compat: {
    contentType: 'application/json',
    schema: obj({
      detail: Type.Union([text, list(obj({ loc: list(Type.Union([text, integer])), msg: text, type: text }))]),
    }),
  },
  flask: { contentType: 'application/json', schema: obj({ error: text }) },
  native: {
    contentType: 'application/problem+json',
    schema: obj({ type: text, title: text, status: integer, detail: text, code: text }),
  },
  openai: {
    contentType: 'application/json',
    schema: obj({ error: obj({ message: text, type: text, param: nullable(text), code: nullable(text) }) }),
  },
};

const errorTitles: Record<number, string> = {
  400: 'Bad request (the message names the field)',
  401: 'No valid API key (when keys are on)',
  403: 'The key lacks the scope or the model',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported document type',
  422: 'Invalid field (FastAPI-style validation)',
  429: 'Rate or quota limit (Retry-After)',
  502: 'The backend failed',
  503: 'Overloaded or not configured (Retry-After)',
  504: 'The backend timed out',
};

/** The error answers of a route, in its surface's shape. */
export function errorResponses(surface: Surface, statuses: number[]): Record<number, unknown> {
  const { contentType, schema } = errorBodies[surface];
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: errorTitles[status] ?? 'Error', content: { [contentType]: { schema } } },
    ]),
  );
}

const json = (schema: TSchema, description = 'OK'): unknown => ({
  description,
  content: { 'application/json': { schema } },
});
const content = (types: Record<string, TSchema>, description: string): unknown => ({
  description,
  content: Object.fromEntries(Object.entries(types).map(([type, schema]) => [type, { schema }])),
});

const job = obj({
  id: text,
  object: Type.Literal('job'),
  type: text,
  status: Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s))),
  queue_position: nullable(integer),
  progress: nullable(anyObject),
  attempts: integer,
  created_at: text,
  started_at: nullable(text),
  finished_at: nullable(text),
  expires_at: nullable(text),
  idempotency_key: nullable(text),
  callback: nullable(anyObject),
  error: nullable(anyObject),
});
const page = (item: TSchema): TSchema =>
  obj({ object: Type.Literal('list'), data: list(item), next_cursor: nullable(text), has_more: Type.Boolean() });
const imageRef = obj({ id: text, url: text, seed: integer, width: integer, height: integer }, ['url']);
const ocrResult = obj({
  text,
  markdown: text,
  pages: list(anyObject),
  document: obj({ type: text, bytes: integer, page_count: integer, pages_processed: integer }),
  languages: list(text),
  timings: obj({ total_ms: number }),
});
const health = obj({
  status: Type.Literal('healthy'),
  service: text,
  version: text,
  uptime_s: integer,
  timestamp: text,
  model_loaded: Type.Boolean(),
  loaded_models: list(text),
  engines: anyObject,
});
const summaryAnswer = obj({
  summary: text,
  original_length: integer,
  summary_length: integer,
  compression_ratio: number,
  parameters: anyObject,
  timestamp: text,
});
const upload = (fields: Record<string, TSchema>, required: string[]): TSchema =>
  Type.Object(
    Object.fromEntries(
      Object.entries(fields).map(([k, v]) => [k, required.includes(k) ? v : Type.Optional(v)]),
    ) as Record<string, TSchema>,
  );
const multipart = (schema: TSchema): { consumes: string[]; body: TSchema } => ({
  consumes: ['multipart/form-data'],
  body: schema,
});
const generateFields = {
  prompt: text,
  negative_prompt: text,
  num_inference_steps: integer,
  guidance_scale: number,
  width: integer,
  height: integer,
  seed: integer,
  n: integer,
  style: text,
  model: text,
  user_id: text,
  init_image: text,
  strength: number,
};
/** The Stable Diffusion seed's generation request: a prompt, the rest optional. */
const generateBody = obj(
  generateFields,
  Object.keys(generateFields).filter((k) => k !== 'prompt'),
);
const documentBody = {
  consumes: ['application/json', 'application/octet-stream', 'multipart/form-data'],
  body: obj({ document: text, url: text, options: anyObject }, ['document', 'url', 'options']),
};

/** What a route documents beyond its tags and summary. */
export interface RouteDoc {
  /** Request body (for the docs only) and its content types. */
  body?: TSchema;
  consumes?: string[];
  /** Answers by status: a schema (JSON) or a full response object (other content types). */
  responses: Record<number, unknown>;
  /** Error statuses, in the route's surface's shape. */
  errors: number[];
}

const keyed = [401, 403, 429];
const modelErrors = [...keyed, 404, 502, 503, 504];

/** Every route documented here, by "METHOD url" as registered. */
export const routeDocs: Record<string, RouteDoc> = {
  'GET /metrics': {
    responses: { 200: content({ 'text/plain': text }, 'Prometheus text exposition format') },
    errors: keyed,
  },
  'GET /ui': { responses: { 200: content({ 'text/html': text }, 'The playground page') }, errors: [] },
  'GET /': {
    responses: {
      200: content(
        {
          'application/json': obj({ message: text, service: text, version: text, docs: text, health: text, api: text }),
          'text/html': text,
        },
        'What is served where; the playground page for a browser',
      ),
    },
    errors: [],
  },
  'GET /health': {
    responses: { 200: json(health, 'Liveness: every field any seed client reads') },
    errors: [],
  },
  'GET /ready': {
    responses: {
      200: json(obj({ status: Type.Literal('ready'), engines: list(text), job_store: anyObject }), 'Ready'),
      503: json(obj({ status: Type.Literal('not ready'), engines: list(text), job_store: anyObject }), 'Not ready'),
    },
    errors: [],
  },
  'POST /api/v1/ocr': {
    ...documentBody,
    responses: {
      200: content(
        { 'application/json': ocrResult, 'text/plain': text, 'text/markdown': text },
        'The OCR result (output=json), or its text or Markdown',
      ),
      202: json(job, 'Queued as a job (async=true or past the wait)'),
    },
    errors: [400, ...keyed, 413, 415, 422, 503],
  },
  'GET /api/v1/models': { responses: { 200: json(obj({ models: list(anyObject) })) }, errors: keyed },
  'DELETE /api/v1/models/{name}': {
    responses: { 200: json(obj({ id: text, unloaded: Type.Boolean(), was_loaded: Type.Boolean() })) },
    errors: [...keyed, 404],
  },
  'POST /api/v1/summarize': {
    ...documentBody,
    responses: {
      200: content(
        { 'application/json': obj({ summary: text }), 'text/event-stream': text },
        'The summary (SSE with stream: true)',
      ),
      202: json(job, 'Queued as a job'),
    },
    errors: [400, ...keyed, 413, 415, 422, 502, 503],
  },
  'POST /api/v1/jobs': {
    body: obj({ type: text, input: anyObject, options: anyObject, callback_url: text }, ['options', 'callback_url']),
    responses: { 202: json(job, 'Created (Location: /api/v1/jobs/{id})'), 200: json(job, 'An idempotent repeat') },
    errors: [400, ...keyed, 413, 422, 503],
  },
  'GET /api/v1/jobs': { responses: { 200: json(page(job)) }, errors: [400, ...keyed] },
  'POST /api/v1/batches': {
    body: obj({ items: list(anyObject), callback_url: text }, ['callback_url']),
    responses: { 202: json(job, 'Created'), 200: json(job, 'An idempotent repeat') },
    errors: [400, ...keyed, 413, 422, 503],
  },
  'GET /api/v1/jobs/{id}': { responses: { 200: json(job) }, errors: [...keyed, 404] },
  'DELETE /api/v1/jobs/{id}': {
    responses: { 200: json(obj({ ...jobFields(), cancel_requested: Type.Boolean() })) },
    errors: [...keyed, 404],
  },
  'GET /api/v1/batches/{id}': { responses: { 200: json(obj({ items: list(anyObject) })) }, errors: [...keyed, 404] },
  'GET /api/v1/jobs/{id}/events': {
    responses: { 200: content({ 'text/event-stream': text }, 'job-status, job-progress, job-end events') },
    errors: [...keyed, 404],
  },
  'POST /api/v1/images': {
    body: generateBody,
    responses: {
      200: json(
        obj({
          object: Type.Literal('image.generation'),
          model: text,
          seed: integer,
          duration_ms: number,
          parameters: anyObject,
          images: list(imageRef),
        }),
      ),
      202: json(job, 'Queued as a job (async=true)'),
    },
    errors: [400, ...modelErrors, 422],
  },
  'GET /api/v1/images': {
    responses: { 200: json(page(obj({ job_id: text, status: text, images: list(imageRef) }))) },
    errors: [400, ...keyed],
  },
  'GET /api/v1/images/{id}': {
    responses: { 200: content({ 'image/png': binary }, 'The PNG') },
    errors: [...keyed, 404],
  },
  // ChatVLMLLM (FastAPI): multipart uploads, FastAPI's errors.
  'GET /models': {
    responses: { 200: json(obj({ available: list(obj({ id: text })), loaded: list(text) })) },
    errors: keyed,
  },
  'POST /ocr': {
    ...multipart(upload({ file: binary, model: text, language: text, prompt: text }, ['file'])),
    responses: {
      200: json(
        obj({ text, model: text, processing_time: number, image_size: list(integer), language: nullable(text) }),
      ),
    },
    errors: [400, ...modelErrors, 413, 422],
  },
  'POST /chat': {
    ...multipart(
      upload({ file: binary, prompt: text, model: text, temperature: number, max_tokens: integer }, ['file']),
    ),
    responses: { 200: json(obj({ response: text, model: text, processing_time: number, prompt: text })) },
    errors: [400, ...modelErrors, 413, 422],
  },
  'POST /batch/ocr': {
    ...multipart(upload({ files: list(binary), model: text, language: text }, ['files'])),
    responses: {
      200: json(obj({ results: list(anyObject), total: integer, successful: integer, failed: integer })),
    },
    errors: [400, ...modelErrors, 413, 422],
  },
  'DELETE /models/{model_name}': {
    responses: { 200: json(obj({ status: text, message: text })) },
    errors: [...keyed, 404],
  },
  // InternVL OCR service (FastAPI).
  'GET /model/info': { responses: { 200: json(anyObject) }, errors: keyed },
  'POST /ocr/process': {
    ...multipart(upload({ file: binary, prompt: text }, ['file'])),
    responses: {
      200: json(
        obj({
          status: Type.Literal('success'),
          raw_text: text,
          confidence: number,
          metadata: anyObject,
          structured_content: anyObject,
          file_info: anyObject,
        }),
      ),
    },
    errors: [400, ...modelErrors, 413, 422],
  },
  'POST /ocr/batch': {
    ...multipart(upload({ files: list(binary), prompt: text }, ['files'])),
    responses: {
      200: json(obj({ status: text, results: list(anyObject), total: integer, successful: integer, failed: integer })),
    },
    errors: [400, ...modelErrors, 413, 422],
  },
  'POST /model/reload': {
    responses: {
      200: json(obj({ status: text, message: text, model: text, model_loaded: Type.Boolean(), reload_time: number })),
    },
    errors: [...keyed, 503],
  },
  // DeepSynth (Flask): {"error": ...}.
  'POST /summarize/text': {
    body: obj({ text, max_length: integer, temperature: number }, ['max_length', 'temperature']),
    responses: { 200: json(summaryAnswer) },
    errors: [400, ...keyed, 413, 502, 503],
  },
  'POST /summarize/file': {
    ...multipart(upload({ file: binary, max_length: integer, temperature: number }, ['file'])),
    responses: { 200: json(Type.Intersect([summaryAnswer, obj({ filename: text })])) },
    errors: [400, ...keyed, 413, 502, 503],
  },
  'POST /summarize/image': {
    ...multipart(upload({ image: binary, max_length: integer, temperature: number }, ['image'])),
    responses: {
      200: json(
        obj({ summary: text, filename: text, summary_length: integer, parameters: anyObject, timestamp: text }),
      ),
    },
    errors: [400, ...keyed, 413, 502, 503],
  },
  'POST /batch/summarize': {
    body: obj({ texts: list(text), max_length: integer, temperature: number }, ['max_length', 'temperature']),
    responses: {
      200: json(
        obj({
          results: list(anyObject),
          batch_size: integer,
          total_compression_ratio: number,
          parameters: anyObject,
          timestamp: text,
        }),
      ),
    },
    errors: [400, ...keyed, 413, 502, 503],
  },
  // Stable Diffusion API (FastAPI).
  'POST /generate': {
    body: generateBody,
    responses: {
      200: json(obj({ image_base64: text, model_id: text, generation_time: number, image_path: text, seed: integer })),
    },
    errors: [...modelErrors, 422],
  },
  'POST /generate/image': {
    body: generateBody,
    responses: { 200: content({ 'image/png': binary }, 'The PNG (x-model-id, x-seed, x-generation-time)') },
    errors: [...modelErrors, 422],
  },
  'DELETE /cache': {
    responses: { 200: json(obj({ message: text, cleared_models: list(text), details: list(anyObject) })) },
    errors: keyed,
  },
};

/** The job view's fields, for answers that extend it. */
function jobFields(): Record<string, TSchema> {
  return { id: text, object: Type.Literal('job'), status: text };
}

/** /v1 routes that answer server-sent events with `stream: true`, beside their JSON answer. */
const streaming = new Set(['POST /v1/chat/completions', 'POST /v1/responses', 'POST /v1/images/generations']);

/**
 * @fastify/swagger's transform: a route of the table gets its documented body and answers (errors in
 * its surface's shape); a /v1 route that streams documents its event stream beside its JSON.
 */
export function documentRoute(route: {
  schema?: Record<string, unknown>;
  url: string;
  method: string | string[];
  config?: { surface?: Surface };
}): { schema: Record<string, unknown>; url: string } {
  const schema = route.schema ?? {};
  const url = route.url.replace(/:(\w+)/g, '{$1}');
  const key = `${[route.method].flat()[0]} ${url}`;
  const doc = routeDocs[key];
  if (doc)
    return {
      url: route.url,
      schema: {
        tags: [url.startsWith('/api/') ? 'native' : 'operations'],
        ...schema,
        ...(doc.body ? { body: doc.body } : {}),
        ...(doc.consumes ? { consumes: doc.consumes } : {}),
        response: { ...doc.responses, ...errorResponses(route.config?.surface ?? 'native', doc.errors) },
      },
    };
  const response = schema.response as Record<number, TSchema> | undefined;
  if (streaming.has(key) && response?.[200])
    return {
      url: route.url,
      schema: {
        ...schema,
        response: {
          ...response,
          200: content(
            { 'application/json': response[200], 'text/event-stream': text },
            'The answer (server-sent events with stream: true)',
          ),
        },
      },
    };
  return { schema, url: route.url };
}
