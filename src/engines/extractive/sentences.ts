/** Sentences and words for any language, from ICU's segmenters (Intl.Segmenter). */
const sentenceSegmenter = new Intl.Segmenter(undefined, { granularity: 'sentence' });
const wordSegmenter = new Intl.Segmenter(undefined, { granularity: 'word' });

export interface Sentence {
  index: number;
  text: string;
  /** Lower-cased word tokens (ICU word boundaries: works for CJK too). */
  tokens: string[];
}

export function words(text: string): string[] {
  const out: string[] = [];
  for (const segment of wordSegmenter.segment(text)) if (segment.isWordLike) out.push(segment.segment.normalize('NFKC').toLowerCase());
  return out;
}

/**
 * Splits a text into sentences. Paragraphs (blank lines) never share a sentence, and
 * hard-wrapped lines inside a paragraph (OCR output) are joined first.
 */
export function sentences(text: string): Sentence[] {
  const out: Sentence[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const unwrapped = paragraph.replace(/-\n(?=\p{Ll})/gu, '').replace(/\s*\n\s*/g, ' ').trim();
    if (!unwrapped) continue;
    for (const segment of sentenceSegmenter.segment(unwrapped)) {
      const sentence = segment.segment.trim();
      if (sentence) out.push({ index: out.length, text: sentence, tokens: words(sentence) });
    }
  }
  return out;
}
