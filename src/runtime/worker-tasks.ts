/**
 * Entry of the worker threads (piscina). Holds recently opened PDFs so a
 * multi-page document is parsed once per thread, not once per page.
 */
import type { PDFDocumentProxy } from 'pdfjs-dist/types/src/display/api.js';
import { appError, isAppError } from '../errors/app-error.js';
import { decodeBmp } from '../documents/bmp.js';
import { detectCheckboxes, type Checkbox } from '../documents/checkboxes.js';
import { extractText, type MarkupKind, type TextLimits } from '../documents/text-extract.js';
import { summarizeExtractive, type ExtractiveSummary } from '../engines/extractive/summarizer.js';
import { openPdf, readPdfPage, summarizePdf, type PdfPageOutput, type PdfSummary } from '../documents/pdf-reader.js';
import type { GreyImage } from '../documents/raster.js';
import type { DocumentTask, DocumentTaskResults } from '../documents/document.js';

export type WorkerTask =
  | DocumentTask
  | { type: 'extract-text'; kind: MarkupKind; data: Uint8Array; limits: TextLimits }
  | { type: 'summarize-extractive'; text: string; maxWords: number }
  | { type: 'detect-checkboxes'; image: GreyImage }
  | { type: 'parse-json'; text: string };

const openDocs = new Map<string, { doc: Promise<PDFDocumentProxy>; lastUse: number }>();
const keepMs = 30_000;
const maxOpen = 4;

function evict(now: number): void {
  for (const [id, entry] of openDocs) {
    if (now - entry.lastUse > keepMs || openDocs.size > maxOpen) {
      openDocs.delete(id);
      void entry.doc.then((d) => d.destroy()).catch(() => undefined);
    }
  }
}

function document(docId: string, data: Uint8Array, maxImagePixels: number): Promise<PDFDocumentProxy> {
  const now = Date.now();
  let entry = openDocs.get(docId);
  if (!entry) {
    // pdf.js may take ownership of the buffer: hand it a private copy of the shared bytes.
    entry = { doc: openPdf(new Uint8Array(data), maxImagePixels), lastUse: now };
    entry.doc.catch(() => openDocs.delete(docId));
    openDocs.set(docId, entry);
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
  'parse-json': unknown;
}

export default async function run(task: WorkerTask & { started?: Int32Array }): Promise<unknown> {
  // Tells the pool the task left its queue: its time limit runs from here.
  if (task.started) {
    Atomics.store(task.started, 0, 1);
    Atomics.notify(task.started, 0);
  }
  try {
    return await perform(task);
  } catch (error) {
    // Errors lose their class crossing threads: send the catalog code as plain data.
    if (isAppError(error)) throw { failure: 'app', code: error.code, message: error.message, facts: error.facts };
    throw error;
  }
}

async function perform(task: WorkerTask): Promise<unknown> {
  switch (task.type) {
    case 'pdf-summary':
      return summarizePdf(await document(task.docId, task.data, task.maxImagePixels), task.data);
    case 'pdf-page':
      return readPdfPage(await document(task.docId, task.data, task.maxImagePixels), task);
    case 'pdf-close': {
      const entry = openDocs.get(task.docId);
      openDocs.delete(task.docId);
      if (entry) await entry.doc.then((d) => d.destroy()).catch(() => undefined);
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
    case 'parse-json':
      return parseJson(task.text);
  }
}

/**
 * A large JSON body parsed off the event loop, refused like Fastify's own parser refuses
 * prototype poisoning (a "__proto__" key, or "constructor" holding "prototype").
 */
function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw appError('bad_request', `the body is not valid JSON: ${(error as Error).message}`);
  }
  const stack: unknown[] = [value];
  while (stack.length) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    if (!Array.isArray(node)) {
      if (Object.prototype.hasOwnProperty.call(node, '__proto__')) throw appError('bad_request', 'the body holds a "__proto__" key, which is not accepted');
      const ctor = (node as Record<string, unknown>).constructor;
      if (Object.prototype.hasOwnProperty.call(node, 'constructor') && typeof ctor === 'object' && ctor !== null && Object.prototype.hasOwnProperty.call(ctor, 'prototype')) throw appError('bad_request', 'the body holds "constructor.prototype", which is not accepted');
    }
    for (const child of Array.isArray(node) ? node : Object.values(node)) if (typeof child === 'object' && child !== null) stack.push(child);
  }
  return value;
}
