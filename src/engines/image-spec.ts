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
  /**
   * Streaming: how many partial images the client asked for (OpenAI's `partial_images`, 0 to 3). An
   * OpenAI images backend is asked to stream with it; the others report every preview they make.
   */
  partialImages?: number;
  /** OpenAI images API fields (quality, style, output_format, ...) for a backend that speaks it, as the client sent them. */
  openAiOptions?: Record<string, unknown>;
}

/** A sampling step reported by the backend while it works. */
export interface ImageStep {
  step: number;
  steps: number;
}

/** An image while it is made: a backend's preview, encoded (PNG, JPEG or WebP). */
export interface ImagePreview {
  image: Buffer;
  /** The sampling step it shows, where the backend says. */
  step?: number;
  steps?: number;
  /** The backend's own partial-image number (OpenAI's streaming numbers them itself). */
  index?: number;
}

export interface GeneratedImages {
  /** Encoded images as the backend sent them (PNG, or JPEG/WebP from some OpenAI-style servers). */
  images: Buffer[];
  /** The seed of each image (A1111 gives consecutive seeds to a batch; others reuse the request's). */
  seeds: number[];
  /** Token usage the backend reported (OpenAI's GPT image models), as it sent it. */
  usage?: Record<string, unknown>;
}

export interface GenerateOptions {
  /** Aborting interrupts the backend, not only the HTTP request. */
  signal?: AbortSignal;
  onStep?: (step: ImageStep) => void;
  /** Asks for previews while the image is made (streaming); each is given here as it comes. */
  onPreview?: (preview: ImagePreview) => void;
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
