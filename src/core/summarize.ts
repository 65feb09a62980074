import { appError } from '../errors/app-error.js';
import { controlCharacters, textTooLong } from '../documents/text-extract.js';
import { documentText, type DocumentText } from './document-text.js';
import { summarizeAbstractive } from './abstractive.js';
import type { ChatDependencies } from './chat.js';
import type { OcrOptions } from './ocr.js';

export type SummaryEngine = 'extractive' | 'abstractive';

export interface SummarizeOptions {
  engine: SummaryEngine;
  /** For extractive: words (approximate); for abstractive: tokens. */
  maxLength: number;
  temperature: number;
  model?: string;
  /** A document with no text gets an empty summary instead of a 422 (the DeepSynth seed's model answered any image). */
  allowEmpty?: boolean;
}

export interface SummaryResult {
  summary: string;
  engine: SummaryEngine;
  model: string | null;
  original_length: number;
  summary_length: number;
  compression_ratio: number;
  sentences: { total: number; selected: number[] };
  source: DocumentText['source'];
  parameters: { max_length: number; temperature: number };
  timings: { extract_ms: number; summarize_ms: number; total_ms: number };
}

/** Characters as Python's len() counts them (code points: an emoji is one, not two UTF-16 units). */
export function characterCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** Characters in / characters out, as the DeepSynth seed computed it; 0 for an empty summary. */
export function compressionRatio(original: number, summary: number): number {
  return summary > 0 ? Math.round((original / summary) * 100) / 100 : 0;
}

/** Deltas of an abstractive summary as they stream, for callers that forward them. */
export type SummaryDeltas = (delta: string) => void;

/**
 * Summarizes text: extractive in a worker thread, or abstractive through a chat model
 * (map-reduce over the model's context; `onDelta` receives the final step's tokens).
 */
export async function summarizeText(
  deps: ChatDependencies,
  text: string,
  options: SummarizeOptions,
  signal?: AbortSignal,
  extracted: Partial<Pick<DocumentText, 'source'>> & { extractMs?: number } = {},
  onDelta?: SummaryDeltas,
): Promise<SummaryResult> {
  const started = performance.now();
  if (text.length > deps.limits.maxTextChars) throw textTooLong(text.length, deps.limits.maxTextChars);
  // A few stray control characters happen in extracted text; a text made of them (NULs) is binary data.
  const controls = controlCharacters(text);
  if (controls > 0 && controls >= text.length * 0.05)
    throw appError(
      'invalid_parameter',
      `the text is binary data: ${controls} of its ${text.length} characters are control characters such as NUL`,
      { field: 'text', received: 'binary data' },
    );
  let summary = '';
  let model: string | null = null;
  let sentences: SummaryResult['sentences'] = { total: 0, selected: [] };
  if (options.engine === 'abstractive') {
    for await (const chunk of summarizeAbstractive(
      deps,
      text,
      {
        ...(options.model ? { model: options.model } : {}),
        maxLength: options.maxLength,
        temperature: options.temperature,
      },
      signal,
    )) {
      model = chunk.model ?? model;
      if (chunk.type === 'delta') {
        summary += chunk.content;
        onDelta?.(chunk.content);
      }
    }
    summary = summary.trim();
  } else {
    const result = await deps.workers.run({ type: 'summarize-extractive', text, maxWords: options.maxLength }, signal);
    summary = result.summary;
    sentences = { total: result.sentenceCount, selected: result.selected };
  }
  const summarizeMs = Math.round(performance.now() - started);
  deps.metrics?.summarizeDuration.observe({ engine: options.engine }, summarizeMs / 1000);
  const originalLength = characterCount(text);
  const summaryLength = characterCount(summary);
  return {
    summary,
    engine: options.engine,
    model,
    original_length: originalLength,
    summary_length: summaryLength,
    compression_ratio: compressionRatio(originalLength, summaryLength),
    sentences,
    source: extracted.source ?? 'text',
    parameters: { max_length: options.maxLength, temperature: options.temperature },
    timings: {
      extract_ms: extracted.extractMs ?? 0,
      summarize_ms: summarizeMs,
      total_ms: (extracted.extractMs ?? 0) + summarizeMs,
    },
  };
}

/** Summarizes a file: its text first (text layer, OCR or a parser), then the summary. */
export async function summarizeDocument(
  deps: ChatDependencies,
  bytes: Buffer,
  filename: string | undefined,
  options: SummarizeOptions,
  ocr: Omit<OcrOptions, 'pages'>,
  signal?: AbortSignal,
  onDelta?: SummaryDeltas,
): Promise<SummaryResult> {
  const started = performance.now();
  const doc = await documentText(deps, bytes, filename, ocr, signal);
  if (!doc.text.trim()) {
    if (!options.allowEmpty)
      throw appError('corrupt_document', 'no text was found in the document', { received: doc.source });
    const extractMs = Math.round(performance.now() - started);
    return {
      summary: '',
      engine: options.engine,
      model: null,
      original_length: 0,
      summary_length: 0,
      compression_ratio: 0,
      sentences: { total: 0, selected: [] },
      source: doc.source,
      parameters: { max_length: options.maxLength, temperature: options.temperature },
      timings: { extract_ms: extractMs, summarize_ms: 0, total_ms: extractMs },
    };
  }
  return summarizeText(
    deps,
    doc.text,
    options,
    signal,
    { source: doc.source, extractMs: Math.round(performance.now() - started) },
    onDelta,
  );
}
