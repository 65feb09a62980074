/** Document kinds visiongate reads, told apart by their first bytes, never by name or header. */
export type DocumentKind = 'pdf' | 'png' | 'jpeg' | 'tiff' | 'bmp' | 'webp' | 'gif';

export const mimeTypes: Record<DocumentKind, string> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpeg: 'image/jpeg',
  tiff: 'image/tiff',
  bmp: 'image/bmp',
  webp: 'image/webp',
  gif: 'image/gif',
};

const startsWith = (bytes: Uint8Array, signature: number[], offset = 0): boolean =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** Common non-document formats, named so an error can say what was received. */
const knownOthers: Array<[string, (b: Uint8Array) => boolean]> = [
  [
    'a ZIP archive (or DOCX/XLSX)',
    (b) => startsWith(b, [0x50, 0x4b, 0x03, 0x04]) || startsWith(b, [0x50, 0x4b, 0x05, 0x06]),
  ],
  ['a gzip archive', (b) => startsWith(b, [0x1f, 0x8b])],
  ['an SVG or XML document', (b) => /^\s*(<\?xml|<svg)/i.test(Buffer.from(b.subarray(0, 64)).toString('latin1'))],
  ['an HTML document', (b) => /^\s*(<!doctype html|<html)/i.test(Buffer.from(b.subarray(0, 64)).toString('latin1'))],
  ['an ELF executable', (b) => startsWith(b, [0x7f, 0x45, 0x4c, 0x46])],
  ['an ICO icon', (b) => startsWith(b, [0, 0, 1, 0])],
];

/** Returns the kind, or `undefined` when the bytes are none of the supported formats. */
export function sniffKind(bytes: Uint8Array): DocumentKind | undefined {
  if (startsWith(bytes, ascii('%PDF-'))) return 'pdf';
  // A PDF may carry junk before its header (the spec allows it within the first 1024 bytes).
  if (Buffer.from(bytes.subarray(0, 1024)).includes('%PDF-')) return 'pdf';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(bytes, ascii('BM')) && bytes.length >= 26) return 'bmp';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  return undefined;
}

/** A short description of unsupported bytes for an error message. */
export function describeBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const named = knownOthers.find(([, test]) => test(bytes));
  if (named) return named[0];
  const head = Buffer.from(bytes.subarray(0, 8)).toString('hex').replace(/(..)/g, '$1 ').trim();
  const printable = Buffer.from(bytes.subarray(0, 512)).every(
    (c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128,
  );
  return printable ? 'text, not an image or PDF' : `unrecognised bytes (starting ${head})`;
}
