/** Sentences and words for any language, from ICU's segmenters (Intl.Segmenter). */
const sentenceSegmenter = new Intl.Segmenter(undefined, { granularity: 'sentence' });
const wordSegmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

/** Characters handed to a segmenter at once (V8's segment iteration is quadratic in the string's length; 512 measured fastest). */
const window = 512;

/**
 * The segments of `text`, read window by window so the cost stays linear in its length. A
 * window's last segment may be cut by the window's end, so it is read again at the start of
 * the next one; only a segment longer than a whole window is cut.
 */
export function* segments(
  segmenter: Intl.Segmenter,
  text: string,
): Generator<{ segment: string; index: number; isWordLike: boolean }> {
  let offset = 0;
  while (offset < text.length) {
    const end = Math.min(text.length, offset + window);
    const parts = [...segmenter.segment(text.slice(offset, end))];
    const keep = end < text.length && parts.length > 1 ? parts.length - 1 : parts.length;
    for (let i = 0; i < keep; i++) {
      const part = parts[i]!;
      yield { segment: part.segment, index: part.index + offset, isWordLike: part.isWordLike === true };
    }
    offset = keep < parts.length ? offset + parts[keep]!.index : end;
  }
}

export interface Sentence {
  index: number;
  text: string;
  /** Lower-cased word tokens (ICU word boundaries: works for CJK too). */
  tokens: string[];
}

export function words(text: string): string[] {
  const out: string[] = [];
  for (const segment of segments(wordSegmenter, text))
    if (segment.isWordLike) out.push(segment.segment.normalize('NFKC').toLowerCase());
  return out;
}

/**
 * Splits a text into sentences. Paragraphs (blank lines) never share a sentence, and
 * hard-wrapped lines inside a paragraph (OCR output) are joined first.
 */
export function sentences(text: string): Sentence[] {
  const out: Sentence[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    // Lines trimmed and joined without a regex: /\s*\n\s*/ is quadratic on a long run of blanks.
    const unwrapped = paragraph
      .replace(/-\n(?=\p{Ll})/gu, '')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .join(' ');
    if (!unwrapped) continue;
    for (const segment of segments(sentenceSegmenter, unwrapped)) {
      const sentence = segment.segment.trim();
      if (sentence) out.push({ index: out.length, text: sentence, tokens: words(sentence) });
    }
  }
  return out;
}
