import type { ApiKeyConfig } from '../config/schema.js';
import { appError } from '../errors/app-error.js';

/** Per-key requests per minute (a sliding one-minute window) and requests in flight. */
export class KeyLimits {
  private readonly recent = new Map<string, number[]>();
  private readonly inFlight = new Map<string, number>();

  /** `defaultMaxConcurrent` applies to keys that set no maxConcurrent of their own (0: unlimited). */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly defaultMaxConcurrent = 0,
  ) {}

  /** Admits one request for the key or throws 429 with the seconds until it would be admitted. */
  enter(key: ApiKeyConfig): () => void {
    const t = this.now();
    if (key.rateLimitPerMinute > 0) {
      const times = (this.recent.get(key.name) ?? []).filter((at) => t - at < 60_000);
      if (times.length >= key.rateLimitPerMinute) {
        const wait = Math.max(1, Math.ceil((60_000 - (t - times[0]!)) / 1000));
        this.recent.set(key.name, times);
        throw appError(
          'rate_limited',
          `API key "${key.name}" is limited to ${key.rateLimitPerMinute} requests per minute; retry in ${wait} s`,
          { limit: key.rateLimitPerMinute },
          { retryAfterSeconds: wait },
        );
      }
      times.push(t);
      this.recent.set(key.name, times);
    }
    const running = this.inFlight.get(key.name) ?? 0;
    const maxConcurrent = key.maxConcurrent ?? this.defaultMaxConcurrent;
    if (maxConcurrent > 0 && running >= maxConcurrent) {
      const name =
        key.maxConcurrent === undefined ? 'limits.maxConcurrentPerKey' : `auth.keys[${key.name}].maxConcurrent`;
      throw appError(
        'rate_limited',
        `API key "${key.name}" may run ${maxConcurrent} requests at once (${name}), and that many are running`,
        { limit: maxConcurrent },
        { retryAfterSeconds: 1 },
      );
    }
    this.inFlight.set(key.name, running + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inFlight.set(key.name, (this.inFlight.get(key.name) ?? 1) - 1);
    };
  }
}
