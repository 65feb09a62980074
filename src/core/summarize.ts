import { appError } from '../errors/app-error.js';
import { documentText, type DocumentText } from './document-text.js';
import type { OcrDependencies, OcrOptions } from './ocr.js';

export type SummaryEngine = 'extractive' | 'abstractive';

export interface SummarizeOptions {
  engine: SummaryEngine;
  /** For extractive: words (approximate); for abstractive: tokens. */
  maxLength: number;
  temperature: number;
  model?: string;
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

/** Characters in / characters out, as the DeepSynth seed computed it; 0 for an empty summary. */
export function compressionRatio(original: number, summary: number): number {
  return summary > 0 ? Math.round((original / summary) * 100) / 100 : 0;
}

/**
 * Summarizes text. The extractive engine runs in a worker thread; abstractive needs a
 * chat model, which the model runtime provides (not configured here yet: a clear 503).
 */
export async function summarizeText(deps: OcrDependencies, text: string, options: SummarizeOptions, signal?: AbortSignal, extracted: Partial<Pick<DocumentText, 'source'>> & { extractMs?: number } = {}): Promise<SummaryResult> {
  const started = performance.now();
  if (options.engine === 'abstractive') {
    throw appError('capability_unavailable', `abstractive summarization needs a chat model${options.model ? ` ('${options.model}')` : ''}, and no chat backend is configured on this server; use engine "extractive"`, { field: 'engine' });
  }
  const result = await deps.workers.run({ type: 'summarize-extractive', text, maxWords: options.maxLength }, signal);
  const summarizeMs = Math.round(performance.now() - started);
  deps.metrics?.summarizeDuration.observe({ engine: 'extractive' }, summarizeMs / 1000);
  return {
    summary: result.summary,
    engine: 'extractive',
    model: null,
    original_length: text.length,
    summary_length: result.summary.length,
    compression_ratio: compressionRatio(text.length, result.summary.length),
    sentences: { total: result.sentenceCount, selected: result.selected },
    source: extracted.source ?? 'text',
    parameters: { max_length: options.maxLength, temperature: options.temperature },
    timings: { extract_ms: extracted.extractMs ?? 0, summarize_ms: summarizeMs, total_ms: (extracted.extractMs ?? 0) + summarizeMs },
  };
}

/** Summarizes a file: its text first (text layer, OCR or a parser), then the summary. */
export async function summarizeDocument(deps: OcrDependencies, bytes: Buffer, filename: string | undefined, options: SummarizeOptions, ocr: Omit<OcrOptions, 'pages'>, signal?: AbortSignal): Promise<SummaryResult> {
  const started = performance.now();
  const doc = await documentText(deps, bytes, filename, ocr, signal);
  if (!doc.text.trim()) throw appError('corrupt_document', 'no text was found in the document', { received: doc.source });
  return summarizeText(deps, doc.text, options, signal, { source: doc.source, extractMs: Math.round(performance.now() - started) });
}
