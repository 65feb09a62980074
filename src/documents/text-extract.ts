/** Plain text out of text-bearing files (DOCX, HTML, Markdown); runs in worker threads. */
import { convert } from 'html-to-text';
import mammoth from 'mammoth';

export type MarkupKind = 'docx' | 'html' | 'markdown';

export async function docxText(bytes: Uint8Array): Promise<string> {
  const result = await mammoth.extractRawText({
    buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  });
  return result.value;
}

export function htmlText(html: string): string {
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'nav', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable' },
    ],
  });
}

/** A heading's text without its closing sequence of #s and trailing blanks (no regex: linear on any line). */
function headingText(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  let hashes = end;
  while (hashes > 0 && text[hashes - 1] === '#') hashes--;
  // CommonMark: closing #s count only when the whole text is #s or a blank precedes them.
  if (hashes < end && (hashes === 0 || text[hashes - 1] === ' ' || text[hashes - 1] === '\t')) end = hashes;
  while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return text.slice(0, end);
}

/**
 * Markdown → prose: markup removed, headings and list items kept as their own lines.
 * Every pattern here runs on uploads: blanks are [ \t] (never \s, which spans lines),
 * no two quantifiers can trade the same characters, and bracket contents stop at the next
 * bracket, so each is linear in the text (test/documents/regex-safety.test.ts).
 */
export function markdownText(markdown: string): string {
  return markdown
    .replace(/```[\s\S]*?```/g, '')
    .replace(/^[ \t]{0,3}#{1,6}[ \t]+(.*)/gm, (_line, text: string) => `${headingText(text)}\n`)
    .replace(/^[ \t]*(?:[-*+]|\d+[.)])[ \t]+/gm, '')
    .replace(/^[ \t]*>[ \t]?/gm, '')
    .replace(/!\[[^\][]*\]\([^()[\]\n]*\)/g, '')
    .replace(/\[([^\][]+)\]\([^()[\]\n]*\)/g, '$1')
    .replace(/(\*\*|__|\*|_|`)(.+?)\1/g, '$2')
    .replace(/^[ \t]*(?:\|[ \t]*)?:?---.*/gm, '')
    .replace(/\|/g, ' ');
}

export async function extractText(kind: MarkupKind, bytes: Uint8Array): Promise<string> {
  if (kind === 'docx') return docxText(bytes);
  const text = new TextDecoder('utf-8').decode(bytes);
  return kind === 'html' ? htmlText(text) : markdownText(text);
}
