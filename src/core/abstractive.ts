import { estimateTokens, type ChatChunk, type ChatRequest } from '../shared/chat.js';
import { appError } from '../errors/app-error.js';
import type { ChatDependencies } from './chat.js';
import { openChat } from './chat.js';

export interface AbstractiveOptions {
  model?: string;
  /** Tokens of the summary. */
  maxLength: number;
  temperature: number;
}

const system =
  'You summarize documents faithfully and concisely. Keep names, numbers and dates exact. Answer with the summary only, in the language of the text.';

function prompt(text: string, maxTokens: number, partial: boolean): ChatRequest['messages'] {
  const what = partial ? 'this part of a longer document' : 'the following text';
  return [
    { role: 'system', content: system },
    { role: 'user', content: `Summarize ${what} in at most ${maxTokens} tokens.\n\n${text}` },
  ];
}

/** Splits a text at paragraph (else sentence) boundaries into pieces of at most `maxTokens`. */
export function chunkText(text: string, maxTokens: number, count: (text: string) => number = estimateTokens): string[] {
  const chunks: string[] = [];
  let current = '';
  const pieces = text.split(/(\n\s*\n|(?<=[.!?。！？])\s+)/).filter((p) => p.trim());
  for (const piece of pieces) {
    if (count(current + piece) > maxTokens && current) {
      chunks.push(current.trim());
      current = '';
    }
    const size = count(piece);
    if (size > maxTokens) {
      // A single piece too long for the window: cut it in proportion.
      const step = Math.max(1, Math.floor((piece.length * maxTokens) / size));
      for (let at = 0; at < piece.length; at += step) chunks.push(piece.slice(at, at + step));
      continue;
    }
    current += `${piece} `;
  }
  if (current.trim()) chunks.push(current.trim());
  return chunks;
}

function chooseModel(deps: ChatDependencies, model: string | undefined): string {
  const name = model ?? deps.models.firstConversational();
  if (!name)
    throw appError(
      'capability_unavailable',
      'abstractive summarization needs a chat model, and none is configured on this server (bind one under models.<name>.chat); use engine "extractive"',
      { field: 'engine' },
    );
  return name;
}

/**
 * Abstractive summary through a chat model. Text longer than the model's context is
 * summarized chunk by chunk (map), then the partial summaries are summarized (reduce),
 * recursively until one prompt fits. The final step streams.
 */
export async function* summarizeAbstractive(
  deps: ChatDependencies,
  text: string,
  options: AbstractiveOptions,
  signal?: AbortSignal,
): AsyncGenerator<ChatChunk & { model?: string }> {
  const name = chooseModel(deps, options.model);
  const context = deps.models.chat(name);
  if (!context.conversational)
    throw appError(
      'invalid_parameter',
      `model '${context.id}' is an OCR model and cannot write summaries; choose a chat model`,
      { field: 'model' },
    );
  const count = context.engine.tokenCounter ? await context.engine.tokenCounter() : estimateTokens;
  // Room for the instructions and the answer inside the window.
  const window = Math.max(64, context.contextTokens - options.maxLength - count(system) - 128);
  let material = text;
  const limit = deps.limits.maxUpstreamCallsPerRequest;
  let calls = 0;
  while (count(material) > window) {
    const partials: string[] = [];
    const chunks = chunkText(material, window, count);
    // Each level's calls are known before it starts: refuse before the first call rather than midway.
    if (calls + chunks.length + 1 > limit) {
      throw appError(
        'too_many_upstream_calls',
        `summarizing this text with '${context.id}' (a window of ${window} tokens) needs at least ${calls + chunks.length + 1} model calls; the limit is ${limit} per request (limits.maxUpstreamCallsPerRequest); send a shorter text or use engine "extractive"`,
        { limit, field: 'text' },
      );
    }
    calls += chunks.length;
    for (const chunk of chunks) {
      const chat = await openChat(
        deps,
        name,
        {
          messages: prompt(chunk, options.maxLength, true),
          maxTokens: options.maxLength,
          temperature: options.temperature,
        },
        signal,
      );
      try {
        partials.push((await chat.complete(signal)).content.trim());
      } finally {
        chat.release();
      }
    }
    const next = partials.join('\n\n');
    if (count(next) >= count(material))
      throw appError('upstream_error', 'the model does not shorten the text; cannot reduce it to fit its context');
    material = next;
  }
  const chat = await openChat(
    deps,
    name,
    {
      messages: prompt(material, options.maxLength, false),
      maxTokens: options.maxLength,
      temperature: options.temperature,
    },
    signal,
  );
  try {
    for await (const chunk of chat.stream(signal)) yield { ...chunk, model: context.id };
  } finally {
    chat.release();
  }
}
