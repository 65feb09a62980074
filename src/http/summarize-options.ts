import type { OcrDefaults, OcrOptions } from '../core/ocr.js';
import type { SummarizeOptions, SummaryEngine } from '../core/summarize.js';
import { appError } from '../errors/app-error.js';
import { numberField } from './number-field.js';
import { ocrOptionsFrom } from './ocr-options.js';

const engines: SummaryEngine[] = ['extractive', 'abstractive'];

/**
 * max_length (default 128), temperature (default 0.7), engine, model, from JSON or form
 * fields. The engine defaults to abstractive when a model is named or a chat model is
 * configured, else extractive.
 */
export function summarizeOptionsFrom(fields: Record<string, unknown>, chatConfigured: boolean): SummarizeOptions {
  const engine = (fields.engine ?? (fields.model || chatConfigured ? 'abstractive' : 'extractive')) as SummaryEngine;
  if (!engines.includes(engine))
    throw appError(
      'invalid_parameter',
      `engine must be one of ${engines.join(', ')}, received ${JSON.stringify(fields.engine)}`,
      { field: 'engine', allowed: engines },
    );
  return {
    engine,
    maxLength: numberField(fields.max_length, 'max_length', { min: 1, max: 4096, integer: true }) ?? 128,
    temperature: numberField(fields.temperature, 'temperature', { min: 0, max: 2, integer: false }) ?? 0.7,
    ...(typeof fields.model === 'string' && fields.model ? { model: fields.model } : {}),
  };
}

/** For a document: `engine` names the summarizer; the OCR engine for scanned pages is `ocr_engine`. */
export function summarizeDocumentOptions(
  fields: Record<string, string>,
  defaults: OcrDefaults,
  chatConfigured: boolean,
): { options: SummarizeOptions; ocr: OcrOptions } {
  const { engine: _summaryEngine, ocr_engine: ocrEngine, ...rest } = fields;
  return {
    options: summarizeOptionsFrom(fields, chatConfigured),
    ocr: ocrOptionsFrom({ ...rest, ...(ocrEngine ? { engine: ocrEngine } : {}) }, defaults),
  };
}
