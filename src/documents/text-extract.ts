/** Plain text out of text-bearing files (DOCX, HTML, Markdown); runs in worker threads. */
import { convert } from 'html-to-text';
import mammoth from 'mammoth';
import { appError } from '../errors/app-error.js';
import { checkArchive, type ArchiveLimits } from './archive-limits.js';

export type MarkupKind = 'docx' | 'html' | 'markdown';

export interface TextLimits extends ArchiveLimits {
  maxTextChars: number;
}

/** 413 naming limits.maxTextChars. */
export function textTooLong(length: number, limit: number, what = 'the text'): Error {
  return appError(
    'text_too_long',
    `${what} is ${length.toLocaleString('en')} characters; the limit is ${limit.toLocaleString('en')} characters (limits.maxTextChars)`,
    { limit, received: length },
  );
}

/** Control characters other than tab, line feed, form feed and carriage return: how many (binary data has them; text does not). */
export function controlCharacters(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 12 && c !== 13) || c === 127) count++;
  }
  return count;
}

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

/**
 * The text of a DOCX, HTML or Markdown file, within the limits: an archive is checked
 * before mammoth inflates it, markup longer than twice the text limit is not parsed, and
 * the text found is refused past limits.maxTextChars.
 */
export async function extractText(kind: MarkupKind, bytes: Uint8Array, limits: TextLimits): Promise<string> {
  let text: string;
  if (kind === 'docx') {
    checkArchive(bytes, limits);
    text = await docxText(bytes);
  } else {
    const markup = new TextDecoder('utf-8').decode(bytes);
    if (markup.length > 2 * limits.maxTextChars)
      throw textTooLong(
        markup.length,
        2 * limits.maxTextChars,
        `the ${kind === 'html' ? 'HTML' : 'Markdown'} file (markup may be twice the text limit)`,
      );
    text = kind === 'html' ? htmlText(markup) : markdownText(markup);
  }
  if (text.length > limits.maxTextChars)
    throw textTooLong(text.length, limits.maxTextChars, `the text extracted from the ${kind.toUpperCase()} file`);
  return text;
}
