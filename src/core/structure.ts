/**
 * Structured content of an engineering document, found in the OCR result: tables from
 * the page layout, annotations (notes, warnings) and specification-like lines
 * (dimensions, tolerances, part numbers, "key: value" pairs).
 */
import type { OcrResult } from './ocr.js';
import { blocksToMarkdown } from './layout.js';

export interface DetectedTable {
  type: 'detected_table';
  page: number;
  rows: string[][];
  content: string;
  confidence: number;
}

export interface Annotation {
  type: 'note';
  page: number;
  text: string;
}

export type SpecificationKind = 'tolerance' | 'dimension' | 'part_number' | 'key_value';

export interface Specification {
  type: SpecificationKind;
  page: number;
  text: string;
  key?: string;
  value?: string;
}

export interface StructuredContent {
  tables: DetectedTable[];
  diagrams: never[];
  annotations: Annotation[];
  specifications: Specification[];
}

// These run on every OCR line: no two quantifiers may trade the same characters, and a number
// starts only where a digit run starts (the lookbehinds), so each is linear in the line.
const notePattern =
  /^(?:notes?|n\.?b\.?|warning|caution|attention|remarks?|important|注意?|备注|说明|примечание)[\s\d.]*[:：.\-–]/i;
// OCR often reads ± as +: a standalone signed decimal ("+0.05") is read as a tolerance too.
const tolerancePattern =
  /±\s*\d|(?:^|\s)\+\s*\d+[.,]\d+\b|\+\s*\d+(?:[.,]\d+)?\s*\/\s*[-−]\s*\d|\b[A-H][0-9]{1,2}\/[a-h][0-9]{1,2}\b|\bIT\d{1,2}\b/;
const dimensionPattern =
  /(?:[ØΦ⌀]\s*\d|\bR\d+(?:[.,]\d+)?\b|\bM\d+(?:\s*[x×]\s*\d+(?:[.,]\d+)?)?\b|(?<![\d.,])\d+(?:[.,]\d+)?\s*[x×]\s*\d+(?:[.,]\d+)?|(?<![\d.,])\d+(?:[.,]\d+)?\s*(?:mm|cm|µm|um|in|kg|Nm|MPa|kPa|bar|psi|kW|Hz|rpm|°C|°F)\b)/i;
const partNumberPattern =
  /\b(?:P\/N|PN|part\s*(?:no\.?|number|#)|drawing\s*(?:no\.?|number)|dwg\.?\s*no\.?|item\s*no\.?|图号|零件号)\s*(?:[:#：]\s*)?([A-Z0-9][A-Z0-9._/-]{2,})/i;
const keyValuePattern = /^([^:：]{2,40}?)\s*[:：]\s*(\S.{0,200})$/;

/** Classifies one line of text; the most specific kind wins. */
export function classifySpecification(
  text: string,
): { type: SpecificationKind; key?: string; value?: string } | undefined {
  const part = partNumberPattern.exec(text);
  if (part) return { type: 'part_number', value: part[1]! };
  if (tolerancePattern.test(text)) return { type: 'tolerance' };
  if (dimensionPattern.test(text)) return { type: 'dimension' };
  const pair = keyValuePattern.exec(text);
  if (pair && !/^https?$/i.test(pair[1]!.trim()))
    return { type: 'key_value', key: pair[1]!.trim(), value: pair[2]!.trim() };
  return undefined;
}

export function extractStructure(result: OcrResult): StructuredContent {
  const content: StructuredContent = { tables: [], diagrams: [], annotations: [], specifications: [] };
  for (const page of result.pages) {
    for (const block of page.blocks) {
      if (block.type === 'table')
        content.tables.push({
          type: 'detected_table',
          page: page.page,
          rows: block.rows,
          content: blocksToMarkdown([block]),
          confidence: page.confidence,
        });
    }
    for (const line of page.lines) {
      const text = line.text.trim();
      if (notePattern.test(text)) {
        content.annotations.push({ type: 'note', page: page.page, text });
        continue;
      }
      const spec = classifySpecification(text);
      if (spec) content.specifications.push({ ...spec, page: page.page, text });
    }
  }
  return content;
}
