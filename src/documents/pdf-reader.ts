/**
 * pdf.js work, run only inside document worker threads (never on the main thread):
 * open, inspect for JavaScript, read the text layer with positions, render scanned pages.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist/types/src/display/api.js';
import { pdfjs } from './pdfjs.js';
import { rgbaToGrey, sharedGreyImage, type GreyImage } from './raster.js';
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
  /** Pixels of a rendered page; the page is rendered at a lower dpi to fit, down to minRenderDpi. */
  maxPixels: number;
  minRenderDpi: number;
  renderTimeoutMs: number;
  /** OCR the page even when it has a text layer. */
  forceRender: boolean;
  /** Render a picture of the page even when its text layer is read (previews). */
  wantImage: boolean;
}

/** Thrown to the main thread as a plain object so it survives structured cloning. */
export type PdfFailure =
  | { failure: 'encrypted' | 'corrupt' | 'render-timeout'; message: string }
  | { failure: 'app'; code: 'too_many_pixels'; message: string; facts: Record<string, number> };

const imageRemoved = 'Image exceeded maximum allowed size';
let removedImages = 0;
// pdf.js skips an image over maxImageSize before decoding it, and says so only as a warning:
// this thread's console.warn counts those (and keeps pdf.js's other warnings out of the log),
// so a page that lost an image is refused rather than OCRed without it. One task runs per thread.
const consoleWarn = console.warn.bind(console);
console.warn = (...args: unknown[]): void => {
  const first = typeof args[0] === 'string' ? args[0] : '';
  if (first.includes(imageRemoved)) removedImages++;
  else if (!first.startsWith('Warning: ')) consoleWarn(...args);
};

/**
 * Opens a PDF. `forText`: only its text will be read, so the standard fonts a PDF names without
 * embedding them are not loaded and parsed (pdf.js knows their widths without them; a third of
 * the time of reading a manual page went to parsing them); rendering needs them.
 * Images over `maxImagePixels` are never decoded (pdf.js's maxImageSize).
 */
