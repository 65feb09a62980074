/**
 * pdf.js for this thread (a document worker thread: pdf.js never runs on the event loop), both
 * halves loaded here: the API (`pdf.mjs`) and the parser it talks to (`pdf.worker.mjs`, which in
 * Node runs in the same thread as a "fake worker").
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * The most bytes one stream of a PDF may inflate to in this thread (set per task), and the
 * largest size asked past it since last read. pdf.js inflates a page's content, fonts and object
 * streams into a buffer that doubles as it fills, with no bound: a 0.5 MB file whose content
 * stream inflates to 512 MB took 1.2–1.7 GB and 11–19 s before a 200 with one line of text.
 */
let imageLimit = Number.POSITIVE_INFINITY;
let streamLimit = Number.POSITIVE_INFINITY;
let streamOverflow = 0;
const bound = (bytes: number): number => (bytes > 0 ? bytes : Number.POSITIVE_INFINITY);
/** Image streams may inflate to `image` bytes (they are also bounded by their pixels), any other to `other`. */
export function setStreamLimits({ image, other }: { image: number; other: number }): void {
  imageLimit = bound(image);
  streamLimit = bound(other);
  streamOverflow = 0;
}
/** The size a stream asked for past its limit since the last call (0: none), then forgets it. */
export function takeStreamOverflow(): number {
  const asked = streamOverflow;
  streamOverflow = 0;
  return asked;
}
function overflow(requested: number): Error {
  streamOverflow = Math.max(streamOverflow, requested);
  return new Error(`a stream of the PDF inflates past its limit (${requested} bytes asked)`);
}
/** pdf.js's Dict, as far as the check reads it. */
type StreamDict = { get(key: string): unknown } | null | undefined;
const isImage = (dict: StreamDict): boolean =>
  (dict?.get('Subtype') as { name?: string } | undefined)?.name === 'Image';
const hook = '__visiongatePdfStream';
Object.defineProperty(globalThis, hook, {
  value: {
    check(requested: number, dict: StreamDict): void {
      // The dictionary is read only past the smaller limit: the common case is one comparison.
      if (requested <= Math.min(streamLimit, imageLimit)) return;
      if (requested > (isImage(dict) ? imageLimit : streamLimit)) throw overflow(requested);
    },
  },
});

/**
 * pdf.js's parser with one line added: the check above at the top of DecodeStream.ensureBuffer,
 * where every inflated stream grows (the parser keeps no reference to that class we could reach).
 * Written to a folder of this thread's own (mkdtemp: private, unpredictable, so nothing else on the
 * machine can plant code there), imported, and deleted: the file imports nothing relative to itself
 * and its WebAssembly comes from the wasmUrl option. (A data: URL import took twice as long.) A
 * pdf.js whose text no longer has the anchor stops the thread with this message rather than run
 * unbounded: the test suite meets it at once after an upgrade.
 */
async function importBoundedWorker(): Promise<void> {
  const original = createRequire(import.meta.url).resolve('pdfjs-dist/legacy/build/pdf.worker.mjs');
  const text = readFileSync(original, 'utf8');
  const anchor = '  ensureBuffer(requested) {\n    const buffer = this.buffer;\n';
  const at = text.indexOf(anchor);
  if (at < 0 || text.indexOf(anchor, at + 1) >= 0)
    throw new Error(
      `pdf.js changed: DecodeStream.ensureBuffer not found once in ${original}; update src/documents/pdfjs.ts`,
    );
  const patched = `${text.slice(0, at)}  ensureBuffer(requested) {\n    globalThis.${hook}.check(requested, this.dict);\n    const buffer = this.buffer;\n${text.slice(at + anchor.length)}`;
  const folder = mkdtempSync(join(tmpdir(), 'visiongate-pdfjs-'));
  try {
    const file = join(folder, 'pdf.worker.mjs');
    writeFileSync(file, patched);
    await import(pathToFileURL(file).href);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
// Loaded now rather than when the first document opens, so its core-js runs before push is restored
// (it sets globalThis.pdfjsWorker, which pdf.js then uses instead of importing the file itself).
await importBoundedWorker();
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
        // pdf.js inflates only images this way. Past the limit zlib stops and throws: recorded, and
        // pdf.js falls back to its own inflater, which reads no more than the image's size.
        const maxOutputLength = Number.isFinite(imageLimit) ? imageLimit : undefined;
        let out: Buffer;
        try {
          out = inflate(input, {
            chunkSize: pieceSize(input.byteLength),
            ...(maxOutputLength ? { maxOutputLength } : {}),
          });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw overflow(imageLimit + 1);
          throw error;
        }
        controller.enqueue(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
      },
    });
  }
}
globalThis.DecompressionStream = OneCallDecompressionStream as unknown as typeof DecompressionStream;

export { pdfjs };
