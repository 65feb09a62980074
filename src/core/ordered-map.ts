/**
 * Maps items with at most `concurrency` in flight and yields results in input order,
 * so a multi-page document uses every worker while pages still come out in sequence.
 */
export async function* orderedMap<T, R>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const inFlight: Array<Promise<R>> = [];
  let next = 0;
  const start = (): void => {
    const item = items[next++]!;
    const promise = fn(item);
    promise.catch(() => undefined); // surfaced when awaited in order
    inFlight.push(promise);
  };
  try {
    while (next < items.length && inFlight.length < concurrency) start();
    while (inFlight.length) {
      const result = await inFlight.shift()!;
      if (next < items.length) start();
      yield result;
    }
  } finally {
    // Leave nothing dangling when the consumer stops early (error or cancellation).
    await Promise.allSettled(inFlight);
  }
}
