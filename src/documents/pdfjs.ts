/**
 * pdf.js for this thread (a document worker thread: pdf.js never runs on the event loop), both
 * halves loaded here: the API (`pdf.mjs`) and the parser it talks to (`pdf.worker.mjs`, which in
 * Node runs in the same thread as a "fake worker").
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { gunzipSync, inflateRawSync, inflateSync, type ZlibOptions } from 'node:zlib';

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

const inflaters: Record<string, (data: Uint8Array, options: ZlibOptions) => Buffer> = {
  deflate: inflateSync,
  'deflate-raw': inflateRawSync,
  gzip: gunzipSync,
};
// zlib's output pieces (16 KB by default, each a new Buffer, joined at the end): a scan's page image
// inflates 75 KB into 26 MB, 1,600 pieces. Sized to the input instead, within 64 KB and 8 MB.
const pieceSize = (input: number): number => Math.min(8 << 20, Math.max(64 << 10, 16 * input));

/**
 * DecompressionStream for this thread: the data written to it inflated in one zlib call when it
 * closes. pdf.js inflates every FlateDecode stream (each page's content, each image) by writing it
 * whole to a DecompressionStream; Node's builds a zlib Transform stream behind web-stream
 * adapters, whose setup and chunking cost more than inflating a page's few kilobytes: a tenth of
 * the CPU time of reading a text layer. A stream that does not inflate (truncated, corrupt) errors,
 * as Node's does, and pdf.js then decodes it with its own lenient inflater. Formats Node 20's does
 * not know (pdf.js asks for "brotli") are refused the same way.
 */
class OneCallDecompressionStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(format: string) {
    const inflate = inflaters[format];
    if (!inflate) throw new TypeError(`unsupported compression format "${format}"`);
    const chunks: Uint8Array[] = [];
    super({
      transform(chunk) {
        chunks.push(chunk);
      },
      flush(controller) {
        const input = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const out = inflate(input, { chunkSize: pieceSize(input.byteLength) });
        controller.enqueue(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
      },
    });
  }
}
globalThis.DecompressionStream = OneCallDecompressionStream as unknown as typeof DecompressionStream;

export { pdfjs };
