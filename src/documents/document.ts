import { randomUUID } from 'node:crypto';
import type { Metadata } from 'sharp';
import { loadSharp } from '../shared/lazy-modules.js';
import { appError, formatBytes, isAppError } from '../errors/app-error.js';
import { readBmpHeader } from './bmp.js';
import type { PdfPageOutput, PdfPageRequest, PdfSummary, PdfTextPage, PdfTextPagesRequest } from './pdf-reader.js';
import type { TextLayerLine } from './text-layer.js';
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
  | { page: number; width: number; height: number; source: 'text-layer'; lines: TextLayerLine[]; image?: GreyImage }
  | { page: number; width: number; height: number; source: 'ocr'; image: GreyImage };

export interface OpenedDocument {
  kind: DocumentKind;
  mimeType: string;
  byteLength: number;
  pageCount: number;
  /** Image size of the first page (pixels) or PDF page size at the requested dpi. */
  readPage(page: number, options: PageReadOptions, signal?: AbortSignal): Promise<DocumentPage>;
  /** Pixels a page will hold once read (decoded or rendered), known before reading it. */
  pagePixels(page: number, options: PageReadOptions, signal?: AbortSignal): Promise<number>;
  /**
   * PDFs: the text layers of `pages`, read in runs of pages (one worker task per run, not per
   * page; the runs spread over the threads) and without rendering. Each page's promise settles
   * when its run is read: with the page, or undefined for a scan (read it with readPage).
   */
  readTextLayers?(
    pages: number[],
    options: PageReadOptions,
    signal?: AbortSignal,
  ): Map<number, Promise<DocumentPage | undefined>>;
  close(): Promise<void>;
}

function checkPixels(width: number, height: number, limits: DocumentLimits): void {
  if (!(width > 0 && height > 0))
    throw appError('corrupt_document', `the image declares impossible dimensions ${width}x${height}`);
  if (width * height > limits.maxPixelsPerPage) {
    throw appError(
      'too_many_pixels',
      `the image is ${width}x${height} = ${(width * height).toLocaleString('en')} pixels; the limit is ${limits.maxPixelsPerPage.toLocaleString('en')} pixels per page (limits.maxPixelsPerPage)`,
      {
        limit: limits.maxPixelsPerPage,
        width,
        height,
      },
    );
  }
}

function checkPages(pageCount: number, limits: DocumentLimits): void {
  if (pageCount > limits.maxPages) {
    throw appError(
      'too_many_pages',
      `the document has ${pageCount} pages; the limit is ${limits.maxPages} pages per document (limits.maxPages)`,
      { limit: limits.maxPages, pageCount },
    );
  }
}

/** The document's kind, read from its first bytes; 415 naming what it is when it is none we read. */
export function documentKind(bytes: Uint8Array): DocumentKind {
  const kind = sniffKind(bytes);
  if (!kind) {
    throw appError(
      'unsupported_media_type',
      `received ${describeBytes(bytes)}; supported documents are JPEG, PNG, TIFF, BMP, WebP, GIF and PDF (the type is read from the content, not the file name)`,
      {
        received: describeBytes(bytes),
        allowed: Object.values(mimeTypes),
      },
    );
  }
  return kind;
}

/**
 * The worker threads a document is parsed, rendered and decoded on, so the event loop never
 * does it (runtime/worker-pool.ts implements it).
 */
/**
 * What every task on an open PDF carries: its bytes and limits. `maxImagePixels`: images over it are
 * never decoded, and no image stream may inflate past 4 bytes a pixel of it; `maxStreamBytes`: what
 * any other stream (page content, fonts, object streams) may inflate to.
 */
export interface PdfTaskBase {
  docId: string;
  data: Uint8Array;
  maxImagePixels: number;
  maxStreamBytes: number;
}

export type DocumentTask =
  | ({ type: 'pdf-summary' } & PdfTaskBase)
  | ({ type: 'pdf-page' } & PdfTaskBase & PdfPageRequest)
  | ({ type: 'pdf-page-size' } & PdfTaskBase & PdfPageRequest)
  | ({ type: 'pdf-text-pages' } & PdfTaskBase & PdfTextPagesRequest)
  | { type: 'pdf-close'; docId: string }
  | { type: 'bmp-decode'; data: Uint8Array };

/** What each document task gives back. */
export interface DocumentTaskResults {
  'pdf-summary': PdfSummary;
  'pdf-page': PdfPageOutput;
  'pdf-page-size': { width: number; height: number };
  'pdf-text-pages': PdfTextPage[];
  'pdf-close': null;
  'bmp-decode': GreyImage;
}

