import type { FastifyInstance } from 'fastify';
import { appError } from '../../errors/app-error.js';
import type { HttpServices } from '../http-services.js';
import { generateNow, imageUrl, jsonObject, responseFormat, savedImage, type GenerateServices } from '../images/generate.js';

/** What these routes use of the services. */
type ImagesServices = Pick<HttpServices, 'config'> & GenerateServices;

/** "512x768" → width and height; "auto" (or none) → the defaults. */
function size(value: unknown): { width?: number; height?: number } {
  if (value === undefined || value === null || value === 'auto') return {};
  const match = typeof value === 'string' ? /^(\d{1,5})x(\d{1,5})$/.exec(value) : null;
  if (!match) throw appError('invalid_parameter', `size must be "<width>x<height>" (256 to 1024, multiples of 8) or "auto", received ${JSON.stringify(value)}`, { field: 'size' });
  return { width: Number(match[1]), height: Number(match[2]) };
}

/**
 * POST /v1/images/generations in OpenAI's shape (the official SDKs' `images.generate`):
 * prompt, model, n, size, response_format, user (mapped like the seed's user_id); the
 * diffusion parameters (negative_prompt, seed, num_inference_steps, guidance_scale) ride along as extra body fields.
 */
export function registerOpenAiImageRoutes(app: FastifyInstance, services: ImagesServices): void {
  app.post('/v1/images/generations', { config: { surface: 'openai' }, schema: { tags: ['OpenAI'], summary: 'Create images (b64_json or url)' } }, async (request) => {
    const body = jsonObject(request.body);
    const format = responseFormat(body);
    // OpenAI's own styles (vivid, natural) are no presets here: only a configured preset name is taken.
    const style = typeof body.style === 'string' && body.style in services.config.images.presets ? body.style : undefined;
    const { quality: _quality, output_format: _format, size: _size, user, ...rest } = body;
    const generation = await generateNow(services, request, { ...rest, style, ...size(body.size), ...(typeof user === 'string' && user ? { user_id: user } : {}) });
    const data = await Promise.all(generation.images.map(async (image) => (format === 'b64_json' ? { b64_json: (await savedImage(services, image.id)).toString('base64'), revised_prompt: generation.parameters.prompt } : { url: imageUrl(services, image.id), revised_prompt: generation.parameters.prompt })));
    return { created: Math.floor(Date.now() / 1000), data };
  });
}
