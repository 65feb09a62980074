import { createHmac, randomBytes } from 'node:crypto';
import { isAppError } from '../errors/app-error.js';
import { guardedPost, type FetchPolicy } from '../net/guarded-fetch.js';
import { jobView, type JobState } from './job.js';
import type { JobStore } from './store.js';

export interface WebhookSettings {
  /** Server-wide HMAC key; per-job keys otherwise. */
  secret: string | undefined;
  maxAttempts: number;
  retryBaseMs: number;
  timeoutMs: number;
  policy: Omit<FetchPolicy, 'maxBytes' | 'maxRedirects'>;
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver recomputes it with
 * the shared key and rejects old timestamps, so a captured delivery cannot be replayed.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64url')}`;

/**
 * Delivers finished jobs' callbacks: claims due deliveries from the store (a lease, so a
 * process that dies mid-delivery loses nothing), POSTs them signed, retries with doubling
 * delays, and records every attempt on the job.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly controller = new AbortController();

  constructor(
    private readonly store: JobStore,
    private readonly settings: WebhookSettings,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(intervalMs = 250): void {
    this.timer = setInterval(() => void this.tick().catch(this.onError), intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.inFlight.size >= 16) return;
    const due = await this.store.claimDeliveries(
      Date.now(),
      16 - this.inFlight.size,
      this.settings.timeoutMs * 2 + 1000,
    );
    for (const job of due) {
      const delivery = this.deliver(job)
        .catch(this.onError)
        .finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  private async deliver(job: JobState): Promise<void> {
    const callback = job.callback;
    if (!callback || callback.delivered)
      return this.store.recordDelivery(
        job.id,
        { attempt: 0, at: new Date().toISOString(), status_code: null, error: 'nothing to deliver' },
        callback?.delivered ?? false,
        undefined,
      );
    const attempt = callback.deliveries.length + 1;
    const body = JSON.stringify({ type: `job.${job.status}`, job: jobView(job) });
    const timestamp = Math.floor(Date.now() / 1000);
    const secret = this.settings.secret ?? callback.secret ?? '';
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      statusCode = await guardedPost(
        callback.url,
        body,
        {
          'visiongate-signature': signWebhook(secret, timestamp, body),
          'visiongate-event': `job.${job.status}`,
          'visiongate-delivery': `${job.id}.${attempt}`,
        },
        this.settings.policy,
        this.controller.signal,
      );
      if (statusCode < 200 || statusCode >= 300) error = `the receiver answered HTTP ${statusCode}`;
    } catch (e) {
      error = isAppError(e) ? e.message : String(e);
    }
    const delivered = error === null;
    const retryAt =
      !delivered && attempt < this.settings.maxAttempts
        ? Date.now() + this.settings.retryBaseMs * 2 ** (attempt - 1)
        : undefined;
    await this.store.recordDelivery(
      job.id,
      { attempt, at: new Date().toISOString(), status_code: statusCode, error },
      delivered,
      retryAt,
    );
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.controller.abort();
    await Promise.allSettled([...this.inFlight]);
  }
}
