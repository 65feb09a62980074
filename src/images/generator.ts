import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { loadSharp } from '../shared/lazy-modules.js';
import type { Config } from '../config/schema.js';
import { createImageEngine } from '../engines/image-engines.js';
import type { GeneratedImages, ImageEngine, ImagePreview, ImageStep } from '../engines/image-spec.js';
import { appError, isAppError } from '../errors/app-error.js';
import { version } from '../shared/version.js';
import type { ModelRegistry } from '../runtime/model-registry.js';
import { Semaphore } from '../shared/semaphore.js';
import { recordCost } from '../runtime/usage-meter.js';
import { ImageStore } from './image-store.js';
import type { ImageParams } from './params.js';
import { isPng, withText } from './png-text.js';

/** What the 503 says when no model has an image backend: a config for each engine, to paste. */
export const howToConfigure = [
  'No image backend is configured: visiongate makes images through a diffusion server you run. Bind a model to one in the config file (VISIONGATE_CONFIG), for example:',
  'AUTOMATIC1111/Forge/SD.Next (started with --api): models: { sd15: { image: { backend: automatic1111, urls: ["http://127.0.0.1:7860"], checkpoint: "v1-5-pruned-emaonly.safetensors" } } }',
  'ComfyUI: models: { sd15: { image: { backend: comfyui, urls: ["http://127.0.0.1:8188"], checkpoint: "v1-5-pruned-emaonly.safetensors" } } }',
  'OpenAI images API (OpenAI, LocalAI): models: { dall-e-3: { image: { backend: openai, urls: ["https://api.openai.com/v1"], apiKey: "sk-..." } } }',
  "Then map users to models with images.users (the seed's USER_MODELS): images: { users: { default: sd15 } }",
].join('\n');

export interface GeneratedImage {
  id: string;
  /** Where the PNG was saved (the seed's image_path). */
  path: string;
  seed: number;
  width: number;
  height: number;
  bytes: number;
}

/** One generation as jobs keep it (who and when are the job's own fields). */
export interface Generation {
  model: string;
  /** The first image's seed: the same request with it gives the same images. */
  seed: number;
  images: GeneratedImage[];
  duration_ms: number;
  /** The parameters sent, after styles and the drawn seed. */
  parameters: ImageParams & { seed: number; backend: string };
  /** Token usage the backend reported (OpenAI's GPT image models). */
  usage?: Record<string, unknown>;
}

export interface GenerateRun {
  signal?: AbortSignal;
  onStep?: (step: ImageStep) => void;
  /** Streaming: the backend's previews as they come, and how many partial images the client asked for. */
  onPreview?: (preview: ImagePreview) => void;
  partialImages?: number;
  requestId?: string;
}

/** A1111's "infotext", which PNG-info readers (A1111, ComfyUI, many viewers) understand. */
function infotext(p: Generation['parameters'], model: string, seed: number): string {
  const settings = [
    `Steps: ${p.num_inference_steps}`,
    `CFG scale: ${p.guidance_scale}`,
    `Seed: ${seed}`,
    `Size: ${p.width}x${p.height}`,
    `Model: ${model}`,
    ...(p.style ? [`Style: ${p.style}`] : []),
  ];
  return `${p.prompt}\n${p.negative_prompt ? `Negative prompt: ${p.negative_prompt}\n` : ''}${settings.join(', ')}`;
}

/** Width and height from a PNG's header. */
const pngSize = (png: Buffer): { width: number; height: number } => ({
  width: png.readUInt32BE(16),
  height: png.readUInt32BE(20),
});

/**
 * Text-to-image over the configured backends: which model serves a request (its name, the
 * user's model, the default), styles, the seed drawn when none is given, one gate per model,
 * PNGs with their parameters in a text chunk, saved with an id.
 */
export class ImageGenerator {
  readonly store: ImageStore;
  private readonly engines = new Map<string, { engine: ImageEngine; gate: Semaphore }>();

  constructor(
    private readonly config: Readonly<Config>,
    private readonly models: ModelRegistry,
    private readonly log: Logger,
  ) {
    this.store = new ImageStore(config.images.outputDir, config.images.retentionDays);
  }

  /** Models with an image backend. */
  ids(): string[] {
    return Object.entries(this.config.models).flatMap(([id, m]) => (m.image ? [id] : []));
  }

  get configured(): boolean {
    return this.ids().length > 0;
  }

