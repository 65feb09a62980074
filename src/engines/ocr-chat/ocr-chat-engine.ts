import { appError } from '../../errors/app-error.js';
import type { EngineChoice } from '../ocr-engines.js';
import {
  collect,
  estimateTokens,
  imagesOf,
  textOf,
  type ChatChunk,
  type ChatRequest,
  type ChatResult,
} from '../../shared/chat.js';
import type { ChatEngine } from '../chat-spec.js';
import { refuseUnsupported, samplingParameters } from '../unsupported-parameters.js';

/** The options the OCR model reads its images with. */
export interface DocumentReadOptions {
  engine: EngineChoice;
  languages: string[];
  dpi: number;
  checkboxes: boolean;
}

/**
 * Reads an image or PDF into Markdown: the core's OCR use case, handed in by the entry point
 * (an engine knows no use case).
 */
export type DocumentReader = (
  bytes: Buffer,
  options: DocumentReadOptions,
  signal?: AbortSignal,
) => Promise<{ markdown: string }>;

/** A system or user prompt that asks for a Markdown list (OCRFlux's does, in Chinese). */
const wantsList = (prompt: string): boolean => /列表|list/i.test(prompt);

/** A table row's cells joined by " | ", outer pipes dropped (split, not a regex: linear on any line). */
function tableCells(line: string): string {
  const cells = line.split('|').map((cell) => cell.trim());
  if (cells.length > 1 && cells[0] === '') cells.shift();
  if (cells.length > 1 && cells[cells.length - 1] === '') cells.pop();
  return cells.join(' | ');
}

/** Markdown → a Markdown list: headings become items, what follows nests under them. */
export function asList(markdown: string): string {
  const out: string[] = [];
  let nested = false;
  for (const line of markdown.split('\n')) {
    if (!line.trim() || /^\|?\s*-{3}/.test(line) || line === '---') continue;
    const heading = /^#{1,6}\s+(.*)/.exec(line);
    if (heading) {
      out.push(`- ${heading[1]}`);
      nested = true;
      continue;
    }
    const item = /^(\s*)(?:[-*]|\d+\.)\s+(.*)/.exec(line);
    const indent = nested ? '  ' : '';
    if (item) out.push(`${indent}${item[1]}- ${item[2]}`);
    else out.push(`${indent}- ${tableCells(line)}`);
  }
  return out.join('\n');
}

/**
 * The embedded OCR engines as a chat model: the images of the conversation come back as
 * Markdown (checkboxes as [√] / [ ]), as a list when the prompt asks for one. It reads
 * documents; it does not converse, and says so when sent no image.
 */
export class OcrChatEngine implements ChatEngine {
  readonly vision = true;
  readonly backend: string;

  constructor(
    private readonly read: DocumentReader,
    private readonly model: string,
    private readonly ocr: { engine: EngineChoice; languages: string[]; dpi: number },
  ) {
    this.backend = `embedded OCR (${ocr.engine})`;
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatChunk> {
    // OCR is deterministic: sampling parameters and a seed change nothing and are accepted; the rest is refused.
    refuseUnsupported(request, 'embedded OCR', [...samplingParameters, 'seed', 'stream_options'], {
      n: (v) => v === undefined || v === null || v === 1,
    });
    const images = request.messages.flatMap(imagesOf);
    if (images.length === 0) {
      throw appError(
        'invalid_parameter',
        `model '${this.model}' is an OCR model: it reads images and answers with their text as Markdown; send at least one image_url content part`,
        { field: 'messages' },
      );
    }
    const prompt = request.messages.map(textOf).join('\n');
    const list = wantsList(prompt);
    let completion = 0;
    for (const [index, image] of images.entries()) {
      const result = await this.read(image, { ...this.ocr, checkboxes: true }, signal);
      const markdown = list ? asList(result.markdown) : result.markdown;
      const text = `${index > 0 ? '\n\n' : ''}${markdown}`;
      // Honour max_tokens as a cut of the Markdown (tokens estimated).
      const budget = request.maxTokens ?? Infinity;
      const tokens = estimateTokens(text);
      if (completion + tokens > budget) {
        const keep = Math.max(0, Math.floor(text.length * ((budget - completion) / tokens)));
        if (keep > 0) yield { type: 'delta', content: text.slice(0, keep) };
        yield this.done('length', prompt, budget);
        return;
      }
      completion += tokens;
      yield { type: 'delta', content: text };
    }
    yield this.done('stop', prompt, completion);
  }

  private done(finishReason: 'stop' | 'length', prompt: string, completion: number): ChatChunk {
    const promptTokens = estimateTokens(prompt);
    return {
      type: 'done',
      finishReason,
      usage: { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion },
    };
  }

  complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    return collect(this.stream(request, signal));
  }
}
