import type { OcrDefaults, OcrOptions } from '../core/ocr.js';
import { parseLanguages } from '../shared/languages.js';
import { ocrEngineNames } from '../engines/ocr-engines.js';
import type { EngineChoice } from '../engines/ocr-engines.js';
import { appError } from '../errors/app-error.js';
import { numberField } from './number-field.js';
import { parsePages } from '../shared/page-selection.js';

export type OutputFormat = 'json' | 'text' | 'markdown';
const outputs: OutputFormat[] = ['json', 'text', 'markdown'];

const truthy = (v: string | undefined): boolean | undefined =>
  v === undefined
    ? undefined
    : ['1', 'true', 'yes', 'on'].includes(v.toLowerCase())
      ? true
      : ['0', 'false', 'no', 'off', ''].includes(v.toLowerCase())
        ? false
        : undefined;

/** Request fields (query, form or JSON, as strings) → validated OCR options. */
export function ocrOptionsFrom(fields: Record<string, string>, defaults: OcrDefaults): OcrOptions {
  const engine = (fields.engine ?? defaults.engine) as EngineChoice;
  if (engine !== 'auto' && !ocrEngineNames.includes(engine)) {
    throw appError('invalid_parameter', `engine: "${engine}" is not one of auto, ${ocrEngineNames.join(', ')}`, {
      field: 'engine',
      received: engine,
      allowed: ['auto', ...ocrEngineNames],
    });
  }
  const flag = (name: string): boolean => {
    const value = truthy(fields[name]);
    if (fields[name] !== undefined && value === undefined)
      throw appError('invalid_parameter', `${name}: must be true or false, received "${fields[name]}"`, {
        field: name,
      });
    return value ?? false;
  };
  // Parsed now, once; its range is checked against the document when it is open.
  const pages = parsePages(fields.pages);
  return {
    engine,
    languages: parseLanguages(fields.languages ?? fields.language ?? fields.lang, defaults.languages),
    ...(pages ? { pages } : {}),
    dpi: numberField(fields.dpi, 'dpi', { min: 50, max: 600, integer: true }) ?? defaults.dpi,
    forceOcr: flag('force_ocr'),
    previews: flag('previews'),
    checkboxes: flag('checkboxes'),
    exactLanguages: flag('exact_languages'),
  };
}

/** `output=` wins; else the Accept header (text/plain, text/markdown); else JSON. */
export function outputFormat(fields: Record<string, string>, accept: string | undefined): OutputFormat {
  const asked = fields.output ?? fields.format;
  if (asked !== undefined) {
    if (!outputs.includes(asked as OutputFormat))
      throw appError('invalid_parameter', `output: must be one of ${outputs.join(', ')}, received "${asked}"`, {
        field: 'output',
        allowed: outputs,
      });
    return asked as OutputFormat;
  }
  const a = (accept ?? '').toLowerCase();
  if (a.includes('application/json') || a === '' || a.includes('*/*')) return 'json';
  if (a.includes('text/markdown')) return 'markdown';
  if (a.includes('text/plain')) return 'text';
  return 'json';
}