export interface DocumentWorkers {
  run<T extends DocumentTask>(task: T, signal?: AbortSignal): Promise<DocumentTaskResults[T['type']]>;
  /** Most tasks it runs at once (a long PDF's text is shared out among them). */
  readonly size: number;
}

/** Sniffs, checks limits, and returns a handle that reads pages lazily (off the main thread). */
export async function openDocument(
  bytes: Buffer,
  limits: DocumentLimits,
  pool: DocumentWorkers,
  signal?: AbortSignal,
): Promise<OpenedDocument> {
  if (bytes.length === 0)
    throw appError('corrupt_document', 'the document is empty (0 bytes)', { received: 'an empty file' });
  if (bytes.length > limits.maxDocumentBytes) {
    throw appError(
      'payload_too_large',
      `the document is ${formatBytes(bytes.length)}; the limit is ${formatBytes(limits.maxDocumentBytes)} (limits.maxDocumentBytes)`,
      { limit: limits.maxDocumentBytes },
    );
  }
  const kind = documentKind(bytes);
  const base = { kind, mimeType: mimeTypes[kind], byteLength: bytes.length };
  if (kind === 'pdf') return openPdfDocument(bytes, base, limits, pool, signal);
  if (kind === 'bmp') return openBmp(bytes, base, limits, pool);
  return openRasterImage(bytes, base, limits);
}

type Base = Pick<OpenedDocument, 'kind' | 'mimeType' | 'byteLength'>;

/**
 * An image's stated density, when it is believable for a scan or a rendered page: 72 (and 96)
 * is what cameras and screenshots write whatever the content, so lower values are not passed on.
 */
const usableDensity = (density: number | undefined): density is number =>
  density !== undefined && density >= 100 && density <= 1200;

async function openRasterImage(bytes: Buffer, base: Base, limits: DocumentLimits): Promise<OpenedDocument> {
  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    // Headers only: no pixel is decoded before the limits pass.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw appError(
      'corrupt_document',
      `the ${base.kind.toUpperCase()} image cannot be read: ${(error as Error).message}`,
      { received: base.kind },
      { cause: error },
    );
  }
  checkPixels(meta.width ?? 0, meta.pageHeight ?? meta.height ?? 0, limits);
  // Frames of a GIF or WebP animation are not pages; a TIFF's directories are.
  const pageCount = base.kind === 'tiff' ? (meta.pages ?? 1) : 1;
  checkPages(pageCount, limits);
  const pixels = (meta.width ?? 0) * (meta.pageHeight ?? meta.height ?? 0);
  return {
    ...base,
    pageCount,
    pagePixels: async () => pixels,
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
        return {
          page,
          width: info.width,
          height: info.height,
          source: 'ocr',
          image: {
            width: info.width,
            height: info.height,
            data: new Uint8Array(data.buffer, data.byteOffset, data.length),
            ...(usableDensity(meta.density) ? { dpi: meta.density } : {}),
          },
        };
      } catch (error) {
        if (isAppError(error)) throw error;
        const message = (error as Error).message;
        if (/pixel limit/i.test(message)) checkPixels(Number.MAX_SAFE_INTEGER, 1, limits);
        throw appError(
          'corrupt_document',
          `page ${page} of the ${base.kind.toUpperCase()} image cannot be decoded: ${message}`,
          { received: base.kind },
          { cause: error },
        );
      }
    },
    async close() {},
  };
}

async function openBmp(
  bytes: Buffer,
  base: Base,
  limits: DocumentLimits,
  pool: DocumentWorkers,
): Promise<OpenedDocument> {
  const header = readBmpHeader(bytes);
  checkPixels(header.width, header.height, limits);
  return {
    ...base,
    pageCount: 1,
    pagePixels: async () => header.width * Math.abs(header.height),
    async readPage(page, _options, signal) {
      const image = await pool.run({ type: 'bmp-decode', data: bytes }, signal);
      return { page, width: image.width, height: image.height, source: 'ocr', image };
    },
    async close() {},
  };
}

/** Fewest pages a thread is given at once: a thread new to a document opens it and loads its fonts first. */
const minRun = 3;

