/**
 * Dependencies the server needs only once work arrives, loaded on first use instead of at
 * start: sharp (which loads libvips, a native library of tens of MB) and undici took about a
 * fifth of the CPU time to "listening". Once the server listens, `warmLazyModules` loads them in
 * the background, so the first request rarely waits for them.
 */
import type * as Undici from 'undici';
import type SharpDefault from 'sharp';

const loaders: Array<() => Promise<unknown>> = [];

function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  const get = (): Promise<T> => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined; // a later call tries again (and fails with the same clear error)
      throw error;
    });
    return loading;
  };
  loaders.push(get);
  return get;
}

export type Sharp = typeof SharpDefault;
export const loadSharp = lazy(async (): Promise<Sharp> => (await import('sharp')).default);
export const loadUndici = lazy((): Promise<typeof Undici> => import('undici'));

/** Loads every lazy module now; resolves to the errors of those that failed (none normally). */
export async function warmLazyModules(): Promise<unknown[]> {
  const outcomes = await Promise.allSettled(loaders.map((get) => get()));
  return outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
}
