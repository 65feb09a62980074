import { appError } from '../errors/app-error.js';

/** The ranges of a selection like "1-3,7" or "5-" (an open end is `undefined`), checked for form. */
export function pageRanges(spec: string): Array<{ first: number; last: number | undefined; text: string }> {
  return spec.split(',').map((part) => {
    const match = /^(\d+)(?:\s*(-)\s*(\d+)?)?$/.exec(part.trim());
    if (!match) throw appError('invalid_parameter', `pages: "${spec}" is not a page selection; use forms like "1-3,7" or "5-"`, { field: 'pages', received: spec });
    const first = Number(match[1]);
    const last = match[2] ? (match[3] ? Number(match[3]) : undefined) : first;
    if (first < 1 || (last !== undefined && last < first)) throw appError('invalid_parameter', `pages: "${part.trim()}" is not a valid range (pages count from 1, ranges go upwards)`, { field: 'pages', received: spec });
    return { first, last, text: part.trim() };
  });
}

/**
 * Parses a page selection like "1-3,7" or "5-" against a document of `pageCount` pages.
 * Returns sorted, unique 1-based page numbers.
 */
export function parsePageRange(spec: string | undefined, pageCount: number): number[] {
  if (spec === undefined || spec.trim() === '' || spec.trim() === 'all') return Array.from({ length: pageCount }, (_, i) => i + 1);
  const pages = new Set<number>();
  for (const { first, last = pageCount, text } of pageRanges(spec)) {
    if (first > pageCount || last > pageCount) throw appError('page_out_of_range', `pages: "${text}" asks for page ${Math.max(first, last)}, but the document has ${pageCount} page${pageCount === 1 ? '' : 's'}`, { field: 'pages', pageCount });
    for (let p = first; p <= last; p++) pages.add(p);
  }
  return [...pages].sort((a, b) => a - b);
}
