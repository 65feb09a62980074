/**
 * Entry of the worker threads (piscina). Holds recently opened PDFs so a
 * multi-page document is parsed once per thread, not once per page.
 */
import type { PDFDocumentProxy } from 'pdfjs-dist/types/src/display/api.js';
import { isAppError } from '../errors/app-error.js';
import { decodeBmp } from '../documents/bmp.js';
import { detectCheckboxes, type Checkbox } from '../documents/checkboxes.js';
import { extractText, type MarkupKind } from '../documents/text-extract.js';
import { summarizeExtractive, type ExtractiveSummary } from '../engines/extractive/summarizer.js';
import {
  openPdf,
  readPdfPage,
  readPdfTextPages,
  summarizePdf,
  type PdfPageOutput,
  type PdfSummary,
  type PdfTextPage,
} from '../documents/pdf-reader.js';
import type { GreyImage } from '../documents/raster.js';
import type { DocumentTask, DocumentTaskResults } from '../documents/document.js';
import { analyzePage, type PageAnalysis } from '../documents/page-analysis.js';

export type WorkerTask =
  | DocumentTask
  | { type: 'extract-text'; kind: MarkupKind; data: Uint8Array }
  | { type: 'summarize-extractive'; text: string; maxWords: number }
  | { type: 'detect-checkboxes'; image: GreyImage }
  | { type: 'analyze-page'; image: GreyImage };

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

/** `forText`: a copy opened only to read text (no standard fonts loaded), kept apart from the one pages are rendered from. */
function document(docId: string, data: Uint8Array, forText = false): Promise<PDFDocumentProxy> {
  const now = Date.now();
  const key = forText ? `${docId}#text` : docId;
  let entry = openDocs.get(key);
  if (!entry) {
    // pdf.js may take ownership of the buffer: hand it a private copy of the shared bytes.
    entry = { doc: openPdf(new Uint8Array(data), { forText }), lastUse: now };
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
}

export default async function run(
  task: WorkerTask,
): Promise<
  PdfSummary | PdfPageOutput | PdfTextPage[] | GreyImage | string | ExtractiveSummary | Checkbox[] | PageAnalysis | null
> {
  try {
    return await perform(task);
  } catch (error) {
    // Errors lose their class crossing threads: send the catalog code as plain data.
    if (isAppError(error)) throw { failure: 'app', code: error.code, message: error.message, facts: error.facts };
    throw error;
  }
}

async function perform(
  task: WorkerTask,
): Promise<
  PdfSummary | PdfPageOutput | PdfTextPage[] | GreyImage | string | ExtractiveSummary | Checkbox[] | PageAnalysis | null
> {
  switch (task.type) {
    case 'pdf-summary':
      return summarizePdf(await document(task.docId, task.data, true), task.data);
    case 'pdf-page':
      return readPdfPage(await document(task.docId, task.data), task);
    case 'pdf-text-pages':
      return readPdfTextPages(await document(task.docId, task.data, true), task);
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
      return extractText(task.kind, task.data);
    case 'summarize-extractive':
      return summarizeExtractive(task.text, { maxWords: task.maxWords });
    case 'detect-checkboxes':
      return detectCheckboxes(task.image);
    case 'analyze-page':
      return analyzePage(task.image);
  }
}
