import type { FastifyInstance } from 'fastify';
import { appError } from '../../errors/app-error.js';
import type { HttpServices } from '../http-services.js';
import { documented, ImageRequest, ImagesResponse, plainJson } from './schemas.js';
import {
  generateNow,
  imageUrl,
  jsonObject,
  responseFormat,
  savedImage,
  type GenerateServices,
} from '../images/generate.js';
import { partialImagesOf, streamImages } from './image-stream.js';

/** What these routes use of the services. */
type ImagesServices = Pick<HttpServices, 'config'> & GenerateServices;

/** "512x768" → width and height; "auto" (or none) → the defaults. */
function size(value: unknown): { width?: number; height?: number } {
  if (value === undefined || value === null || value === 'auto') return {};
  const match = typeof value === 'string' ? /^(\d{1,5})x(\d{1,5})$/.exec(value) : null;
  if (!match)
    throw appError(
      'invalid_parameter',
      `size must be "<width>x<height>" (256 to 1024, multiples of 8) or "auto", received ${JSON.stringify(value)}`,
      { field: 'size' },
    );
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** The fields visiongate reads itself (the seed's generation parameters and OpenAI's size, user, stream). */
const ownFields = new Set([
  'prompt',
  'negative_prompt',
  'num_inference_steps',
  'guidance_scale',
  'width',
  'height',
  'seed',
  'n',
  'strength',
  'model',
  'init_image',
  'size',
  'user',
  'stream',
  'partial_images',
]);

/**
 * POST /v1/images/generations in OpenAI's shape (the official SDKs' `images.generate`):
 * prompt, model, n, size, response_format, user (mapped like the seed's user_id); the
 * diffusion parameters (negative_prompt, seed, num_inference_steps, guidance_scale) ride along
 * as extra body fields. Every other field (quality, OpenAI's styles, output_format, background,
 * response_format, ...) goes unchanged to an OpenAI images backend; another backend refuses it by name.
 */
export function registerOpenAiImageRoutes(app: FastifyInstance, services: ImagesServices): void {
  app.post(
    '/v1/images/generations',
    {
      config: { scope: 'image' as const, surface: 'openai' },
      schema: {
        tags: ['OpenAI'],
        summary: 'Create images (b64_json or url; streamed with partial images when stream is true)',
        body: ImageRequest,
        ...documented(ImagesResponse, [400, 401, 403, 404, 429, 502, 503, 504]),
      },
      ...plainJson,
    },
    async (request, reply) => {
      const body = jsonObject(request.body);
      const format = responseFormat(body);
      const partialImages = partialImagesOf(body.partial_images);
      const user = typeof body.user === 'string' && body.user ? body.user : undefined;
      // A style that names a configured preset is ours; any other (OpenAI's vivid, natural) is the backend's.
      const preset = typeof body.style === 'string' && body.style in services.config.images.presets;
      const openai = Object.fromEntries(
        Object.entries(body).filter(
          ([k, v]) => !ownFields.has(k) && v !== undefined && v !== null && !(k === 'style' && preset),
        ),
      );
      const forwarded = Object.keys(openai);
      let toBackend = false;
      if (forwarded.length) {
        const model = services.images.resolve(
          typeof body.model === 'string' && body.model ? body.model : null,
          user ?? 'default',
        );
        const backend = services.config.models[model]?.image?.backend;
        toBackend = backend === 'openai';
        // response_format is ours too (we answer with a URL or base64 either way); anything else needs the OpenAI backend.
        const refused = forwarded.find((k) => k !== 'response_format');
        if (!toBackend && refused)
          throw appError(
            'unsupported_parameter',
            `${refused} is not supported by this model's backend (${backend}); received ${JSON.stringify(openai[refused])}. Only an OpenAI images backend takes it${refused === 'style' ? `; configured styles: ${Object.keys(services.config.images.presets).join(', ') || 'none'}` : ''}`,
            { field: refused },
          );
      }
      const { size: _size, user: _user, stream: _stream, partial_images: _partials, ...rest } = body;
      const params = {
        ...rest,
        style: preset ? body.style : undefined,
        ...size(body.size),
        ...(user ? { user_id: user } : {}),
        ...(toBackend ? { openai } : {}),
      };
      if (body.stream === true) return streamImages(services, request, reply, params, partialImages);
      const generation = await generateNow(services, request, params);
      const data = await Promise.all(
        generation.images.map(async (image) =>
          format === 'b64_json'
            ? {
                b64_json: (await savedImage(services, image.id)).toString('base64'),
                revised_prompt: generation.parameters.prompt,
              }
            : { url: imageUrl(services, image.id), revised_prompt: generation.parameters.prompt },
        ),
      );
      return { created: Math.floor(Date.now() / 1000), data };
    },
  );
}
