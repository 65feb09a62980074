/** Atomics.waitAsync (Node 16+; in TypeScript's lib only from ES2024). */
interface AtomicsWaitAsync {
  waitAsync(
    array: Int32Array,
    index: number,
    value: number,
  ): { async: false; value: string } | { async: true; value: Promise<string> };
}

/**
 * A flag in shared memory that a worker thread raises when it takes a task (markStarted), so
 * the caller can start the task's time limit then rather than while it waits in a queue.
 * `onStart` runs once the flag is raised, or once `release` is called for a task that never
 * started (its time limit is cleared by then, so starting it does nothing).
 */
export function startedFlag(onStart: () => void): { flag: Int32Array; release(): void } {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(flag, 0, 0);
  if (wait.async) void wait.value.then(onStart);
  else onStart();
  return { flag, release: () => void Atomics.notify(flag, 0) };
}

/** Raises a startedFlag from the worker thread that took the task. */
export function markStarted(flag: Int32Array | undefined): void {
  if (!flag) return;
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}