  /** The model of a request: named, else the user's (images.users), else the default; 503 with instructions when there is none. */
  resolve(model: string | null, user: string): string {
    if (!this.configured) throw appError('capability_unavailable', howToConfigure, { capability: 'image' });
    const { users, defaultModel } = this.config.images;
    const name = model ?? users[user] ?? users.default ?? defaultModel ?? this.ids()[0]!;
    const { id, config } = this.models.require(name);
    if (!config.image)
      throw appError(
        'invalid_parameter',
        `model '${id}' makes no images; models with an image backend: ${this.ids().join(', ')}`,
        { field: 'model', allowed: this.ids() },
      );
    return id;
  }

  private engineOf(id: string): { engine: ImageEngine; gate: Semaphore } {
    let entry = this.engines.get(id);
    if (!entry) {
      const image = this.config.models[id]!.image!;
      entry = {
        engine: createImageEngine(id, image),
        gate: new Semaphore(image.concurrency, image.maxQueue, `image model '${id}'`),
      };
      this.engines.set(id, entry);
    }
    return entry;
  }

  /** The prompt and negative prompt after the style preset. */
  private styled(params: ImageParams): { prompt: string; negative: string } {
    const preset = params.style ? this.config.images.presets[params.style] : undefined;
    if (!preset) return { prompt: params.prompt, negative: params.negative_prompt };
    const template = preset.prompt ?? '{prompt}';
    const prompt = template.includes('{prompt}')
      ? template.replaceAll('{prompt}', params.prompt)
      : `${params.prompt}, ${template}`;
    const negative = [params.negative_prompt, preset.negativePrompt].filter(Boolean).join(', ');
    return { prompt, negative };
  }

  async generate(params: ImageParams, init: Buffer | undefined, run: GenerateRun = {}): Promise<Generation> {
    const model = this.resolve(params.model, params.user_id);
    const { engine, gate } = this.engineOf(model);
    const seed = params.seed ?? randomInt(0, 2 ** 32);
    const { prompt, negative } = this.styled(params);
    const started = performance.now();
    const release = await gate.acquire(run.signal);
    let output: GeneratedImages;
    try {
      this.models.markUsed(model);
      output = await engine.generate(
        {
          prompt,
          negativePrompt: negative,
          steps: params.num_inference_steps,
          guidance: params.guidance_scale,
          width: params.width,
          height: params.height,
          seed,
          n: params.n,
          ...(init ? { init: { image: init, strength: params.strength } } : {}),
          ...(run.requestId ? { requestId: run.requestId } : {}),
          ...(params.openai ? { openAiOptions: params.openai } : {}),
          ...(run.partialImages !== undefined ? { partialImages: run.partialImages } : {}),
        },
        {
          ...(run.signal ? { signal: run.signal } : {}),
          ...(run.onStep ? { onStep: run.onStep } : {}),
          ...(run.onPreview ? { onPreview: run.onPreview } : {}),
        },
      );
    } finally {
      release();
    }
    const parameters = { ...params, prompt, negative_prompt: negative, seed, backend: engine.backend };
    const images: GeneratedImage[] = [];
    for (const [index, encoded] of output.images.entries()) {
      const imageSeed = output.seeds[index] ?? seed;
      const png = await labelled(encoded, {
        parameters: infotext(parameters, model, imageSeed),
        Software: `visiongate ${version}`,
      });
      const saved = await this.store.save(png);
      images.push({ ...saved, seed: imageSeed, ...pngSize(png), bytes: png.length });
    }
    recordCost('images', images.length);
    const duration = Math.round(performance.now() - started);
    this.log.info({ model, images: images.map((i) => i.id), seed, duration_ms: duration }, 'images generated');
    return { model, seed, images, duration_ms: duration, parameters, ...(output.usage ? { usage: output.usage } : {}) };
  }

  /** DELETE /cache: every engine built so far drops its sessions and asks its backend to free its checkpoint. */
  async reset(): Promise<Array<{ model: string; backend: string; dropped: string[] }>> {
    const entries = [...this.engines.entries()];
    this.engines.clear();
    return Promise.all(
      entries.map(async ([model, { engine }]) => ({ model, backend: engine.backend, dropped: await engine.reset() })),
    );
  }

  /** Models whose engine is built (the seed's cached pipelines). */
  cached(): string[] {
    return [...this.engines.keys()];
  }
}

/**
 * The backend's bytes as a PNG with our text chunks: a PNG keeps its pixels untouched, JPEG/WebP
 * are converted; anything else (or a broken PNG) is a 502.
 */
async function labelled(bytes: Buffer, texts: Record<string, string>): Promise<Buffer> {
  const sharp = await loadSharp();
  try {
    return withText(isPng(bytes) ? bytes : await sharp(bytes).png().toBuffer(), texts);
  } catch (error) {
    throw isAppError(error)
      ? error
      : appError(
          'upstream_error',
          `the image server sent ${bytes.length} bytes that are not a usable image (${(error as Error).message})`,
        );
  }
}
