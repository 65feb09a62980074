import { pino, type Logger } from 'pino';
import type { Config } from './config/schema.js';
import type { ChatDependencies } from './core/chat.js';
import { parseLanguages } from './shared/languages.js';
import { WorkerPool } from './runtime/worker-pool.js';
import { OcrEngines } from './engines/ocr-engines.js';
import { PaddleEngine } from './engines/paddle/paddle-engine.js';
import { TesseractCliEngine } from './engines/tesseract-cli/tesseract-cli-engine.js';
import { TesseractJsEngine } from './engines/tesseract-js/tesseract-js-engine.js';
import { Metrics } from './runtime/metrics.js';
import { ModelRegistry } from './runtime/model-registry.js';
import { UsageMeter } from './runtime/usage-meter.js';
import { JobSystem } from './jobs/job-system.js';
import { ImageGenerator } from './images/generator.js';

/** Everything the core needs, built in one place for the server, the CLI and workers. */
export interface Services extends ChatDependencies {
  config: Readonly<Config>;
  metrics: Metrics;
  models: ModelRegistry;
  /** Per-key daily usage (quotas), shared by requests and the jobs this process runs. */
  usage: UsageMeter;
  /** For work outside a request (jobs, webhooks). */
  log: Logger;
  /** Text-to-image over the configured diffusion backends, and the saved outputs. */
  images: ImageGenerator;
  /** The job store, opened on first use (the CLI's one-off commands never open it). */
  readonly jobs: JobSystem;
  /** Stops jobs (after `graceMs` for those running), then engines and workers. */
  close(graceMs?: number): Promise<void>;
}

export function createServices(config: Readonly<Config>): Services {
  const workers = config.ocr.workers || undefined;
  const pool = new WorkerPool(workers);
  const cli = new TesseractCliEngine({ binary: config.ocr.tesseractBinary, workers });
  void cli.detect(); // start-up detection in the background; never delays listening
  const engines = new OcrEngines([new TesseractJsEngine({ workers, extraLanguageDir: config.ocr.extraLanguageDir }), cli, new PaddleEngine({ workers })]);
  const metrics = new Metrics(() => pool.queued);
  const deps = { workers: pool, engines, limits: config.limits, metrics };
  const models = new ModelRegistry(config.models, engines, deps, { languages: config.ocr.defaultLanguages, dpi: config.ocr.pdfDpi }, config.runtime.memoryBudgetMb * 1024 * 1024);
  metrics.modelQueues = () => models.queues();
  const log = pino({ level: config.log.level });
  const usage = new UsageMeter();
  let jobs: JobSystem | undefined;
  return {
    ...deps,
    config,
    models,
    usage,
    log,
    images: new ImageGenerator(config, models, log),
    ocrDefaults: { languages: parseLanguages(undefined, config.ocr.defaultLanguages), dpi: config.ocr.pdfDpi },
    get jobs() {
      jobs ??= new JobSystem({ config, metrics, usage, log });
      return jobs;
    },
    async close(graceMs = 0) {
      await jobs?.close(graceMs);
      this.images.store.stop();
      await models.close();
      await engines.unload();
      await pool.close();
    },
  };
}
