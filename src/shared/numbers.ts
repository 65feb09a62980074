export function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

export const round3 = (n: number): number => Math.round(n * 1000) / 1000;
