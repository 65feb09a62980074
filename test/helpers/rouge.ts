/** ROUGE-1 and ROUGE-L F1 over lower-cased word tokens (ICU word boundaries). */
const segmenter = new Intl.Segmenter('en', { granularity: 'word' });
const tokens = (text: string): string[] =>
  [...segmenter.segment(text.toLowerCase())].filter((s) => s.isWordLike).map((s) => s.segment);

const f1 = (overlap: number, candidate: number, reference: number): number => {
  if (!overlap) return 0;
  const precision = overlap / candidate;
  const recall = overlap / reference;
  return (2 * precision * recall) / (precision + recall);
};

export function rouge1(candidate: string, reference: string): number {
  const c = tokens(candidate);
  const r = tokens(reference);
  const counts = new Map<string, number>();
  for (const t of r) counts.set(t, (counts.get(t) ?? 0) + 1);
  let overlap = 0;
  for (const t of c) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      overlap++;
      counts.set(t, left - 1);
    }
  }
  return f1(overlap, c.length, r.length);
}

export function rougeL(candidate: string, reference: string): number {
  const c = tokens(candidate);
  const r = tokens(reference);
  let previous = new Array<number>(r.length + 1).fill(0);
  for (const ct of c) {
    const current = [0];
    for (let j = 1; j <= r.length; j++)
      current[j] = ct === r[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, current[j - 1]!);
    previous = current;
  }
  return f1(previous[r.length]!, c.length, r.length);
}
