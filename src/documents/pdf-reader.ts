/**
 * pdf.js work, run only inside document worker threads (never on the main thread):
 * open, inspect for JavaScript, read the text layer with positions, render scanned pages.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as pdfjs from 'pdfjs-dist/legacy/build/pdf.mjs';
import type { PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist/types/src/display/api.js';
import { rgbaToGrey, type GreyImage } from './raster.js';
import { textLayerLines, type TextLayerLine, type TextRun } from './text-layer.js';

const pdfjsRoot = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
// pdf.js reads these from disk in Node when given as folder paths ending in '/'; nothing is fetched.
const assetFolders = {
  standardFontDataUrl: `${join(pdfjsRoot, 'standard_fonts')}/`,
  cMapUrl: `${join(pdfjsRoot, 'cmaps')}/`,
  wasmUrl: `${join(pdfjsRoot, 'wasm')}/`,
  iccUrl: `${join(pdfjsRoot, 'iccs')}/`,
};

export type { TextLayerLine, TextLayerWord } from './text-layer.js';

export interface PdfSummary {
  pageCount: number;
  hasJavaScript: boolean;
}

export interface PdfPageOutput {
  width: number;
  height: number;
  /** The text layer's lines in reading order. */
  lines: TextLayerLine[];
  /** The words come from the page's text layer (no OCR needed). */
  textLayer: boolean;
  /** Present when the page must be OCRed, or a picture of it was asked for. */
  raster?: GreyImage;
}

export interface PdfPageRequest {
  pageNumber: number;
  dpi: number;
  minTextChars: number;
  maxRenderSide: number;
  renderTimeoutMs: number;
  /** OCR the page even when it has a text layer. */
  forceRender: boolean;
  /** Render a picture of the page even when its text layer is read (previews). */
  wantImage: boolean;
}

/** Thrown to the main thread as a plain object so it survives structured cloning. */
export interface PdfFailure {
  failure: 'encrypted' | 'corrupt' | 'render-timeout';
  message: string;
}

/**
 * Opens a PDF. `forText`: only its text will be read, so the standard fonts a PDF names without
 * embedding them are not loaded and parsed (pdf.js knows their widths without them; a third of
 * the time of reading a manual page went to parsing them); rendering needs them.
 */
export async function openPdf(
  data: Uint8Array,
  { forText = false }: { forText?: boolean } = {},
): Promise<PDFDocumentProxy> {
  const { standardFontDataUrl, ...otherAssets } = assetFolders;
  const task = pdfjs.getDocument({
    data,
    isEvalSupported: false,
    enableXfa: false,
    disableFontFace: true,
    useSystemFonts: false,
    cMapPacked: true,
    verbosity: 0,
    ...otherAssets,
    ...(forText ? {} : { standardFontDataUrl }),
  });
  try {
    return await task.promise;
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'PasswordException')
      throw { failure: 'encrypted', message: 'the PDF is password-protected' } satisfies PdfFailure;
    throw {
      failure: 'corrupt',
      message: `the PDF cannot be parsed (${(error as Error).message})`,
    } satisfies PdfFailure;
  }
}

// JavaScript may hide in compressed object streams; pdf.js's own view is checked as well as the raw bytes.
const jsMarker = /\/(JavaScript|JS)\b/;

