import { setTimeout as sleep } from 'node:timers/promises';
import { appError } from '../../errors/app-error.js';
import { fromBase64 } from '../../shared/base64.js';
import { onAbort } from '../../shared/abort.js';
import type { GeneratedImages, GenerateOptions, ImageEngine, ImageRequest } from '../image-spec.js';
import { postOptions, UpstreamClient, type UpstreamOptions } from '../remote/upstream-client.js';

export interface Automatic1111Options extends UpstreamOptions {
  /** sd_model_checkpoint for this model's requests (override_settings); the server's current one when absent. */
  checkpoint?: string;
  sampler?: string;
  /** How often /sdapi/v1/progress is read while an image is made. */
  progressIntervalMs: number;
}

interface Txt2ImgResponse {
  images?: string[];
  /** A JSON string: seed, all_seeds, … */
  info?: string;
}

interface ProgressResponse {
  progress?: number;
  /** The live preview (base64 PNG/JPEG) when asked for and the server makes them (its live-preview settings). */
  current_image?: string | null;
  state?: { sampling_step?: number; sampling_steps?: number; job_count?: number };
}

/**
 * AUTOMATIC1111's web UI API (also Forge and SD.Next): `POST /sdapi/v1/txt2img` or
 * `/img2img`, progress from `GET /sdapi/v1/progress`, cancellation by `POST /sdapi/v1/interrupt`
 * on the server that took the request. Base URLs are server roots (http://host:7860).
 */
export class Automatic1111Engine implements ImageEngine {
  readonly backend: string;
  private readonly client: UpstreamClient;
  private used = false;

  constructor(private readonly options: Automatic1111Options) {
    this.client = new UpstreamClient(options);
    this.backend = `automatic1111: ${this.client.urls.join(', ')}`;
  }

  private body(request: ImageRequest): Record<string, unknown> {
    const { checkpoint, sampler } = this.options;
    return {
      prompt: request.prompt,
      negative_prompt: request.negativePrompt,
      seed: request.seed,
      steps: request.steps,
      cfg_scale: request.guidance,
      width: request.width,
      height: request.height,
      batch_size: request.n,
      n_iter: 1,
      ...(sampler ? { sampler_name: sampler } : {}),
      ...(request.init
        ? { init_images: [request.init.image.toString('base64')], denoising_strength: request.init.strength }
        : {}),
      // The grid A1111 adds to a batch is not one of the images asked for.
      override_settings: { ...(checkpoint ? { sd_model_checkpoint: checkpoint } : {}), return_grid: false },
      override_settings_restore_afterwards: true,
      send_images: true,
      save_images: false,
    };
  }

  async generate(request: ImageRequest, options: GenerateOptions = {}): Promise<GeneratedImages> {
    const { signal, onStep, onPreview } = options;
    let server: string | undefined;
    const polling = new AbortController();
    const stopInterrupt = onAbort(signal, () => {
      if (server) void this.client.send(server, 'POST', '/sdapi/v1/interrupt').catch(() => undefined);
    });
    try {
      this.used = true;
      const path = request.init ? '/sdapi/v1/img2img' : '/sdapi/v1/txt2img';
      const sent = this.client.post(path, JSON.stringify(this.body(request)), {
        ...postOptions(request, signal),
        onUrl: (url) => {
          server = url;
        },
      });
      if (onStep || onPreview)
        void this.pollProgress(() => server, request.steps, { onStep, onPreview }, polling.signal);
      const response = await sent;
      const result = (await response.body.json()) as Txt2ImgResponse;
      const images = (result.images ?? []).map(fromBase64);
      if (images.length < request.n)
        throw appError(
          'upstream_error',
          `automatic1111 answered with ${images.length} image(s) for ${request.n} asked`,
        );
      // Older servers ignore return_grid and put the grid first: the asked-for images are the last n.
      return { images: images.slice(-request.n), seeds: seedsOf(result.info, request) };
    } finally {
      polling.abort();
      stopInterrupt();
    }
  }

  /**
   * Reads the server's progress until stopped. A1111's progress is the server's, not one
   * request's: only a running job with our step count, moving forward, is reported.
   */
  private async pollProgress(
    server: () => string | undefined,
    expected: number,
    report: Pick<GenerateOptions, 'onStep' | 'onPreview'>,
    signal: AbortSignal,
  ): Promise<void> {
    let last = 0;
    let lastPreview: string | undefined;
    // The preview is a whole image in every answer: asked for only when the caller wants previews.
    const query = `skip_current_image=${report.onPreview ? 'false' : 'true'}`;
    while (!signal.aborted) {
      await sleep(this.options.progressIntervalMs, undefined, { signal }).catch(() => undefined);
      const url = server();
      if (signal.aborted || !url) continue;
      const progress = await this.client
        .json<ProgressResponse>(url, 'GET', `/sdapi/v1/progress?${query}`, { signal })
        .catch(() => undefined);
      const step = progress?.state?.sampling_step;
      const steps = progress?.state?.sampling_steps;
      const running = (progress?.state?.job_count ?? 0) > 0;
      if (signal.aborted || !running || steps !== expected || step === undefined) continue;
      const preview = progress?.current_image;
      if (report.onPreview && preview && preview !== lastPreview) {
        lastPreview = preview;
        report.onPreview({ image: fromBase64(preview), step, steps });
      }
      if (step > last) {
        last = step;
        report.onStep?.({ step, steps });
      }
    }
  }

  async reset(): Promise<string[]> {
    // The seed's cache held loaded pipelines: the A1111 equivalent is its loaded checkpoint.
    const free = this.used ? { path: '/sdapi/v1/unload-checkpoint', said: 'checkpoint unloaded' } : undefined;
    this.used = false;
    return this.client.release(free);
  }
}

/** The seeds A1111 says it used (its `info` JSON), else the request's seed counted up as A1111 does for a batch. */
function seedsOf(info: string | undefined, request: ImageRequest): number[] {
  try {
    const parsed = JSON.parse(info ?? '') as { all_seeds?: unknown };
    if (
      Array.isArray(parsed.all_seeds) &&
      parsed.all_seeds.length >= request.n &&
      parsed.all_seeds.every(Number.isInteger)
    )
      return (parsed.all_seeds as number[]).slice(0, request.n);
  } catch {
    // no info: use the request's
  }
  return Array.from({ length: request.n }, (_, i) => request.seed + i);
}
