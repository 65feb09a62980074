/**
 * The image engine interface: every text-to-image backend (OpenAI's images API,
 * AUTOMATIC1111, ComfyUI) takes the same request and gives back PNG or JPEG bytes.
 * Every engine passes `test/engines/image-conformance`.
 */
export interface ImageRequest {
  prompt: string;
  negativePrompt: string;
  steps: number;
  guidance: number;
  width: number;
  height: number;
  /** Always set: a random seed is drawn before the request reaches an engine, so it can be replayed. */
  seed: number;
  /** Images to make from this request. */
  n: number;
  /** img2img: the starting picture and how far to move from it (0: keep it, 1: ignore it). */
  init?: { image: Buffer; strength: number };
  /** Sent upstream as x-request-id where the backend takes one. */
  requestId?: string;
  /** OpenAI images API fields (quality, style, output_format, ...) for a backend that speaks it, as the client sent them. */
  openAiOptions?: Record<string, unknown>;
}

/** A sampling step reported by the backend while it works. */
export interface ImageStep {
  step: number;
  steps: number;
}

export interface GeneratedImages {
  /** Encoded images as the backend sent them (PNG, or JPEG/WebP from some OpenAI-style servers). */
  images: Buffer[];
  /** The seed of each image (A1111 gives consecutive seeds to a batch; others reuse the request's). */
  seeds: number[];
}

export interface GenerateOptions {
  /** Aborting interrupts the backend, not only the HTTP request. */
  signal?: AbortSignal;
  onStep?: (step: ImageStep) => void;
}

export interface ImageEngine {
  /** What serves it, for /models ("automatic1111: http://gpu:7860"). */
  readonly backend: string;
  generate(request: ImageRequest, options?: GenerateOptions): Promise<GeneratedImages>;
  /**
   * Drops what is kept between requests: kept-alive connections, and the checkpoint the
   * backend holds in memory where it can be told to free it. Says what it dropped.
   */
  reset(): Promise<string[]>;
}
