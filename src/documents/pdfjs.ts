/**
 * pdf.js for this thread (a document worker thread: pdf.js never runs on the event loop), both
 * halves loaded here: the API (`pdf.mjs`) and the parser it talks to (`pdf.worker.mjs`, which in
 * Node runs in the same thread as a "fake worker").
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');

// pdf.js's legacy build (the one meant for Node) carries core-js, which on Node 20 replaces
// Array.prototype.push with a JavaScript polyfill for the whole thread: V8 11 does not throw when
// pushing onto an array whose length is read-only, a corner pdf.js never relies on. Every push in
// the thread (pdf.js's per glyph, the text layer's per word, page analysis's) then went through it:
// a fifth of the CPU time of reading a text layer. The native one is put back once both bundles
// are loaded; where the engine is right (Node 22 and later) core-js leaves push alone and this is a no-op.
const nativePush = Array.prototype.push;
const pdfjs: PdfJs = await import('pdfjs-dist/legacy/build/pdf.mjs');
// Loaded now rather than when the first document opens, so its core-js runs before push is restored
// (it sets globalThis.pdfjsWorker, which pdf.js then uses instead of importing the file itself).
await import(pathToFileURL(createRequire(import.meta.url).resolve('pdfjs-dist/legacy/build/pdf.worker.mjs')).href);
if (Array.prototype.push !== nativePush) Array.prototype.push = nativePush;

export { pdfjs };
