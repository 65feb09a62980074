import { randomUUID } from 'node:crypto';
import sharp, { type Metadata } from 'sharp';
import { appError, formatBytes, isAppError } from '../errors/app-error.js';
import { readBmpHeader } from './bmp.js';
import type { PdfPageOutput, PdfPageRequest, PdfSummary, TextLayerWord } from './pdf-reader.js';
import type { GreyImage } from './raster.js';
import { describeBytes, mimeTypes, sniffKind, type DocumentKind } from './sniff.js';

export interface DocumentLimits {
  maxDocumentBytes: number;
  maxPixelsPerPage: number;
  maxPages: number;
  maxRenderSide: number;
  pdfRenderTimeoutMs: number;
  minRenderDpi: number;
  maxDecompressedBytes: number;
  maxArchiveEntries: number;
  maxTextChars: number;
  maxUpstreamCallsPerRequest: number;
}

export interface PageReadOptions {
  dpi: number;
  renderTimeoutMs: number;
  /** A PDF page with fewer text-layer characters than this is treated as a scan. */
  minTextChars: number;
  /** OCR even pages that have a text layer. */
  forceOcr: boolean;
  /** Also render text-layer pages to pixels (for previews). */
  wantImage?: boolean;
}

/** One page, either already text (a PDF text layer) or pixels to recognise. */
export type DocumentPage =
  | { page: number; width: number; height: number; source: 'text-layer'; words: TextLayerWord[]; image?: GreyImage }
  | { page: number; width: number; height: number; source: 'ocr'; image: GreyImage };

export interface OpenedDocument {
  kind: DocumentKind;
  mimeType: string;
  byteLength: number;
  pageCount: number;
  /** Image size of the first page (pixels) or PDF page size at the requested dpi. */
  readPage(page: number, options: PageReadOptions, signal?: AbortSignal): Promise<DocumentPage>;
  close(): Promise<void>;
}

function checkPixels(width: number, height: number, limits: DocumentLimits): void {
  if (!(width > 0 && height > 0)) throw appError('corrupt_document', `the image declares impossible dimensions ${width}x${height}`);
  if (width * height > limits.maxPixelsPerPage) {
    throw appError('too_many_pixels', `the image is ${width}x${height} = ${(width * height).toLocaleString('en')} pixels; the limit is ${limits.maxPixelsPerPage.toLocaleString('en')} pixels per page (limits.maxPixelsPerPage)`, {
      limit: limits.maxPixelsPerPage,
      width,
      height,
    });
  }
}

function checkPages(pageCount: number, limits: DocumentLimits): void {
  if (pageCount > limits.maxPages) {
    throw appError('too_many_pages', `the document has ${pageCount} pages; the limit is ${limits.maxPages} pages per document (limits.maxPages)`, { limit: limits.maxPages, pageCount });
  }
}

/** The document's kind, read from its first bytes; 415 naming what it is when it is none we read. */
export function documentKind(bytes: Uint8Array): DocumentKind {
  const kind = sniffKind(bytes);
  if (!kind) {
    throw appError('unsupported_media_type', `received ${describeBytes(bytes)}; supported documents are JPEG, PNG, TIFF, BMP, WebP, GIF and PDF (the type is read from the content, not the file name)`, {
      received: describeBytes(bytes),
      allowed: Object.values(mimeTypes),
    });
  }
  return kind;
}

/**
 * The worker threads a document is parsed, rendered and decoded on, so the event loop never
 * does it (runtime/worker-pool.ts implements it).
 */
export type DocumentTask =
  | { type: 'pdf-summary'; docId: string; data: Uint8Array; maxImagePixels: number }
  | ({ type: 'pdf-page'; docId: string; data: Uint8Array; maxImagePixels: number } & PdfPageRequest)
  | { type: 'pdf-close'; docId: string }
  | { type: 'bmp-decode'; data: Uint8Array };

/** What each document task gives back. */
export interface DocumentTaskResults {
  'pdf-summary': PdfSummary;
  'pdf-page': PdfPageOutput;
  'pdf-close': null;
  'bmp-decode': GreyImage;
}

export interface DocumentWorkers {
  run<T extends DocumentTask>(task: T, signal?: AbortSignal): Promise<DocumentTaskResults[T['type']]>;
}

/** Sniffs, checks limits, and returns a handle that reads pages lazily (off the main thread). */
export async function openDocument(bytes: Buffer, limits: DocumentLimits, pool: DocumentWorkers, signal?: AbortSignal): Promise<OpenedDocument> {
  if (bytes.length === 0) throw appError('corrupt_document', 'the document is empty (0 bytes)', { received: 'an empty file' });
  if (bytes.length > limits.maxDocumentBytes) {
    throw appError('payload_too_large', `the document is ${formatBytes(bytes.length)}; the limit is ${formatBytes(limits.maxDocumentBytes)} (limits.maxDocumentBytes)`, { limit: limits.maxDocumentBytes });
  }
  const kind = documentKind(bytes);
  const base = { kind, mimeType: mimeTypes[kind], byteLength: bytes.length };
  if (kind === 'pdf') return openPdfDocument(bytes, base, limits, pool, signal);
  if (kind === 'bmp') return openBmp(bytes, base, limits, pool);
  return openRasterImage(bytes, base, limits);
}

