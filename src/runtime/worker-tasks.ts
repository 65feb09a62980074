/**
 * Entry of the worker threads (piscina). Holds recently opened PDFs so a
 * multi-page document is parsed once per thread, not once per page.
 */
import type { PDFDocumentProxy } from 'pdfjs-dist/types/src/display/api.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { appError, formatBytes, isAppError } from '../errors/app-error.js';
import { decodeBmp } from '../documents/bmp.js';
import { invalidJson } from '../shared/json-problem.js';
import { detectCheckboxes, type Checkbox } from '../documents/checkboxes.js';
import { extractText, type MarkupKind, type TextLimits } from '../documents/text-extract.js';
import { summarizeExtractive, type ExtractiveSummary } from '../engines/extractive/summarizer.js';
import { openPdf, readPdfPage, readPdfPageSize, readPdfTextPages, summarizePdf } from '../documents/pdf-reader.js';
import { setStreamLimits, takeStreamOverflow } from '../documents/pdfjs.js';
import type { GreyImage } from '../documents/raster.js';
import type { DocumentTask, DocumentTaskResults } from '../documents/document.js';
import { analyzePage, type PageAnalysis } from '../documents/page-analysis.js';
import { markStarted } from '../shared/started-flag.js';
import { lowerThreadPriority } from '../shared/thread-priority.js';

export type WorkerTask =
  | DocumentTask
  | { type: 'extract-text'; kind: MarkupKind; data: Uint8Array; limits: TextLimits }
  | { type: 'summarize-extractive'; text: string; maxWords: number }
  | { type: 'detect-checkboxes'; image: GreyImage }
  | { type: 'analyze-page'; image: GreyImage }
  | { type: 'parse-json'; bytes: Uint8Array };

// A collector this thread may call (V8 exposes gc to contexts made after the flag is set).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

// Background work: the event loop thread gets the CPU first.
lowerThreadPriority();

const openDocs = new Map<string, { doc: Promise<PDFDocumentProxy>; lastUse: number }>();
const keepMs = 30_000;
// Up to four documents, each possibly open twice (text only, and for rendering).
const maxOpen = 8;

function evict(now: number): void {
  for (const [id, entry] of openDocs) {
    if (now - entry.lastUse > keepMs || openDocs.size > maxOpen) {
      openDocs.delete(id);
      void entry.doc.then((d) => d.destroy()).catch(() => undefined);
    }
  }
}

/**
 * `forText`: a copy opened only to read text (no standard fonts loaded), kept apart from the one pages are rendered from.
 * Images over `maxImagePixels` are never decoded.
 */
function document(docId: string, data: Uint8Array, maxImagePixels: number, forText = false): Promise<PDFDocumentProxy> {
  const now = Date.now();
  const key = forText ? `${docId}#text` : docId;
  let entry = openDocs.get(key);
  if (!entry) {
    // pdf.js may take ownership of the buffer: hand it a private copy of the shared bytes.
    entry = { doc: openPdf(new Uint8Array(data), { forText, maxImagePixels }), lastUse: now };
    entry.doc.catch(() => openDocs.delete(key));
    openDocs.set(key, entry);
    evict(now);
  }
  entry.lastUse = now;
  return entry.doc;
}

/** What each task gives back. */
export interface WorkerTaskResults extends DocumentTaskResults {
  'extract-text': string;
  'summarize-extractive': ExtractiveSummary;
  'detect-checkboxes': Checkbox[];
  'analyze-page': PageAnalysis;
  'parse-json': unknown;
}

export default async function run(task: WorkerTask & { started?: Int32Array }): Promise<unknown> {
  // Tells the pool the task left its queue: its time limit runs from here.
  markStarted(task.started);
  try {
    return transferPixels(await performBounded(task));
  } catch (error) {
    // Errors lose their class crossing threads: send the catalog code as plain data.
    if (isAppError(error))
      throw {
        failure: 'app',
        code: error.code,
        message: error.message,
        facts: error.facts,
        validation: error.validation,
      };
    throw error;
  }
}

