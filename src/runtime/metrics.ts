import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The Prometheus registry and the few instruments the core reports to. Each server (or
 * test) gets its own registry, so instances never share counters.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'visiongate_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'visiongate_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['route', 'method'],
    buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly httpInFlight = new Gauge({
    name: 'visiongate_http_requests_in_flight',
    help: 'HTTP requests being served',
    registers: [this.registry],
  });
  readonly ocrPages = new Counter({
    name: 'visiongate_ocr_pages_total',
    help: 'Pages read, by engine and source (text-layer or ocr)',
    labelNames: ['engine', 'source'],
    registers: [this.registry],
  });
  readonly ocrPageDuration = new Histogram({
    name: 'visiongate_ocr_page_duration_seconds',
    help: 'Time to read one page, by engine',
    labelNames: ['engine'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32],
    registers: [this.registry],
  });
  readonly summarizeDuration = new Histogram({
    name: 'visiongate_summarize_duration_seconds',
    help: 'Time to summarize, by engine',
    labelNames: ['engine'],
    buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly modelEvents = new Counter({
    name: 'visiongate_model_events_total',
    help: 'Models loaded (first use) and unloaded, by model',
    labelNames: ['model', 'event'],
    registers: [this.registry],
  });
  readonly engineErrors = new Counter({
    name: 'visiongate_engine_errors_total',
    help: 'Failures inside engines (not client mistakes), by engine',
    labelNames: ['engine'],
    registers: [this.registry],
  });

  readonly jobsFinished = new Counter({
    name: 'visiongate_jobs_finished_total',
    help: 'Jobs that ended, by type and status',
    labelNames: ['type', 'status'],
    registers: [this.registry],
  });
  readonly jobsSubmitted = new Counter({
    name: 'visiongate_jobs_submitted_total',
    help: 'Jobs created, by type',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'visiongate_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  /** Set once the job store exists: queued jobs per type (shared by every node on Redis). */
  jobQueues: () => Promise<Record<string, number>> = async () => ({});

  /** Set once the model registry exists: each chat model's running and waiting requests. */
  modelQueues: () => Array<{ model: string; running: number; waiting: number }> = () => [];

  constructor(queueDepth: () => number) {
    const queues = (): Array<{ model: string; running: number; waiting: number }> => this.modelQueues();
    const perModel: Array<[string, string, 'waiting' | 'running']> = [
      ['visiongate_model_queue_depth', 'Requests waiting for a model, by model', 'waiting'],
      ['visiongate_model_requests_running', 'Requests a model is serving now, by model', 'running'],
    ];
    for (const [name, help, field] of perModel) {
      new Gauge({
        name,
        help,
        labelNames: ['model'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const q of queues()) this.set({ model: q.model }, q[field]);
        },
      });
    }
    collectDefaultMetrics({ register: this.registry, prefix: 'visiongate_' });
    const jobQueues = (): Promise<Record<string, number>> => this.jobQueues();
    new Gauge({
      name: 'visiongate_job_queue_depth',
      help: 'Jobs waiting to run, by type (the HPA signal for workers)',
      labelNames: ['type'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [type, n] of Object.entries(await jobQueues().catch(() => ({})))) this.set({ type }, n);
      },
    });
    new Gauge({
      name: 'visiongate_worker_queue_depth',
      help: 'Tasks waiting for a worker thread',
      registers: [this.registry],
      collect() {
        this.set(queueDepth());
      },
    });
  }
}
