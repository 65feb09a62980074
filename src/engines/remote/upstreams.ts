/**
 * Several base URLs for one model: round-robin over the healthy ones; a URL that fails to
 * connect or answers 502/503/504 sits out for a while, then is tried again (half-open).
 */
export class Upstreams {
  private next = 0;
  private readonly downUntil = new Map<string, number>();

  constructor(
    readonly urls: string[],
    private readonly coolDownMs = 15_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** URLs to try for one request, healthy ones first, starting from the round-robin cursor. */
  order(): string[] {
    const start = this.next++ % this.urls.length;
    const rotated = [...this.urls.slice(start), ...this.urls.slice(0, start)];
    const t = this.now();
    const healthy = rotated.filter((u) => (this.downUntil.get(u) ?? 0) <= t);
    return [...healthy, ...rotated.filter((u) => !healthy.includes(u))];
  }

  markDown(url: string): void {
    this.downUntil.set(url, this.now() + this.coolDownMs);
  }

  markUp(url: string): void {
    this.downUntil.delete(url);
  }

  healthy(): string[] {
    const t = this.now();
    return this.urls.filter((u) => (this.downUntil.get(u) ?? 0) <= t);
  }
}
