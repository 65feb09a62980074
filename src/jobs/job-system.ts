import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { abortError } from '../errors/app-error.js';
import type { Metrics } from '../runtime/metrics.js';
import { callerContext, type UsageMeter } from '../runtime/usage-meter.js';
import { isTerminal, type JobHandler, type JobState, type SubmitRequest } from './job.js';
import { RedisJobStore } from './redis-store.js';
import { SqliteJobStore } from './sqlite-store.js';
import type { JobProcessor, JobStore, StoreSettings, SubmitResult } from './store.js';
import { WebhookDispatcher } from './webhooks.js';

/** The one place the store is chosen (jobs.store). */
function createJobStore(config: Readonly<Config>, onError: (error: unknown) => void): JobStore {
  const settings: StoreSettings = {
    maxQueuedPerType: config.jobs.maxQueuedPerType,
    maxAttempts: config.jobs.maxAttempts,
    resultTtlMs: config.jobs.resultTtlSeconds * 1000,
    webhookMaxAttempts: config.jobs.webhookMaxAttempts,
    runTimeoutMs: config.jobs.timeoutMs,
  };
  if (config.jobs.store === 'redis')
    return new RedisJobStore(
      config.jobs.redisUrl!,
      config.jobs.redisPrefix,
      { ...settings, lockDurationMs: config.jobs.lockDurationMs },
      onError,
    );
  return new SqliteJobStore(config.jobs.sqlitePath, settings, onError);
}

export interface JobSystemDependencies {
  config: Readonly<Config>;
  metrics: Metrics;
  usage: UsageMeter;
  log: Logger;
}

/**
 * Jobs for the HTTP layer and for workers: submit, wait, and (in a worker) run them with
 * webhooks delivered and expired results swept. Costs of a job count against its owner's key.
 */
export class JobSystem {
  readonly store: JobStore;
  private processor: JobProcessor | undefined;
  private webhooks: WebhookDispatcher | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly deps: JobSystemDependencies,
    store?: JobStore,
  ) {
    this.store = store ?? createJobStore(deps.config, (error) => deps.log.error({ err: error }, 'job store error'));
    deps.metrics.jobQueues = () => this.store.queued();
  }

  async submit(request: SubmitRequest): Promise<SubmitResult> {
    const submitted = await this.store.submit(request);
    if (submitted.created) this.deps.metrics.jobsSubmitted.inc({ type: request.type });
    return submitted;
  }

  /** Resolves with the job once it has ended (for routes that answer synchronously through the queue). */
  async wait(id: string, signal: AbortSignal): Promise<JobState> {
    return new Promise<JobState>((resolve, reject) => {
      let unsubscribe: (() => void) | undefined;
      let finished = false;
      const done = (error: unknown, job?: JobState): void => {
        if (finished) return;
        finished = true;
        clearInterval(poll);
        signal.removeEventListener('abort', onAbort);
        unsubscribe?.();
        if (job) resolve(job);
        else reject(error);
      };
      const check = (): void => {
        this.store.get(id).then(
          (job) => {
            if (!job) done(abortError(undefined));
            else if (isTerminal(job.status)) done(undefined, job);
          },
          (error: unknown) => done(error),
        );
      };
      const onAbort = (): void => done(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      // Events make it prompt; the poll is a safety net for a lost message.
      const poll = setInterval(check, 1000);
      this.store
        .subscribe(id, (event) => {
          if (event.type === 'status' && isTerminal(event.status)) check();
        })
        .then(
          (off) => {
            unsubscribe = off;
            if (finished) off();
            check();
          },
          (error: unknown) => done(error),
        );
    });
  }

  /** Runs queued jobs in this process, delivers webhooks and sweeps expired results. */
  startWorker(handler: JobHandler): void {
    const { config, log, metrics, usage } = this.deps;
    const counted: JobHandler = (context) =>
      context.job.owner
        ? callerContext.run({ key: context.job.owner, meter: usage }, () => handler(context))
        : handler(context);
    this.processor = this.store.process(counted, config.jobs.concurrency, (job, outcome) => {
      const status = outcome.status;
      metrics.jobsFinished.inc({ type: job.type, status });
      log.info({ job: job.id, type: job.type, attempt: job.attempts, status }, 'job ended');
    });
    const fetch = config.fetch;
    this.webhooks = new WebhookDispatcher(
      this.store,
      {
        secret: config.jobs.webhookSecret,
        maxAttempts: config.jobs.webhookMaxAttempts,
        retryBaseMs: config.jobs.webhookRetryBaseMs,
        timeoutMs: config.jobs.webhookTimeoutMs,
        policy: {
          allowPrivateAddresses: fetch.allowPrivateAddresses,
          allowHosts: fetch.allowHosts,
          timeoutMs: config.jobs.webhookTimeoutMs,
        },
      },
      (error) => log.warn({ err: error }, 'webhook delivery failed'),
    );
    this.webhooks.start();
    const sweepMs = Math.min(60_000, Math.max(250, (config.jobs.resultTtlSeconds * 1000) / 2));
    this.sweeper = setInterval(
      () =>
        void this.store.expire(Date.now()).catch((error: unknown) => log.warn({ err: error }, 'expiring jobs failed')),
      sweepMs,
    );
    this.sweeper.unref();
  }

  /**
   * Stops taking jobs; those running get `graceMs` to finish, then go back to the queue (pages
   * kept). Closing again (the shutdown path and services.close both do) waits for the first close.
   */
  close(graceMs = 0): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweeper);
      await this.processor?.close(graceMs);
      await this.webhooks?.close();
      await this.store.close();
    })();
    return this.closing;
  }
}