export async function summarizePdf(doc: PDFDocumentProxy, data: Uint8Array): Promise<PdfSummary> {
  let hasJavaScript = jsMarker.test(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1'));
  if (!hasJavaScript) {
    const actions = await doc.getJSActions().catch(() => null);
    hasJavaScript = Boolean(actions && Object.keys(actions).length);
  }
  return { pageCount: doc.numPages, hasJavaScript };
}

async function readTextLayer(page: PDFPageProxy, viewport: number[], scale: number): Promise<TextLayerLine[]> {
  const content = await page.getTextContent();
  return textLayerLines(content.items as TextRun[], viewport, scale);
}

const textChars = (lines: TextLayerLine[]): number =>
  lines.reduce((n, line) => n + line.words.reduce((m, w) => m + w.text.length, 0), 0);

export interface PdfTextPagesRequest {
  pages: number[];
  dpi: number;
  minTextChars: number;
  maxRenderSide: number;
}

/** A page read from its text layer, or marked as a scan to render and OCR. */
export type PdfTextPage =
  | { pageNumber: number; width: number; height: number; lines: TextLayerLine[] }
  | { pageNumber: number; scan: true };

/**
 * The text layers of many pages in one worker task (one call per document, or per share of it
 * when several threads split a long one): no rendering, no per-page round trip.
 */
export async function readPdfTextPages(doc: PDFDocumentProxy, request: PdfTextPagesRequest): Promise<PdfTextPage[]> {
  const out: PdfTextPage[] = [];
  for (const pageNumber of request.pages) {
    const page = await doc.getPage(pageNumber);
    try {
      const base = page.getViewport({ scale: 1 });
      const scale = Math.min(request.dpi / 72, request.maxRenderSide / Math.max(base.width, base.height));
      const viewport = page.getViewport({ scale });
      const lines = await readTextLayer(page, viewport.transform, scale);
      if (textChars(lines) >= request.minTextChars)
        out.push({ pageNumber, width: Math.round(viewport.width), height: Math.round(viewport.height), lines });
      else out.push({ pageNumber, scan: true });
    } finally {
      page.cleanup();
    }
  }
  return out;
}

export async function readPdfPage(doc: PDFDocumentProxy, request: PdfPageRequest): Promise<PdfPageOutput> {
  const page = await doc.getPage(request.pageNumber);
  try {
    let scale = request.dpi / 72;
    const base = page.getViewport({ scale: 1 });
    const longest = Math.max(base.width, base.height) * scale;
    if (longest > request.maxRenderSide) scale = request.maxRenderSide / Math.max(base.width, base.height);
    const viewport = page.getViewport({ scale });
    // A page OCRed anyway needs no text layer.
    const lines = request.forceRender ? [] : await readTextLayer(page, viewport.transform, scale);
    const width = Math.round(viewport.width);
    const height = Math.round(viewport.height);
    const hasTextLayer = !request.forceRender && textChars(lines) >= request.minTextChars;
    if (hasTextLayer && !request.wantImage) return { width, height, lines, textLayer: true };
    const raster = { ...(await renderPage(doc, page, viewport, request.renderTimeoutMs)), dpi: Math.round(scale * 72) };
    return { width, height, lines: hasTextLayer ? lines : [], textLayer: hasTextLayer, raster };
  } finally {
    page.cleanup();
  }
}

async function renderPage(
  doc: PDFDocumentProxy,
  page: PDFPageProxy,
  viewport: ReturnType<PDFPageProxy['getViewport']>,
  timeoutMs: number,
): Promise<GreyImage> {
  const width = Math.max(1, Math.round(viewport.width));
  const height = Math.max(1, Math.round(viewport.height));
  const factory = (
    doc as unknown as { canvasFactory: { create(w: number, h: number): { canvas: CanvasLike; context: Canvas2D } } }
  ).canvasFactory;
  const { canvas, context } = factory.create(width, height);
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, width, height);
  const task = page.render({ canvasContext: context as never, canvas: canvas as never, viewport });
  const timer = setTimeout(() => task.cancel(), timeoutMs);
  try {
    await task.promise;
  } catch (error) {
    if ((error as Error).name === 'RenderingCancelledException')
      throw {
        failure: 'render-timeout',
        message: `rendering page ${page.pageNumber} took longer than ${timeoutMs} ms`,
      } satisfies PdfFailure;
    throw {
      failure: 'corrupt',
      message: `page ${page.pageNumber} cannot be rendered (${(error as Error).message})`,
    } satisfies PdfFailure;
  } finally {
    clearTimeout(timer);
  }
  const pixels = context.getImageData(0, 0, width, height).data;
  canvas.width = 0; // frees the native surface now rather than at GC
  return rgbaToGrey(pixels, width, height);
}

interface CanvasLike {
  width: number;
}
interface Canvas2D {
  fillStyle: string;
  fillRect(x: number, y: number, w: number, h: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}
