import { abortError, appError } from '../errors/app-error.js';

/**
 * Bounded concurrency with a FIFO wait list that honours AbortSignal. With `maxQueue`,
 * a caller that would wait behind that many others is refused at once (503, Retry-After)
 * instead of hanging until a timeout.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<{
    resolve: () => void;
    reject: (e: unknown) => void;
    signal?: AbortSignal;
    onAbort?: () => void;
  }> = [];

  constructor(
    private readonly limit: number,
    private readonly maxQueue = Infinity,
    private readonly name = 'the server',
  ) {}

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw abortError(signal);
    if (this.active < this.limit) {
      this.active++;
      return this.releaser();
    }
    if (this.waiting.length >= this.maxQueue) {
      throw appError(
        'overloaded',
        `${this.name} is busy: ${this.active} requests running and ${this.waiting.length} waiting (the queue limit); retry shortly`,
        { limit: this.maxQueue },
        { retryAfterSeconds: 1 },
      );
    }
    await new Promise<void>((resolve, reject) => {
      const entry: (typeof this.waiting)[number] = { resolve, reject, signal };
      if (signal) {
        entry.onAbort = () => {
          const at = this.waiting.indexOf(entry);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.waiting.push(entry);
    });
    return this.releaser();
  }

  async use<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) {
        if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
        next.resolve(); // the slot passes straight to the next waiter
      } else {
        this.active--;
      }
    };
  }
}

/**
 * A budget of units (pixels of pages in memory) shared by callers that each take a weight of
 * it, first come first served: a caller waits until its weight fits, and one heavier than the
 * whole budget runs alone. Waiting honours AbortSignal.
 */
export class WeightedSemaphore {
  private used = 0;
  private readonly waiting: Array<{ weight: number; resolve: () => void }> = [];

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  async acquire(weight: number, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw abortError(signal);
    const take = Math.min(Math.max(0, weight), this.capacity);
    if (this.waiting.length === 0 && this.used + take <= this.capacity) this.used += take;
    else {
      await new Promise<void>((resolve, reject) => {
        const entry = { weight: take, resolve };
        const onAbort = (): void => {
          const at = this.waiting.indexOf(entry);
          if (at >= 0) this.waiting.splice(at, 1);
          this.grant();
          reject(abortError(signal));
        };
        entry.resolve = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(entry);
      });
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.used -= take;
      this.grant();
    };
  }

  /** Lets waiters in, in order, while the first of them fits. */
  private grant(): void {
    while (this.waiting.length && this.used + this.waiting[0]!.weight <= this.capacity) {
      const next = this.waiting.shift()!;
      this.used += next.weight;
      next.resolve();
    }
  }
}
