/** Character error rate: edit distance over the reference length, whitespace folded. */
export function characterErrorRate(reference: string, hypothesis: string): number {
  const norm = (s: string): string[] => [...s.replace(/\s+/g, ' ').trim()];
  const ref = norm(reference);
  const hyp = norm(hypothesis);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const current = [i];
    for (let j = 1; j <= hyp.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return ref.length === 0 ? (hyp.length === 0 ? 0 : 1) : previous[hyp.length]! / ref.length;
}
