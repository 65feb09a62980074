import { type Static, Type } from '../shared/typebox.js';

const Mb = 1024 * 1024;

const EngineName = Type.Union([
  Type.Literal('auto'),
  Type.Literal('tesseract-js'),
  Type.Literal('tesseract-cli'),
  Type.Literal('paddle'),
]);

export const Scope = Type.Union([
  Type.Literal('ocr'),
  Type.Literal('chat'),
  Type.Literal('summarize'),
  Type.Literal('image'),
  Type.Literal('admin'),
]);

/** An API key, stored as the SHA-256 of the key (never the key itself). */
export const ApiKeySchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** Hex SHA-256 of the key, as `visiongate keys create` prints it. */
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    /** What it may use; all capabilities when absent. */
    scopes: Type.Optional(Type.Array(Scope)),
    /** Model names it may use; all when absent. */
    models: Type.Optional(Type.Array(Type.String())),
    /** Requests per minute (0: unlimited). */
    rateLimitPerMinute: Type.Integer({ default: 0, minimum: 0 }),
    /** Requests in flight at once (0: unlimited; absent: limits.maxConcurrentPerKey). */
    maxConcurrent: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Daily quotas (UTC days) in what costs; absent or 0: unlimited. */
    quota: Type.Optional(
      Type.Object(
        {
          pagesPerDay: Type.Optional(Type.Number({ minimum: 0 })),
          megapixelsPerDay: Type.Optional(Type.Number({ minimum: 0 })),
          imagesPerDay: Type.Optional(Type.Number({ minimum: 0 })),
          tokensPerDay: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ApiKeyConfig = Static<typeof ApiKeySchema>;

/** How a remote model server is reached and bounded, for chat and image backends alike (their defaults differ). */
function upstreamFields(defaults: { timeoutMs: number; minTimeoutMs: number; concurrency: number; maxQueue: number }) {
  return {
    timeoutMs: Type.Integer({ default: defaults.timeoutMs, minimum: defaults.minTimeoutMs }),
    connectTimeoutMs: Type.Integer({ default: 5000, minimum: 50 }),
    maxRetries: Type.Integer({ default: 1, minimum: 0, maximum: 10 }),
    /** Upstream statuses retried (with backoff, before any output); connection errors always are. */
    retryStatuses: Type.Array(Type.Integer({ minimum: 500, maximum: 599 }), { default: [502, 503, 504] }),
    /** Requests sent upstream at once, and how many may wait; past that, 503 at once. */
    concurrency: Type.Integer({ default: defaults.concurrency, minimum: 1 }),
    maxQueue: Type.Integer({ default: defaults.maxQueue, minimum: 0 }),
  };
}

/** One model name the server answers to, and what serves it. */
export const ModelSchema = Type.Object(
  {
    /** Display name (the seeds' /models list shows it). */
    name: Type.Optional(Type.String()),
    /** Parameter count as shown to clients ("2B"). */
    params: Type.Optional(Type.String()),
    aliases: Type.Optional(Type.Array(Type.String())),
    /**
     * Chat for this name goes to compat.vllmProxy (when one is set) unless `chat` binds it to
     * something else; the seed ids carry it, so the OCRFlux seed's VLLM_URL reaches them all.
     */
    viaProxy: Type.Optional(Type.Boolean()),
    /**
     * The device the backend runs the model on ("NVIDIA GeForce RTX 4090"), as the seeds' /health
     * reported it (gpu_name); remote servers do not say, so it is known only when configured.
     */
    device: Type.Optional(Type.String({ minLength: 1 })),
    /** OCR through an embedded engine (it answers chat requests with images as Markdown too). */
    ocr: Type.Optional(
      Type.Object({ engine: EngineName, languages: Type.Optional(Type.String()) }, { additionalProperties: false }),
    ),
    /** Chat through a remote server speaking OpenAI's chat completions (vLLM, llama.cpp server, LocalAI, OpenAI). */
    chat: Type.Optional(
      Type.Object(
        {
          /** openai: a server speaking OpenAI's API; ollama: Ollama's native API; llama-cpp: a local GGUF file. */
          backend: Type.Union([Type.Literal('openai'), Type.Literal('ollama'), Type.Literal('llama-cpp')]),
          /** openai: base URLs ending in /v1; ollama: server roots (http://host:11434). Balanced over the healthy ones. */
          urls: Type.Optional(Type.Array(Type.String({ pattern: '^https?://' }), { minItems: 1 })),
          /** llama-cpp: path of the .gguf file. */
          path: Type.Optional(Type.String({ minLength: 1 })),
          /** llama-cpp: CPU threads per generation. */
          threads: Type.Integer({ default: 1, minimum: 1, maximum: 64 }),
          /** llama-cpp: unload the model after this long unused. */
          keepAliveMs: Type.Integer({ default: 300_000, minimum: 1000 }),
          /** llama-cpp: run on a GPU build of llama.cpp (opt-in install: npm run llama:gpu -- cuda|vulkan). */
          gpu: Type.Optional(Type.Union([Type.Literal('cuda'), Type.Literal('vulkan')])),
          /** Model name sent upstream (default: this entry's name). */
          model: Type.Optional(Type.String()),
          apiKey: Type.Optional(Type.String()),
          /** The model reads images itself; otherwise images are OCRed and sent as text. */
          vision: Type.Boolean({ default: false }),
          ...upstreamFields({ timeoutMs: 120_000, minTimeoutMs: 100, concurrency: 8, maxQueue: 64 }),
          /** Context window in tokens, for chunking long summaries. */
          contextTokens: Type.Integer({ default: 4096, minimum: 256 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Text-to-image through a remote diffusion server. */
    image: Type.Optional(
      Type.Object(
        {
          /** openai: the images API (OpenAI, LocalAI…); automatic1111: A1111/Forge/SD.Next's /sdapi/v1; comfyui: ComfyUI's /prompt. */
          backend: Type.Union([Type.Literal('openai'), Type.Literal('automatic1111'), Type.Literal('comfyui')]),
          /** openai: base URLs ending in /v1; automatic1111 and comfyui: server roots (http://host:7860, http://host:8188). */
          urls: Type.Array(Type.String({ pattern: '^https?://' }), { minItems: 1 }),
          /** automatic1111: the sd_model_checkpoint to switch to; comfyui: the checkpoint loader's ckpt_name. */
          checkpoint: Type.Optional(Type.String({ minLength: 1 })),
          /** openai: model name sent upstream (default: this entry's name). */
          model: Type.Optional(Type.String()),
          apiKey: Type.Optional(Type.String()),
          /** Sampler (automatic1111: sampler_name such as "Euler a"; comfyui: KSampler's sampler_name such as "euler"). */
          sampler: Type.Optional(Type.String({ minLength: 1 })),
          /** comfyui: a workflow in API format whose values are {{prompt}}, {{seed}}…; the built-in SD 1.5 graphs when absent. */
          workflow: Type.Optional(Type.String({ minLength: 1 })),
          /** openai: also send seed, steps, guidance and negative prompt (LocalAI reads them; OpenAI refuses unknown fields). */
          extendedParams: Type.Boolean({ default: false }),
          // Diffusion servers run one image at a time: one in flight by default.
          ...upstreamFields({ timeoutMs: 600_000, minTimeoutMs: 1000, concurrency: 1, maxQueue: 32 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ModelConfig = Static<typeof ModelSchema>;

/**
 * The whole configuration, with defaults. Read from an optional YAML/JSON file and from
 * `VISIONGATE_*` environment variables (see `load.ts`), validated once, then frozen.
 */
export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', minLength: 1 }),
        port: Type.Integer({ default: 8000, minimum: 0, maximum: 65535 }),
        /** Hard cap on any request's wall time, in ms. */
        requestTimeoutMs: Type.Integer({ default: 300_000, minimum: 1000 }),
        /** On SIGTERM, how long in-flight requests may take before the process leaves anyway. */
        shutdownGraceMs: Type.Integer({ default: 30_000, minimum: 0 }),
        /** Comma-separated origins allowed by CORS; empty keeps CORS closed. */
        corsOrigins: Type.Array(Type.String(), { default: [] }),
        /** Base URL clients reach this server at (https://vision.example.com), for links in answers; relative links without it. */
        publicUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
      },
      { default: {}, additionalProperties: false },
    ),
    limits: Type.Object(
      {
        /** Bytes of one uploaded or fetched document; enforced while bytes arrive. */
        maxDocumentBytes: Type.Integer({ default: 50 * Mb, minimum: 1 }),
        /** Pixels of one image page (decompression-bomb guard). */
        maxPixelsPerPage: Type.Integer({ default: 40_000_000, minimum: 1 }),
        /** Pages of one document (PDF or multi-page TIFF). */
        maxPages: Type.Integer({ default: 500, minimum: 1 }),
        /** Longest side of a rendered PDF page, in pixels. */
        maxRenderSide: Type.Integer({ default: 10_000, minimum: 100 }),
        /** Time one PDF page may take to render. */
        pdfRenderTimeoutMs: Type.Integer({ default: 60_000, minimum: 100 }),
        /** Bytes of all the files of one multipart batch together (they are held in memory while read). */
        maxBatchBytes: Type.Integer({ default: 200 * Mb, minimum: 1 }),
        /** Characters of all the text in one chat request. */
        maxPromptChars: Type.Integer({ default: 400_000, minimum: 1 }),
        /** Requests served at once by this process; past that, 503 with Retry-After at once. */
        maxConcurrentRequests: Type.Integer({ default: 256, minimum: 1 }),
        /** Requests one API key may have in flight when its own maxConcurrent is not set (0: unlimited). */
        maxConcurrentPerKey: Type.Integer({ default: 32, minimum: 0 }),
        /** Time a request's headers and body may take to arrive; past it the connection is answered 408 and closed. */
        bodyTimeoutMs: Type.Integer({ default: 120_000, minimum: 1000 }),
        /** Bytes all the entries of an archive-based document (DOCX) may inflate to, counted while inflating. */
        maxDecompressedBytes: Type.Integer({ default: 64 * Mb, minimum: 1024 }),
        /** Entries of an archive-based document. */
        maxArchiveEntries: Type.Integer({ default: 10_000, minimum: 1 }),
        /** Characters of text one request may summarize: sent as text or extracted from a document. */
        maxTextChars: Type.Integer({ default: 5_000_000, minimum: 1000 }),
        /** Calls to a model server one request may cause (abstractive map-reduce). */
        maxUpstreamCallsPerRequest: Type.Integer({ default: 32, minimum: 1 }),
        /**
         * Pixels of pages held in memory at once (decoded or rendered, until read), across all requests:
         * a page waits for room; one larger than this is read alone. 0 turns the budget off.
         */
        maxPixelsInFlight: Type.Integer({ default: 48_000_000, minimum: 0 }),
        /** PDF pages are rendered at less than the asked dpi to fit maxPixelsPerPage, but never below this. */
        minRenderDpi: Type.Integer({ default: 25, minimum: 1, maximum: 600 }),
        /** Time one step of work may take in a worker thread (a PDF page, a DOCX, a summary); the thread is then replaced. */
        workerTaskTimeoutMs: Type.Integer({ default: 120_000, minimum: 100 }),
        /** Nesting depth of a JSON body (deeper: 400 before anything walks it recursively). */
        maxJsonDepth: Type.Integer({ default: 64, minimum: 2, maximum: 1000 }),
      },
      { default: {}, additionalProperties: false },
    ),
    ocr: Type.Object(
      {
        /** `auto` picks per language; or one of the engine names. */
        defaultEngine: Type.Union(EngineName.anyOf, { default: 'auto' }),
        defaultLanguages: Type.String({ default: 'eng', minLength: 1 }),
        /** Resolution at which scanned PDF pages are rendered for OCR. */
        pdfDpi: Type.Integer({ default: 300, minimum: 50, maximum: 600 }),
        /** OCR workers (tesseract.js threads, native processes); 0 = one per core. */
        workers: Type.Integer({ default: 0, minimum: 0, maximum: 64 }),
        /** Extra folder with `<lang>.traineddata(.gz)` files to add languages. */
        extraLanguageDir: Type.Optional(Type.String()),
        /** Path of the native `tesseract` binary; empty disables it. */
        tesseractBinary: Type.String({ default: 'tesseract' }),
      },
      { default: {}, additionalProperties: false },
    ),
    fetch: Type.Object(
      {
        /** Allow URL documents on private, loopback and link-local addresses (off by default: SSRF). */
        allowPrivateAddresses: Type.Boolean({ default: false }),
        /** Hosts that may be fetched even on private addresses (exact names or IPs); others follow the rules above. */
        allowHosts: Type.Array(Type.String(), { default: [] }),
        timeoutMs: Type.Integer({ default: 20_000, minimum: 100 }),
        maxRedirects: Type.Integer({ default: 3, minimum: 0, maximum: 10 }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Model names → what serves them; the seeds' ids are bound by default (seed-models.ts). */
    models: Type.Record(Type.String({ pattern: '^[A-Za-z0-9._:/-]{1,128}$' }), ModelSchema, { default: {} }),
    auth: Type.Object(
      {
        /** Require an API key (Authorization: Bearer or X-API-Key) on every route but /health, the docs and the playground page. */
        enabled: Type.Boolean({ default: false }),
        keys: Type.Array(ApiKeySchema, { default: [] }),
        /** A YAML/JSON file holding more keys (a list of the same shape). */
        keyFile: Type.Optional(Type.String()),
        /** Serve without keys on a non-loopback address (logged as a warning). */
        allowUnauthenticated: Type.Boolean({ default: false }),
      },
      { default: {}, additionalProperties: false },
    ),
    runtime: Type.Object(
      {
        /** Memory for local (GGUF) model weights, in MB; past it the least recently used idle model is unloaded. 0 = no budget. */
        memoryBudgetMb: Type.Number({ default: 0, minimum: 0 }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Async jobs: where they live, who runs them, how long results stay. */
    jobs: Type.Object(
      {
        /** sqlite: durable, one process (the default); redis: BullMQ on Redis, any number of API nodes and workers. */
        store: Type.Union([Type.Literal('sqlite'), Type.Literal('redis')], { default: 'sqlite' }),
        /** SQLite file (created with its folder); ":memory:" keeps nothing across restarts. */
        sqlitePath: Type.String({ default: 'data/jobs.sqlite', minLength: 1 }),
        /** redis://[user:password@]host:port[/db], needed by the redis store. */
        redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://' })),
        /** Prefix of every Redis key (and BullMQ queue), so several deployments can share a Redis. */
        redisPrefix: Type.String({ default: 'visiongate', pattern: '^[A-Za-z0-9_-]{1,64}$' }),
        /** Run jobs in the serving process too; false makes a pure API node (workers: `visiongate worker`). */
        embeddedWorker: Type.Boolean({ default: true }),
        /** Jobs one process runs at once. */
        concurrency: Type.Integer({ default: 2, minimum: 1, maximum: 256 }),
        /** Queued jobs per type (ocr, summarize, ...); past it, 429 with Retry-After. */
        maxQueuedPerType: Type.Integer({ default: 1000, minimum: 1 }),
        /** Runs a job may start (a crash or a dead worker costs one); then it is `interrupted`. */
        maxAttempts: Type.Integer({ default: 3, minimum: 1, maximum: 20 }),
        /** Finished jobs and their results are deleted this long after they end. */
        resultTtlSeconds: Type.Integer({ default: 86_400, minimum: 1 }),
        /** Items in one batch. */
        maxBatchItems: Type.Integer({ default: 100, minimum: 1, maximum: 10_000 }),
        /** HMAC-SHA256 key of webhook signatures; without it each job gets its own, returned when it is created. */
        webhookSecret: Type.Optional(Type.String({ minLength: 16 })),
        webhookMaxAttempts: Type.Integer({ default: 5, minimum: 1, maximum: 50 }),
        /** First retry delay; each next one doubles. */
        webhookRetryBaseMs: Type.Integer({ default: 2000, minimum: 10 }),
        webhookTimeoutMs: Type.Integer({ default: 10_000, minimum: 100 }),
        /** Time one run of a job may take; past it the job fails with request_timeout naming this limit. */
        timeoutMs: Type.Integer({ default: 1_800_000, minimum: 1000 }),
        /** Redis: a worker that stops renewing its lock this long is presumed dead and its job runs elsewhere. */
        lockDurationMs: Type.Integer({ default: 30_000, minimum: 500 }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Text-to-image: which model serves whom, style presets, where outputs go and how long they stay. */
    images: Type.Object(
      {
        /** The Stable Diffusion seed's USER_MODELS: user_id → model name; "default" serves unknown users. */
        users: Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), { default: {} }),
        /** Model used when a request names none (default: users.default, else the first model with an image backend). */
        defaultModel: Type.Optional(Type.String({ minLength: 1 })),
        /** Named styles: the prompt wrapped by a template holding {prompt}, and a negative prompt added. */
        presets: Type.Record(
          Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
          Type.Object(
            { prompt: Type.Optional(Type.String()), negativePrompt: Type.Optional(Type.String()) },
            { additionalProperties: false },
          ),
          { default: {} },
        ),
        /** Images one request may ask for (n). */
        maxImages: Type.Integer({ default: 4, minimum: 1, maximum: 16 }),
        /** Folder generated PNGs are saved in (created when needed). */
        outputDir: Type.String({ default: 'data/images', minLength: 1 }),
        /** Saved images are deleted this many days after they were made; 0 keeps them. */
        retentionDays: Type.Number({ default: 7, minimum: 0 }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Settings of the seed-compatible routes. */
    compat: Type.Object(
      {
        /**
         * The OCRFlux seed's vLLM server (VLLM_URL, VLLM_PORT): chat requests for any model name
         * the config does not bind go there with their own name, as the seed proxied them.
         */
        vllmProxy: Type.Optional(
          Type.Object(
            {
              /** Base URLs ending in /v1. */
              urls: Type.Array(Type.String({ pattern: '^https?://' }), { minItems: 1 }),
              /** OCRFLUX_MODEL: the model a request that names none is sent as. */
              defaultModel: Type.String({ default: 'ChatDOC/OCRFlux-3B', minLength: 1 }),
              apiKey: Type.Optional(Type.String()),
              /** Its GPU, as /health reports it (gpu_name) for the names it serves. */
              device: Type.Optional(Type.String({ minLength: 1 })),
              ...upstreamFields({ timeoutMs: 300_000, minTimeoutMs: 100, concurrency: 16, maxQueue: 256 }),
            },
            { additionalProperties: false },
          ),
        ),
        /**
         * What the DeepSynth routes summarize with: the extractive summarizer, or the name of a
         * model with a chat backend (abstractive). Never switched implicitly by binding a model.
         */
        deepsynthSummarizer: Type.String({ default: 'extractive', minLength: 1 }),
        /** Model the InternVL OCR service routes use. */
        internvlModel: Type.String({ default: 'internvl3-8b' }),
        /** Default model of the ChatVLMLLM routes. */
        chatvlmDefaultModel: Type.String({ default: 'qwen3_vl_2b' }),
      },
      { default: {}, additionalProperties: false },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
