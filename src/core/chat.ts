import { imagesOf, type ChatChunk, type ChatPart, type ChatRequest, type ChatResult } from '../shared/chat.js';
import { recordCost } from '../runtime/usage-meter.js';
import type { ModelRegistry, ChatModel } from '../runtime/model-registry.js';
import { ocrDocument, type OcrDefaults, type OcrDependencies } from './ocr.js';

export interface OpenedChat {
  model: ChatModel;
  request: ChatRequest;
  /** The engine's answer, with its tokens counted against the caller's key. */
  complete(signal?: AbortSignal): Promise<ChatResult>;
  stream(signal?: AbortSignal): AsyncIterable<ChatChunk>;
  /** Images turned into OCR text because the model reads no images. */
  imagesAsText: number;
  /** Gives the model's slot back; call once the answer is complete or abandoned. */
  release(): void;
}

export interface ChatDependencies extends OcrDependencies {
  models: ModelRegistry;
  ocrDefaults: OcrDefaults;
}

/** Images sent to a text-only model become their OCR text, in place. */
async function imagesToText(
  deps: ChatDependencies,
  request: ChatRequest,
  signal?: AbortSignal,
): Promise<{ request: ChatRequest; count: number }> {
  let count = 0;
  const messages = [];
  for (const message of request.messages) {
    if (typeof message.content === 'string' || message.content === null) {
      messages.push(message);
      continue;
    }
    const parts: ChatPart[] = [];
    for (const part of message.content) {
      if (part.type === 'text') {
        parts.push(part);
        continue;
      }
      count++;
      const result = await ocrDocument(
        deps,
        part.data,
        { engine: 'auto', languages: deps.ocrDefaults.languages, dpi: deps.ocrDefaults.dpi, checkboxes: true },
        signal,
      );
      parts.push({ type: 'text', text: `[Text of image ${count}, read by OCR]\n${result.markdown}` });
    }
    messages.push({ ...message, content: parts });
  }
  return { request: { ...request, messages }, count };
}

/**
 * Resolves the model, takes a slot in its bounded queue (503 at once when full), and
 * prepares the request for its engine. The caller streams or completes, then releases.
 */
export async function openChat(
  deps: ChatDependencies,
  modelName: string,
  request: ChatRequest,
  signal?: AbortSignal,
): Promise<OpenedChat> {
  const model = deps.models.chat(modelName);
  const hasImages = request.messages.some((m) => imagesOf(m).length > 0);
  const release = await model.gate.acquire(signal);
  try {
    await deps.models.makeRoom(model.id);
    const prepared =
      !model.engine.vision && hasImages ? await imagesToText(deps, request, signal) : { request, count: 0 };
    deps.models.markUsed(model.id);
    const images = request.messages.reduce((n, m) => n + imagesOf(m).length, 0);
    recordCost('images', images);
    const engine = model.engine;
    const ready = prepared.request;
    return {
      model,
      request: ready,
      imagesAsText: prepared.count,
      release,
      async complete(s) {
        const result = await engine.complete(ready, s);
        recordCost('tokens', result.usage.total_tokens);
        return result;
      },
      async *stream(s) {
        for await (const chunk of engine.stream(ready, s)) {
          if (chunk.type === 'done') recordCost('tokens', chunk.usage.total_tokens);
          yield chunk;
        }
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}