/**
 * PDF tasks run with a bound on what one stream of the document may inflate to: an image stream 4
 * bytes for each pixel the largest allowed image has (CMYK at 8 bits; 160 MB by default), any other
 * stream limits.maxDecompressedBytes (64 MB by default). Past it the task fails with 413, whatever
 * pdf.js made of the stream (it may skip a broken one and go on with the page).
 */
async function performBounded(task: WorkerTask): Promise<unknown> {
  if (!('maxStreamBytes' in task)) return perform(task);
  setStreamLimits({ image: 4 * task.maxImagePixels, other: task.maxStreamBytes });
  const outcome = await perform(task).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (takeStreamOverflow() > 0)
    throw appError(
      'archive_too_large',
      `a compressed stream of the PDF inflates past its limit: ${formatBytes(task.maxStreamBytes)} (limits.maxDecompressedBytes), or for an image 4 bytes for each pixel of limits.maxPixelsPerPage`,
      { limit: task.maxStreamBytes },
    );
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

async function perform(task: WorkerTask): Promise<unknown> {
  switch (task.type) {
    case 'pdf-summary':
      return summarizePdf(await document(task.docId, task.data, task.maxImagePixels, true), task.data);
    case 'pdf-page': {
      const page = await readPdfPage(await document(task.docId, task.data, task.maxImagePixels), task);
      // A render leaves tens of MB of pixels (bands, the page) that this thread's small heap
      // would not collect for many pages: collect them now, before the next render adds more.
      if (page.raster) collectGarbage();
      return page;
    }
    case 'pdf-page-size':
      return readPdfPageSize(await document(task.docId, task.data, task.maxImagePixels), task);
    case 'pdf-text-pages':
      return readPdfTextPages(await document(task.docId, task.data, task.maxImagePixels, true), task);
    case 'pdf-close': {
      for (const key of [task.docId, `${task.docId}#text`]) {
        const entry = openDocs.get(key);
        openDocs.delete(key);
        if (entry) await entry.doc.then((d) => d.destroy()).catch(() => undefined);
      }
      return null;
    }
    case 'bmp-decode':
      return decodeBmp(task.data);
    case 'extract-text':
      return extractText(task.kind, task.data, task.limits);
    case 'summarize-extractive':
      return summarizeExtractive(task.text, { maxWords: task.maxWords });
    case 'detect-checkboxes':
      return detectCheckboxes(task.image);
    case 'analyze-page':
      return analyzePage(task.image);
    case 'parse-json':
      return parseJson(task.bytes);
  }
}

/**
 * Pixels (a rendered page, a decoded BMP) go back to the main thread moved, not copied: a
 * 40 MP page would otherwise exist twice (here until collected, and its copy there).
 */
function transferPixels(result: unknown): unknown {
  const image = (result as { raster?: GreyImage } | null)?.raster ?? (result as GreyImage | null);
  const data = (image as GreyImage | null)?.data;
  if (!(data instanceof Uint8Array) || !(data.buffer instanceof ArrayBuffer) || data.byteLength < 1024 * 1024)
    return result;
  return move({
    get [transferableSymbol]() {
      return [data.buffer];
    },
    get [valueSymbol]() {
      return result;
    },
  } as unknown as ArrayBuffer);
}

/**
 * A large JSON body (its bytes, moved here from the event loop, not copied) decoded and parsed off the
 * event loop, refused like Fastify's own parser refuses
 * prototype poisoning (a "__proto__" key, or "constructor" holding "prototype").
 */
function parseJson(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidJson(text);
  }
  const stack: unknown[] = [value];
  while (stack.length) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    if (!Array.isArray(node)) {
      if (Object.hasOwn(node, '__proto__'))
        throw appError('bad_request', 'the body holds a "__proto__" key, which is not accepted');
      const ctor = (node as Record<string, unknown>).constructor;
      if (
        Object.hasOwn(node, 'constructor') &&
        typeof ctor === 'object' &&
        ctor !== null &&
        Object.hasOwn(ctor, 'prototype')
      )
        throw appError('bad_request', 'the body holds "constructor.prototype", which is not accepted');
    }
    for (const child of Array.isArray(node) ? node : Object.values(node))
      if (typeof child === 'object' && child !== null) stack.push(child);
  }
  return value;
}
