import { appError } from '../errors/app-error.js';
import { describeBytes, sniffKind } from '../documents/sniff.js';
import { controlCharacters, textTooLong, type MarkupKind } from '../documents/text-extract.js';
import { ocrDocument, type OcrDependencies, type OcrOptions } from './ocr.js';

export interface DocumentText {
  text: string;
  /** How the text was obtained. */
  source: 'text' | 'markdown' | 'html' | 'docx' | 'pdf-text-layer' | 'ocr';
  pages?: number;
}

const looksLikeHtml = (text: string): boolean =>
  /^\s*(<!doctype html|<html|<head|<body|<article|<div|<p[\s>])/i.test(text);
const looksLikeMarkdown = (text: string): boolean =>
  /^(?:#{1,6}[ \t]|[ \t]*[-*+][ \t]|[ \t]*\d+\.[ \t]|```)/m.test(text) && /^#{1,6}[ \t]/m.test(text);
// A DOCX is a ZIP whose entries include word/document.xml (names are stored uncompressed).
const isDocx = (bytes: Buffer): boolean =>
  bytes[0] === 0x50 && bytes[1] === 0x4b && bytes.includes('word/document.xml');

/**
 * The text of any file visiongate reads: images and PDFs through the document pipeline
 * (text layer or OCR), DOCX/HTML/Markdown through their parsers, plain UTF-8 as it is.
 * Parsers run in worker threads.
 */
export async function documentText(
  deps: OcrDependencies,
  bytes: Buffer,
  filename: string | undefined,
  ocr: Omit<OcrOptions, 'pages'>,
  signal?: AbortSignal,
): Promise<DocumentText> {
  if (bytes.length === 0)
    throw appError('corrupt_document', 'the file is empty (0 bytes)', { received: 'an empty file' });
  if (sniffKind(bytes)) {
    const result = await ocrDocument(deps, bytes, ocr, signal);
    const allTextLayer = result.pages.every((p) => p.source === 'text-layer');
    return { text: result.text, source: allTextLayer ? 'pdf-text-layer' : 'ocr', pages: result.pages.length };
  }
  if (isDocx(bytes)) return { text: await extract(deps, 'docx', bytes, signal), source: 'docx' };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw appError(
      'unsupported_media_type',
      `received ${describeBytes(bytes)}, which is neither UTF-8 text nor a supported document (TXT, Markdown, HTML, DOCX, PDF or an image)`,
      { received: describeBytes(bytes) },
    );
  }
  // NUL and other control characters are no text (a truncated BMP, a file of zeros): refuse, never "summarize" them.
  if (controlCharacters(text) > 0) {
    throw appError(
      'unsupported_media_type',
      `received ${describeBytes(bytes)} holding control characters (such as NUL), which is binary data, not text; send TXT, Markdown, HTML, DOCX, PDF or an image`,
      { received: 'binary data' },
    );
  }
  if (text.length > deps.limits.maxTextChars * 2)
    throw textTooLong(text.length, deps.limits.maxTextChars * 2, 'the file (markup may be twice the text limit)');
  const name = (filename ?? '').toLowerCase();
  if (/\.html?$/.test(name) || looksLikeHtml(text))
    return { text: await extract(deps, 'html', bytes, signal), source: 'html' };
  if (/\.(md|markdown)$/.test(name) || looksLikeMarkdown(text))
    return { text: await extract(deps, 'markdown', bytes, signal), source: 'markdown' };
  return { text, source: 'text' };
}

async function extract(deps: OcrDependencies, kind: MarkupKind, bytes: Buffer, signal?: AbortSignal): Promise<string> {
  try {
    const { maxDecompressedBytes, maxArchiveEntries, maxTextChars } = deps.limits;
    return await deps.workers.run(
      { type: 'extract-text', kind, data: bytes, limits: { maxDecompressedBytes, maxArchiveEntries, maxTextChars } },
      signal,
    );
  } catch (error) {
    if ((error as { code?: string }).code) throw error;
    throw appError('corrupt_document', `the ${kind.toUpperCase()} file cannot be read: ${(error as Error).message}`, {
      received: kind,
    });
  }
}
