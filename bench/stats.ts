/** Small helpers the bench sections share. */
export const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? NaN;
export const fmt = (n: number, digits = 2): string => n.toFixed(digits);

/** POSTs `body` to `url` `total` times from `concurrency` clients; each request's latency in ms, and the wall time. */
export async function postLoad(url: string, body: string, concurrency: number, total: number): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const t0 = performance.now();
        const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        await res.arrayBuffer();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}
