/** Word-level comparison of two texts, whitespace-separated tokens, case kept (as `pdftotext` prints them). */
const tokens = (s: string): string[] => s.split(/\s+/).filter(Boolean);

/** F1 of the multiset of words: order-free, every word counted as often as it occurs. */
export function wordF1(reference: string, hypothesis: string): { f1: number; missing: string[]; extra: string[] } {
  const count = (words: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const w of words) m.set(w, (m.get(w) ?? 0) + 1);
    return m;
  };
  const ref = count(tokens(reference));
  const hyp = count(tokens(hypothesis));
  let overlap = 0;
  const missing: string[] = [];
  const extra: string[] = [];
  for (const [w, n] of ref) {
    overlap += Math.min(n, hyp.get(w) ?? 0);
    if (n > (hyp.get(w) ?? 0)) missing.push(w);
  }
  for (const [w, n] of hyp) if (n > (ref.get(w) ?? 0)) extra.push(w);
  const refTotal = [...ref.values()].reduce((a, b) => a + b, 0);
  const hypTotal = [...hyp.values()].reduce((a, b) => a + b, 0);
  const f1 = refTotal + hypTotal === 0 ? 1 : (2 * overlap) / (refTotal + hypTotal);
  return { f1, missing, extra };
}

/** Reading-order agreement: longest common word subsequence over the longer text's length (1 = same order). */
export function orderAgreement(reference: string, hypothesis: string): number {
  const a = tokens(reference);
  const b = tokens(hypothesis);
  if (a.length === 0 && b.length === 0) return 1;
  let previous = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    const current = new Uint32Array(b.length + 1);
    for (let j = 1; j <= b.length; j++)
      current[j] = a[i - 1] === b[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, current[j - 1]!);
    previous = current;
  }
  return previous[b.length]! / Math.max(a.length, b.length);
}