/**
 * A document's pages as runs read by one text task each: up to four per thread, so all threads
 * work on a long document and its first pages come back (and are laid out) while later ones are
 * read; as many runs for each thread and sizes that differ by one page at most, so the threads
 * finish together (runs of 8, 8 and 7 pages left one thread 15 pages of a 23-page document).
 */
export function textRuns(pages: number[], threads: number): number[][] {
  if (pages.length === 0) return [];
  const most = Math.max(1, Math.min(4 * threads, Math.floor(pages.length / minRun)));
  const count = most >= threads ? most - (most % threads) : most;
  const runs: number[][] = [];
  for (let i = 0, start = 0; i < count; i++) {
    const end = start + Math.floor(pages.length / count) + (i < pages.length % count ? 1 : 0);
    runs.push(pages.slice(start, end));
    start = end;
  }
  return runs;
}

async function openPdfDocument(
  bytes: Buffer,
  base: Base,
  limits: DocumentLimits,
  pool: DocumentWorkers,
  signal?: AbortSignal,
): Promise<OpenedDocument> {
  // Shared memory: every worker thread reads the same bytes without a copy per page.
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  const docId = randomUUID();
  const summary = await pool.run(
    {
      type: 'pdf-summary',
      docId,
      data: shared,
      maxImagePixels: limits.maxPixelsPerPage,
      maxStreamBytes: limits.maxDecompressedBytes,
    },
    signal,
  );
  if (summary.hasJavaScript) {
    throw appError(
      'pdf_javascript',
      'the PDF contains JavaScript actions, which visiongate does not accept; remove the scripts (for example by printing it to a new PDF) and retry',
      { received: 'PDF with JavaScript' },
    );
  }
  checkPages(summary.pageCount, limits);
  // Pages readTextLayers found to be scans: rendering them needs no second look at their text.
  const scans = new Set<number>();
  const pageRequest = (page: number, options: PageReadOptions) => ({
    docId,
    data: shared,
    maxImagePixels: limits.maxPixelsPerPage,
    maxStreamBytes: limits.maxDecompressedBytes,
    pageNumber: page,
    dpi: options.dpi,
    minTextChars: options.minTextChars,
    maxRenderSide: limits.maxRenderSide,
    maxPixels: limits.maxPixelsPerPage,
    minRenderDpi: limits.minRenderDpi,
    renderTimeoutMs: options.renderTimeoutMs,
    forceRender: options.forceOcr || (scans.has(page) && !options.wantImage),
    wantImage: options.wantImage ?? false,
  });
  return {
    ...base,
    pageCount: summary.pageCount,
    readTextLayers(pages, options, textSignal) {
      const found = new Map<number, Promise<DocumentPage | undefined>>();
      for (const run of textRuns(pages, pool.size)) {
        const read = pool.run(
          {
            type: 'pdf-text-pages',
            docId,
            data: shared,
            maxImagePixels: limits.maxPixelsPerPage,
            maxStreamBytes: limits.maxDecompressedBytes,
            pages: run,
            dpi: options.dpi,
            minTextChars: options.minTextChars,
            maxRenderSide: limits.maxRenderSide,
          },
          textSignal,
        );
        read.catch(() => undefined); // surfaced through each page's promise
        run.forEach((pageNumber, j) => {
          const page = read.then((out): DocumentPage | undefined => {
            const one = out[j]!;
            if ('scan' in one) {
              scans.add(pageNumber);
              return undefined;
            }
            return { page: pageNumber, width: one.width, height: one.height, source: 'text-layer', lines: one.lines };
          });
          page.catch(() => undefined);
          found.set(pageNumber, page);
        });
      }
      return found;
    },
    async pagePixels(page, options, sizeSignal) {
      const size = await pool.run({ type: 'pdf-page-size', ...pageRequest(page, options) }, sizeSignal);
      return size.width * size.height;
    },
    async readPage(page, options, pageSignal) {
      const out = await pool.run({ type: 'pdf-page', ...pageRequest(page, options) }, pageSignal);
      if (out.textLayer)
        return {
          page,
          width: out.width,
          height: out.height,
          source: 'text-layer',
          lines: out.lines,
          ...(out.raster ? { image: out.raster } : {}),
        };
      if (!out.raster) throw new Error('the PDF worker returned neither a text layer nor pixels');
      return { page, width: out.raster.width, height: out.raster.height, source: 'ocr', image: out.raster };
    },
    async close() {
      // Best effort: reaches one thread; the others drop the document when it ages out.
      await pool.run({ type: 'pdf-close', docId }).catch(() => undefined);
    },
  };
}