type Base = Pick<OpenedDocument, 'kind' | 'mimeType' | 'byteLength'>;

async function openRasterImage(bytes: Buffer, base: Base, limits: DocumentLimits): Promise<OpenedDocument> {
  let meta: Metadata;
  try {
    // Headers only: no pixel is decoded before the limits pass.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw appError('corrupt_document', `the ${base.kind.toUpperCase()} image cannot be read: ${(error as Error).message}`, { received: base.kind }, { cause: error });
  }
  checkPixels(meta.width ?? 0, meta.pageHeight ?? meta.height ?? 0, limits);
  // Frames of a GIF or WebP animation are not pages; a TIFF's directories are.
  const pageCount = base.kind === 'tiff' ? (meta.pages ?? 1) : 1;
  checkPages(pageCount, limits);
  return {
    ...base,
    pageCount,
    async readPage(page) {
      try {
        // libtiff reports strips cut short, past the end of the file or in an unknown compression as
        // errors, not truncation: without failOn 'error' they decode as a blank page (an empty 200).
        const failOn = base.kind === 'tiff' ? 'error' : 'truncated';
        const { data, info } = await sharp(bytes, { page: page - 1, limitInputPixels: limits.maxPixelsPerPage, failOn })
          .rotate()
          .flatten({ background: '#ffffff' })
          .greyscale()
          .raw()
          .toBuffer({ resolveWithObject: true });
        checkPixels(info.width, info.height, limits);
        return { page, width: info.width, height: info.height, source: 'ocr', image: { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) } };
      } catch (error) {
        if (isAppError(error)) throw error;
        const message = (error as Error).message;
        if (/pixel limit/i.test(message)) checkPixels(Number.MAX_SAFE_INTEGER, 1, limits);
        throw appError('corrupt_document', `page ${page} of the ${base.kind.toUpperCase()} image cannot be decoded: ${message}`, { received: base.kind }, { cause: error });
      }
    },
    async close() {},
  };
}

async function openBmp(bytes: Buffer, base: Base, limits: DocumentLimits, pool: DocumentWorkers): Promise<OpenedDocument> {
  const header = readBmpHeader(bytes);
  checkPixels(header.width, header.height, limits);
  return {
    ...base,
    pageCount: 1,
    async readPage(page, _options, signal) {
      const image = await pool.run({ type: 'bmp-decode', data: bytes }, signal);
      return { page, width: image.width, height: image.height, source: 'ocr', image };
    },
    async close() {},
  };
}

async function openPdfDocument(bytes: Buffer, base: Base, limits: DocumentLimits, pool: DocumentWorkers, signal?: AbortSignal): Promise<OpenedDocument> {
  // Shared memory: every worker thread reads the same bytes without a copy per page.
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  const docId = randomUUID();
  const summary = await pool.run({ type: 'pdf-summary', docId, data: shared, maxImagePixels: limits.maxPixelsPerPage }, signal);
  if (summary.hasJavaScript) {
    throw appError('pdf_javascript', 'the PDF contains JavaScript actions, which visiongate does not accept; remove the scripts (for example by printing it to a new PDF) and retry', { received: 'PDF with JavaScript' });
  }
  checkPages(summary.pageCount, limits);
  return {
    ...base,
    pageCount: summary.pageCount,
    async readPage(page, options, pageSignal) {
      const out = await pool.run(
        { type: 'pdf-page', docId, data: shared, maxImagePixels: limits.maxPixelsPerPage, pageNumber: page, dpi: options.dpi, minTextChars: options.minTextChars, maxRenderSide: limits.maxRenderSide, maxPixels: limits.maxPixelsPerPage, minRenderDpi: limits.minRenderDpi, renderTimeoutMs: options.renderTimeoutMs, forceRender: options.forceOcr, wantImage: options.wantImage ?? false },
        pageSignal,
      );
      if (out.textLayer) return { page, width: out.width, height: out.height, source: 'text-layer', words: out.words, ...(out.raster ? { image: out.raster } : {}) };
      if (!out.raster) throw new Error('the PDF worker returned neither a text layer nor pixels');
      return { page, width: out.raster.width, height: out.raster.height, source: 'ocr', image: out.raster };
    },
    async close() {
      // Best effort: reaches one thread; the others drop the document when it ages out.
      await pool.run({ type: 'pdf-close', docId }).catch(() => undefined);
    },
  };
}
