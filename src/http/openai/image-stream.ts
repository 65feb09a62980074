import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ImagePreview } from '../../engines/image-spec.js';
import { appError, isAppError } from '../../errors/app-error.js';
import { renderOpenAi } from '../../errors/render.js';
import type { Generation } from '../../images/generator.js';
import type { ImageParams } from '../../images/params.js';
import { imageSpec, savedImage, type GenerateServices } from '../images/generate.js';
import { openEventStream, type EventStream } from '../sse.js';

/** OpenAI's `partial_images`: a whole number from 0 to 3 (0 when absent), or a 400 naming it. */
export function partialImagesOf(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 3)
    throw appError(
      'invalid_parameter',
      `partial_images must be a whole number from 0 to 3, received ${JSON.stringify(value)}`,
      { field: 'partial_images' },
    );
  return value;
}

/**
 * Which previews become partial images: a backend that numbers its own (OpenAI's stream) keeps its
 * numbers; others preview every step or poll, so the k-th partial image of `count` is the first
 * preview past (k + 1) / (count + 1) of the sampling steps, spreading them over the run.
 */
export class PartialImages {
  private sent = 0;

  constructor(
    private readonly count: number,
    private readonly emit: (image: Buffer, index: number) => void,
  ) {}

  offer(preview: ImagePreview): void {
    if (this.sent >= this.count) return;
    if (preview.index !== undefined) {
      if (preview.index < this.count) this.emit(preview.image, preview.index);
      this.sent++;
      return;
    }
    const { step, steps } = preview;
    if (step !== undefined && steps && step / steps < (this.sent + 1) / (this.count + 1)) return;
    this.emit(preview.image, this.sent++);
  }
}

/** The encoded image's format, as OpenAI's events name it. */
function formatOf(image: Buffer): 'png' | 'jpeg' | 'webp' {
  if (image[0] === 0xff && image[1] === 0xd8) return 'jpeg';
  if (image.subarray(0, 4).toString('latin1') === 'RIFF' && image.subarray(8, 12).toString('latin1') === 'WEBP')
    return 'webp';
  return 'png';
}

/** What the GPT image models report; diffusion backends count no tokens. */
const noTokens = {
  total_tokens: 0,
  input_tokens: 0,
  output_tokens: 0,
  input_tokens_details: { text_tokens: 0, image_tokens: 0 },
};

/**
 * `stream: true` on /v1/images/generations, as OpenAI streams images: `image_generation.partial_image`
 * events (up to `partial_images`) while the backend works, then one `image_generation.completed`
 * event per image with its usage. The generation runs here, not through the job queue: its previews
 * need this connection. Nothing is sent before the first event, so a refusal or an upstream failure
 * up to then keeps its real status; a failure after it is an `error` event, as OpenAI sends one.
 */
export async function streamImages(
  services: GenerateServices,
  request: FastifyRequest,
  reply: FastifyReply,
  body: Record<string, unknown>,
  partialImages: number,
): Promise<FastifyReply> {
  const spec = imageSpec(services, body);
  const params = spec.params as unknown as ImageParams;
  const settings = {
    size: `${params.width}x${params.height}`,
    quality: typeof body.quality === 'string' ? body.quality : 'auto',
    background: typeof body.background === 'string' ? body.background : 'auto',
  };
  let stream: EventStream | undefined;
  const open = (): EventStream => (stream ??= openEventStream(request, reply));
  const send = (type: string, image: Buffer, fields: Record<string, unknown>): void =>
    open().event(type, {
      type,
      b64_json: image.toString('base64'),
      created_at: Math.floor(Date.now() / 1000),
      ...settings,
      output_format: formatOf(image),
      ...fields,
    });
  const partials = new PartialImages(partialImages, (image, index) =>
    send('image_generation.partial_image', image, { partial_image_index: index }),
  );
  let generation: Generation;
  try {
    generation = await services.images.generate(params, spec.input, {
      signal: request.work,
      requestId: request.id,
      partialImages,
      onPreview: (preview) => partials.offer(preview),
    });
  } catch (error) {
    if (!stream) throw error;
    const known = isAppError(error) ? error : appError('internal', 'the image stream failed');
    if (!isAppError(error)) request.log.error({ err: error }, 'image stream failed');
    stream.event('error', { type: 'error', ...renderOpenAi(known) });
    stream.end();
    return reply;
  }
  for (const image of generation.images)
    send('image_generation.completed', await savedImage(services, image.id), { usage: generation.usage ?? noTokens });
  open().end();
  return reply;
}
