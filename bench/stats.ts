/** Small helpers every bench section shares. */
export const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? NaN;
export const fmt = (n: number, digits = 2): string => n.toFixed(digits);
