/** Small helpers the bench sections share. */
import { Agent, request } from 'undici';
export const percentile = (values: number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? NaN;
export const fmt = (n: number, digits = 2): string => n.toFixed(digits);

/** POSTs `body` to `url` `total` times from `concurrency` clients; each request's latency in ms, and the wall time. */
export async function postLoad(
  url: string,
  body: string,
  concurrency: number,
  total: number,
): Promise<{ latencies: number[]; seconds: number }> {
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

/**
 * Direct and proxied requests interleaved (each client alternates), so both see the same load on a
 * shared machine: sequential runs would compare two different moments. Latencies in ms of each.
 */
export async function pairedLoad(
  direct: string,
  proxied: string,
  body: (i: number) => string,
  concurrency: number,
  total: number,
): Promise<{ direct: number[]; proxied: number[]; seconds: number }> {
  const out = { direct: [] as number[], proxied: [] as number[] };
  let next = 0;
  const started = performance.now();
  // undici's request on kept-alive connections, not fetch: fetch's own cost (WHATWG streams, a
  // signal per call) and the garbage it leaves in this client weigh on the tails of both paths and
  // hide what the proxy adds at p99.
  const agent = new Agent({ keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const one = async (url: string, i: number): Promise<number> => {
    const t0 = performance.now();
    const res = await request(url, {
      method: 'POST',
      body: body(i),
      headers: { 'content-type': 'application/json' },
      dispatcher: agent,
    });
    await res.body.arrayBuffer();
    return performance.now() - t0;
  };
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      while (next < total) {
        const i = next++;
        // Half the clients go direct first, half proxied first: neither path always follows the other.
        const order =
          (i + c) % 2 === 0
            ? ([
                ['direct', direct],
                ['proxied', proxied],
              ] as const)
            : ([
                ['proxied', proxied],
                ['direct', direct],
              ] as const);
        for (const [kind, url] of order) out[kind].push(await one(url, i));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return { ...out, seconds };
}
