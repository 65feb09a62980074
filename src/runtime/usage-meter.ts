import { AsyncLocalStorage } from 'node:async_hooks';

/** What costs: OCR pages and their megapixels, images sent to chat models, tokens. */
export type Cost = 'pages' | 'megapixels' | 'images' | 'tokens';

const day = (t: number): string => new Date(t).toISOString().slice(0, 10);

/** Usage per API key for the current UTC day (in this process). */
export class UsageMeter {
  private readonly byKey = new Map<string, { day: string; totals: Record<Cost, number> }>();

  constructor(private readonly now: () => number = Date.now) {}

  private entry(key: string): { day: string; totals: Record<Cost, number> } {
    const today = day(this.now());
    let entry = this.byKey.get(key);
    if (!entry || entry.day !== today) {
      entry = { day: today, totals: { pages: 0, megapixels: 0, images: 0, tokens: 0 } };
      this.byKey.set(key, entry);
    }
    return entry;
  }

  add(key: string, cost: Cost, amount: number): void {
    this.entry(key).totals[cost] += amount;
  }

  totals(key: string): Record<Cost, number> {
    return { ...this.entry(key).totals };
  }

  /** Seconds until the day's totals start again (00:00 UTC). */
  secondsToReset(): number {
    const t = this.now();
    const midnight = Date.UTC(new Date(t).getUTCFullYear(), new Date(t).getUTCMonth(), new Date(t).getUTCDate() + 1);
    return Math.max(1, Math.ceil((midnight - t) / 1000));
  }
}

/**
 * Who the current work is for, carried to the core through async context (no HTTP types
 * below the surfaces): the API key's name, the meter its costs go to, and the models it may use.
 */
export interface Caller {
  key: string;
  meter: UsageMeter;
  /** Model ids (or '*') the key may use; absent: any. */
  models?: readonly string[];
}

export const callerContext = new AsyncLocalStorage<Caller>();

/** Counts a cost against the current request's API key (a no-op without auth). */
export function recordCost(cost: Cost, amount: number): void {
  const context = callerContext.getStore();
  if (context && amount > 0) context.meter.add(context.key, cost, amount);
}
