import type { FormData } from 'undici';
import { loadUndici } from '../../shared/lazy-modules.js';
import { appError } from '../../errors/app-error.js';
import { fromBase64 } from '../../shared/base64.js';
import type { GeneratedImages, GenerateOptions, ImageEngine, ImageRequest } from '../image-spec.js';
import { lines, postOptions, UpstreamClient, type UpstreamOptions } from '../remote/upstream-client.js';
import type { Dispatcher } from 'undici';

export interface OpenAiImagesOptions extends UpstreamOptions {
  model: string;
  /** Also send seed, step and a "positive|negative" prompt, as LocalAI reads them. */
  extendedParams: boolean;
}

interface ImagesResponse {
  data?: Array<{ b64_json?: string; url?: string }>;
  usage?: Record<string, unknown>;
}

interface StreamEvent {
  type?: string;
  b64_json?: string;
  partial_image_index?: number;
  usage?: Record<string, unknown>;
  error?: { message?: string };
}

/**
 * OpenAI's image stream: `image_generation.partial_image` events become previews, each
 * `image_generation.completed` one finished image (its usage kept), an `error` event a 502.
 */
async function readStream(
  body: Dispatcher.ResponseData['body'],
  onPreview: NonNullable<GenerateOptions['onPreview']>,
): Promise<ImagesResponse> {
  const result: Required<Pick<ImagesResponse, 'data'>> & ImagesResponse = { data: [] };
  for await (const line of lines(body)) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') continue;
    const event = JSON.parse(data) as StreamEvent;
    if (event.type === 'error' || event.error)
      throw appError(
        'upstream_error',
        `the images server failed mid-stream: ${event.error?.message ?? data.slice(0, 300)}`,
      );
    if (event.type?.endsWith('.partial_image') && event.b64_json)
      onPreview({
        image: fromBase64(event.b64_json),
        ...(typeof event.partial_image_index === 'number' ? { index: event.partial_image_index } : {}),
      });
    if (event.type?.endsWith('.completed') && event.b64_json) {
      result.data.push({ b64_json: event.b64_json });
      if (event.usage) result.usage = event.usage;
    }
  }
  return result;
}

/**
 * OpenAI's images API (`POST /images/generations`, `/images/edits` for img2img), also served
 * by LocalAI and other OpenAI-style servers. Base URLs end in /v1. OpenAI itself takes no
 * seed, steps or guidance: those reach the backend only with `extendedParams` (LocalAI).
 */
export class OpenAiImagesEngine implements ImageEngine {
  readonly backend: string;
  private readonly client: UpstreamClient;

  constructor(private readonly options: OpenAiImagesOptions) {
    this.client = new UpstreamClient(options);
    this.backend = `openai-images: ${this.client.urls.join(', ')}`;
  }

  private fields(request: ImageRequest, stream: boolean): Record<string, unknown> {
    const extended = this.options.extendedParams;
    const prompt = extended && request.negativePrompt ? `${request.prompt}|${request.negativePrompt}` : request.prompt;
    // gpt-image models always answer in base64 and refuse response_format.
    const format: Record<string, string> = this.options.model.startsWith('gpt-image')
      ? {}
      : { response_format: 'b64_json' };
    // The client's own OpenAI fields win: a response_format or output_format it chose reaches the backend as sent.
    return {
      model: this.options.model,
      prompt,
      n: request.n,
      size: `${request.width}x${request.height}`,
      ...format,
      ...(extended ? { seed: request.seed, step: request.steps } : {}),
      ...request.openAiOptions,
      // Streaming (previews asked for): OpenAI's image streaming, partial images as the client asked.
      ...(stream ? { stream: true, partial_images: request.partialImages ?? 0 } : {}),
    };
  }

  async generate(request: ImageRequest, options: GenerateOptions = {}): Promise<GeneratedImages> {
    const { signal, onPreview } = options;
    const fields = this.fields(request, onPreview !== undefined);
    let body: string | FormData = JSON.stringify(fields);
    if (request.init) {
      const form = new (await loadUndici()).FormData();
      for (const [key, value] of Object.entries(fields))
        form.append(key, typeof value === 'string' ? value : JSON.stringify(value));
      form.append('image', new Blob([new Uint8Array(request.init.image)], { type: 'image/png' }), 'image.png');
      body = form;
    }
    const response = await this.client.post(
      request.init ? '/images/edits' : '/images/generations',
      body,
      postOptions(request, signal),
    );
    // A server that does not stream answers JSON even when asked to: read either.
    const streamed = String(response.headers['content-type'] ?? '').startsWith('text/event-stream');
    const result =
      streamed && onPreview
        ? await readStream(response.body, onPreview)
        : ((await response.body.json()) as ImagesResponse);
    const data = result.data ?? [];
    if (data.length < request.n)
      throw appError(
        'upstream_error',
        `the images server answered with ${data.length} image(s) for ${request.n} asked`,
      );
    const images = await Promise.all(
      data.slice(0, request.n).map((item) => (item.b64_json ? fromBase64(item.b64_json) : download(item.url, signal))),
    );
    return { images, seeds: images.map(() => request.seed), ...(result.usage ? { usage: result.usage } : {}) };
  }

  reset(): Promise<string[]> {
    return this.client.release();
  }
}

/** Servers that ignore response_format answer with URLs (on their own storage): fetched once. */
async function download(url: string | undefined, signal?: AbortSignal): Promise<Buffer> {
  if (!url || !/^https?:\/\//.test(url))
    throw appError('upstream_error', 'the images server answered with neither b64_json nor an http(s) url');
  const response = await (await loadUndici()).request(url, signal ? { signal } : {}); // redirects are not followed
  if (response.statusCode !== 200)
    throw appError('upstream_error', `the image at ${new URL(url).host} answered HTTP ${response.statusCode}`);
  return Buffer.from(await response.body.arrayBuffer());
}
