import { appError } from '../errors/app-error.js';

/**
 * Pages asked for, as every surface parses `pages` ("1-3,7", "5-", "all"): ranges of 1-based
 * page numbers, an open end as no `last`. Plain JSON, so a job keeps it as parsed.
 */
export type PageSelection = Array<{ first: number; last?: number }>;

/** The one parser of `pages`; undefined means every page. Checks the form (the range waits for the document). */
export function parsePages(spec: string | undefined): PageSelection | undefined {
  if (spec === undefined || spec.trim() === '' || spec.trim() === 'all') return undefined;
  return spec.split(',').map((part) => {
    const match = /^(\d+)(?:\s*(-)\s*(\d+)?)?$/.exec(part.trim());
    if (!match)
      throw appError('invalid_parameter', `pages: "${spec}" is not a page selection; use forms like "1-3,7" or "5-"`, {
        field: 'pages',
        received: spec,
      });
    const first = Number(match[1]);
    const last = match[2] ? (match[3] ? Number(match[3]) : undefined) : first;
    if (first < 1 || (last !== undefined && last < first)) {
      throw appError(
        'invalid_parameter',
        `pages: "${part.trim()}" is not a valid range (pages count from 1, ranges go upwards)`,
        { field: 'pages', received: spec },
      );
    }
    return last === undefined ? { first } : { first, last };
  });
}

/** The sorted, unique page numbers a selection takes from a document of `pageCount` pages (all when undefined). */
export function selectPages(selection: PageSelection | undefined, pageCount: number): number[] {
  if (!selection) return Array.from({ length: pageCount }, (_, i) => i + 1);
  const pages = new Set<number>();
  for (const { first, last = pageCount } of selection) {
    if (first > pageCount || last > pageCount) {
      const asked = first === last ? `${first}` : `${first}-${last}`;
      throw appError(
        'page_out_of_range',
        `pages: "${asked}" asks for page ${Math.max(first, last)}, but the document has ${pageCount} page${pageCount === 1 ? '' : 's'}`,
        { field: 'pages', pageCount },
      );
    }
    for (let p = first; p <= last; p++) pages.add(p);
  }
  return [...pages].sort((a, b) => a - b);
}