export async function openPdf(
  data: Uint8Array,
  { forText = false, maxImagePixels = -1 }: { forText?: boolean; maxImagePixels?: number } = {},
): Promise<PDFDocumentProxy> {
  const { standardFontDataUrl, ...otherAssets } = assetFolders;
  const task = pdfjs.getDocument({
    data,
    isEvalSupported: false,
    enableXfa: false,
    disableFontFace: true,
    useSystemFonts: false,
    cMapPacked: true,
    maxImageSize: maxImagePixels,
    // Warnings on: the only way pdf.js reports an image it skipped (see console.warn above).
    verbosity: 1,
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

/** A pdf.js exception about the file (a broken page tree, a bad object) as a corrupt-document failure. */
function corrupt(error: unknown, what: string): PdfFailure {
  const f = error as Partial<PdfFailure> | null;
  if (f && typeof f === 'object' && typeof f.failure === 'string') return f as PdfFailure;
  return { failure: 'corrupt', message: `${what} cannot be read (${(error as Error)?.message ?? String(error)})` };
}

export async function summarizePdf(doc: PDFDocumentProxy, data: Uint8Array): Promise<PdfSummary> {
  if (!(doc.numPages >= 1))
    throw { failure: 'corrupt', message: 'the PDF has no pages (its page tree is empty)' } satisfies PdfFailure;
  try {
    // Walking to the first and last page finds a page tree that loops or a page count that lies.
    await doc.getPage(1);
    if (doc.numPages > 1) await doc.getPage(doc.numPages);
  } catch (error) {
    throw corrupt(error, `the PDF's page tree (${doc.numPages} pages declared)`);
  }
  let hasJavaScript = jsMarker.test(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1'));
  if (!hasJavaScript) {
    const actions = await doc.getJSActions().catch(() => null);
    hasJavaScript = Boolean(actions && Object.keys(actions).length);
  }
  return { pageCount: doc.numPages, hasJavaScript };
}

async function readTextLayer(page: PDFPageProxy, viewport: number[], scale: number): Promise<TextLayerLine[]> {
  const content = await page.getTextContent().catch((error: unknown) => {
    throw corrupt(error, `the text of page ${page.pageNumber}`);
  });
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
    const page = await doc.getPage(pageNumber).catch((error: unknown) => {
      throw corrupt(error, `page ${pageNumber} of the PDF`);
    });
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

/**
 * The scale a page is read at: the asked dpi, lowered so the page fits maxRenderSide and
 * maxPixels; a page that would need less than minRenderDpi to fit is refused (a 10^12-point
 * page), as is one with no area.
 */
function pageScale(pageNumber: number, width: number, height: number, request: PdfPageRequest): number {
  if (!(width > 0 && height > 0 && Number.isFinite(width * height)))
    throw {
      failure: 'corrupt',
      message: `page ${pageNumber} has an impossible size (${width}x${height} points)`,
    } satisfies PdfFailure;
  const fit = Math.min(
    request.maxRenderSide / Math.max(width, height),
    Math.sqrt(request.maxPixels / (width * height)),
  );
  let scale = Math.min(request.dpi / 72, fit);
  // Rounding to whole pixels may overshoot the limit by a row: shrink until it fits.
  while (Math.round(width * scale) * Math.round(height * scale) > request.maxPixels) scale *= 0.999;
  if (scale * 72 < request.minRenderDpi) {
    const inches = `${+(width / 72).toPrecision(3)}x${+(height / 72).toPrecision(3)} inches`;
    const atMin = Math.round((width * request.minRenderDpi) / 72) * Math.round((height * request.minRenderDpi) / 72);
    throw {
      failure: 'app',
      code: 'too_many_pixels',
      message: `page ${pageNumber} is ${inches}: even at ${request.minRenderDpi} dpi (limits.minRenderDpi) it would be ${atMin.toLocaleString('en')} pixels; the limit is ${request.maxPixels.toLocaleString('en')} pixels per page (limits.maxPixelsPerPage)`,
      facts: { limit: request.maxPixels, page: pageNumber, minRenderDpi: request.minRenderDpi },
    } satisfies PdfFailure;
  }
  return scale;
}

/**
 * The pixel size a page would be rendered at (no rendering): what a render of it will hold in
 * memory, known before it starts. Refuses a page too large for any dpi, as readPdfPage does.
 */
export async function readPdfPageSize(
  doc: PDFDocumentProxy,
  request: PdfPageRequest,
): Promise<{ width: number; height: number }> {
  const page = await doc.getPage(request.pageNumber).catch((error: unknown) => {
    throw corrupt(error, `page ${request.pageNumber} of the PDF`);
  });
  const base = page.getViewport({ scale: 1 });
  const scale = pageScale(request.pageNumber, base.width, base.height, request);
  return { width: Math.round(base.width * scale), height: Math.round(base.height * scale) };
}

export async function readPdfPage(doc: PDFDocumentProxy, request: PdfPageRequest): Promise<PdfPageOutput> {
  let page: PDFPageProxy;
  try {
    page = await doc.getPage(request.pageNumber);
  } catch (error) {
    throw corrupt(error, `page ${request.pageNumber} of the PDF`);
  }
  try {
    const base = page.getViewport({ scale: 1 });
    const scale = pageScale(request.pageNumber, base.width, base.height, request);
    const viewport = page.getViewport({ scale });
    // A page OCRed anyway needs no text layer.
    const lines = request.forceRender ? [] : await readTextLayer(page, viewport.transform, scale);
    const width = Math.round(viewport.width);
    const height = Math.round(viewport.height);
    const hasTextLayer = !request.forceRender && textChars(lines) >= request.minTextChars;
    if (hasTextLayer && !request.wantImage) return { width, height, lines, textLayer: true };
    const raster = {
      ...(await renderPage(doc, page, viewport, request.renderTimeoutMs, request.maxPixels)),
      dpi: Math.round(scale * 72),
    };
    return { width, height, lines: hasTextLayer ? lines : [], textLayer: hasTextLayer, raster };
  } finally {
    page.cleanup();
  }
}

/**
 * Bytes of RGBA canvas one render holds at once: a larger page is drawn band by band into a
 * canvas this size. 36 MB holds a whole A4 or Letter page at 300 dpi (8.7 MP), drawn in one
 * pass: pdf.js replays the page's drawing for every band, and a scan's page-sized image is
 * converted to RGBA and drawn again each time (five bands of 8 MB made rendering a 300 dpi scan
 * take 1.2 s of CPU, one band 0.3 s).
 */
const bandBytes = 36 * 1024 * 1024;
/** Bytes of RGBA read back from the canvas at once (a whole band's copy would double it). */
const readBytes = 4 * 1024 * 1024;

/**
 * Renders a page to grey pixels, band by band: a 40 MP page would need a 160 MB RGBA canvas
 * (and as much again to read it back); bands keep a render near its grey output
 * (40 MB), at the cost of replaying the page's drawing once per band.
 */
async function renderPage(
  doc: PDFDocumentProxy,
  page: PDFPageProxy,
  viewport: ReturnType<PDFPageProxy['getViewport']>,
  timeoutMs: number,
  maxPixels: number,
): Promise<GreyImage> {
  const width = Math.max(1, Math.round(viewport.width));
  const height = Math.max(1, Math.round(viewport.height));
  const bandRows = Math.max(1, Math.min(height, Math.floor(bandBytes / (4 * width))));
  const readRows = Math.max(1, Math.floor(readBytes / (4 * width)));
  const factory = (
    doc as unknown as { canvasFactory: { create(w: number, h: number): { canvas: CanvasLike; context: Canvas2D } } }
  ).canvasFactory;
  const { canvas, context } = factory.create(width, bandRows);
  const image = sharedGreyImage(width, height);
  const grey = image.data;
  const deadline = Date.now() + timeoutMs;
  removedImages = 0;
  try {
    for (let top = 0; top < height; top += bandRows) {
      const rows = Math.min(bandRows, height - top);
      // pdf.js paints the whole canvas white before drawing the page, in the canvas's transform.
      context.setTransform(1, 0, 0, 1, 0, 0);
      // The band's view of the page: everything moved up by the rows already drawn.
      const task = page.render({
        canvasContext: context as never,
        canvas: canvas as never,
        viewport,
        transform: [1, 0, 0, 1, 0, -top],
      });
      const timer = setTimeout(() => task.cancel(), Math.max(1, deadline - Date.now()));
      try {
        await task.promise;
      } finally {
        clearTimeout(timer);
      }
      if (removedImages > 0) {
        throw {
          failure: 'app',
          code: 'too_many_pixels',
          message: `page ${page.pageNumber} holds an image over the limit of ${maxPixels.toLocaleString('en')} pixels (limits.maxPixelsPerPage); it was not decoded`,
          facts: { limit: maxPixels, page: page.pageNumber },
        } satisfies PdfFailure;
      }
      const band = grey.subarray(top * width, (top + rows) * width);
      // The canvas's own pixels (@napi-rs/canvas), read in place: getImageData would copy the band
      // (and un-premultiply it) first, a tenth of a scan's render time.
      if (canvas.data) rgbaToGrey(canvas.data(), band, true);
      else
        for (let y = 0; y < rows; y += readRows) {
          const slice = Math.min(readRows, rows - y);
          rgbaToGrey(context.getImageData(0, y, width, slice).data, band.subarray(y * width, (y + slice) * width));
        }
    }
  } catch (error) {
    if ((error as Partial<PdfFailure>)?.failure) throw error;
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
    canvas.width = 0; // frees the native surface now rather than at GC
  }
  return image;
}

interface CanvasLike {
  width: number;
  /** The pixels themselves, premultiplied RGBA (not a copy): valid until the canvas is resized. */
  data?(): Uint8Array;
}
interface Canvas2D {
  setTransform(a: number, b: number, c: number, d: number, e: number, f: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}
