import type { ModelConfig } from '../config/schema.js';
import { Automatic1111Engine } from './automatic1111/automatic1111-engine.js';
import { ComfyUiEngine } from './comfyui/comfyui-engine.js';
import type { ImageEngine } from './image-spec.js';
import { OpenAiImagesEngine } from './openai-images/openai-images-engine.js';

/** How often backends that are polled (A1111's /progress, ComfyUI's /history without websocket) are read. */
export const progressIntervalMs = 250;

/** The engine of a model's `image:` binding. */
export function createImageEngine(id: string, image: NonNullable<ModelConfig['image']>): ImageEngine {
  const upstream = {
    urls: image.urls,
    ...(image.apiKey ? { apiKey: image.apiKey } : {}),
    timeoutMs: image.timeoutMs,
    connectTimeoutMs: image.connectTimeoutMs,
    maxRetries: image.maxRetries,
    retryStatuses: image.retryStatuses,
  };
  const optional = {
    ...(image.checkpoint ? { checkpoint: image.checkpoint } : {}),
    ...(image.sampler ? { sampler: image.sampler } : {}),
  };
  switch (image.backend) {
    case 'automatic1111':
      return new Automatic1111Engine({ ...upstream, ...optional, progressIntervalMs });
    case 'comfyui':
      return new ComfyUiEngine({
        ...upstream,
        ...optional,
        ...(image.workflow ? { workflow: image.workflow } : {}),
        progressIntervalMs,
      });
    case 'openai':
      return new OpenAiImagesEngine({ ...upstream, model: image.model ?? id, extendedParams: image.extendedParams });
  }
}
