import { existsSync, readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { ConfigError } from './config/load.js';
import { workflowProblem } from './engines/comfyui/workflow.js';
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
import { ocrDocument } from './core/ocr.js';
import type { DocumentReader } from './engines/ocr-chat/ocr-chat-engine.js';
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

/**
 * What the configuration asks that only the engines can check (a ComfyUI workflow file's
 * content), so a bad file is a boot error rather than a failed first request.
 */
export function startupProblems(config: Readonly<Config>): string[] {
  return Object.entries(config.models).flatMap(([id, model]) => {
    const workflow = model.image?.workflow;
    if (!workflow || !existsSync(workflow)) return [];
    const problem = workflowProblem(readFileSync(workflow, 'utf8'));
    return problem ? [`models.${id}.image.workflow: ${problem}`] : [];
  });
}

/** Throws a ConfigError listing every start-up problem. */
export function checkStartup(config: Readonly<Config>): void {
  const problems = startupProblems(config);
  if (problems.length) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
}

export function createServices(config: Readonly<Config>): Services {
  checkStartup(config);
  const workers = config.ocr.workers || undefined;
  const pool = new WorkerPool(workers, config.limits.workerTaskTimeoutMs);
  const taskTimeoutMs = config.limits.workerTaskTimeoutMs;
  const cli = new TesseractCliEngine({ binary: config.ocr.tesseractBinary, workers, taskTimeoutMs });
  void cli.detect(); // start-up detection in the background; never delays listening
  const engines = new OcrEngines([new TesseractJsEngine({ workers, extraLanguageDir: config.ocr.extraLanguageDir, taskTimeoutMs }), cli, new PaddleEngine({ workers, taskTimeoutMs })]);
  const metrics = new Metrics(() => pool.queued);
  const deps = { workers: pool, engines, limits: config.limits, metrics };
  const readDocument: DocumentReader = (bytes, options, signal) => ocrDocument(deps, bytes, options, signal);
  const models = new ModelRegistry(config.models, engines, { readDocument, metrics }, { languages: config.ocr.defaultLanguages, dpi: config.ocr.pdfDpi }, config.runtime.memoryBudgetMb * 1024 * 1024);
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
