import { existsSync, readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { ConfigError } from './config/load.js';
import { isAppError } from './errors/app-error.js';
import { workflowProblem } from './engines/comfyui/workflow.js';
import type { Config } from './config/schema.js';
import type { HttpServices } from './http/http-services.js';
import { parseLanguages } from './shared/languages.js';
import { WorkerPool } from './runtime/worker-pool.js';
import { OcrEngines } from './engines/ocr-engines.js';
import { WeightedSemaphore } from './shared/semaphore.js';
import { PaddleEngine } from './engines/paddle/paddle-engine.js';
import { TesseractCliEngine } from './engines/tesseract-cli/tesseract-cli-engine.js';
import { TesseractJsEngine } from './engines/tesseract-js/tesseract-js-engine.js';
import { Metrics } from './runtime/metrics.js';
import { ModelRegistry } from './runtime/model-registry.js';
import { ocrDocument, type OcrDefaults } from './core/ocr.js';
import type { DocumentReader } from './engines/ocr-chat/ocr-chat-engine.js';
import { UsageMeter } from './runtime/usage-meter.js';
import { JobSystem } from './jobs/job-system.js';
import { ImageGenerator } from './images/generator.js';

/**
 * Everything the layers need, built in one place for the server, the CLI and workers: what
 * the HTTP layer may be given (each route takes a Pick of it) and what the job handlers take.
 */
export interface Services extends HttpServices {
  /** For work outside a request (jobs, webhooks). */
  log: Logger;
  /** Stops jobs (after `graceMs` for those running), then engines and workers. */
  close(graceMs?: number): Promise<void>;
}

/**
 * What the configuration asks that only the engines can check (a ComfyUI workflow file's
 * content), so a bad file is a boot error rather than a failed first request.
 */
export function startupProblems(config: Readonly<Config>): string[] {
  const workflows = Object.entries(config.models).flatMap(([id, model]) => {
    const workflow = model.image?.workflow;
    if (!workflow || !existsSync(workflow)) return [];
    const problem = workflowProblem(readFileSync(workflow, 'utf8'));
    return problem ? [`models.${id}.image.workflow: ${problem}`] : [];
  });
  const languages = [
    ['ocr.defaultLanguages', config.ocr.defaultLanguages] as const,
    ...Object.entries(config.models).flatMap(([id, model]) =>
      model.ocr?.languages ? [[`models.${id}.ocr.languages`, model.ocr.languages] as const] : [],
    ),
  ].flatMap(([key, value]) => {
    try {
      parseLanguages(value);
      return [];
    } catch (error) {
      return [`${key}: ${(error as Error).message}`];
    }
  });
  return [...workflows, ...languages];
}

/**
 * The configured languages (the default and each OCR model's) checked against the installed
 * language data, so a config naming a language nobody can read fails at boot, not on the
 * first request. Waits for the engines' detection (the native CLI is asked what it has).
 */
export async function languageProblems(
  services: Pick<Services, 'config' | 'engines' | 'models' | 'ocrDefaults'>,
): Promise<string[]> {
  const wanted = [
    { key: 'ocr.defaultLanguages', engine: services.ocrDefaults.engine, languages: services.ocrDefaults.languages },
    ...Object.entries(services.config.models).flatMap(([id, model]) =>
      model.ocr ? [{ key: `models.${id}.ocr`, ...services.models.ocrEngineOf(id) }] : [],
    ),
  ];
  const problems: string[] = [];
  for (const { key, engine, languages } of wanted) {
    try {
      await services.engines.choose(engine, languages);
    } catch (error) {
      if (!isAppError(error)) throw error;
      problems.push(`${key}: ${error.message}`);
    }
  }
  return problems;
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
  const engines = new OcrEngines([
    new TesseractJsEngine({ workers, extraLanguageDir: config.ocr.extraLanguageDir, taskTimeoutMs }),
    cli,
    new PaddleEngine({ workers, taskTimeoutMs }),
  ]);
  const metrics = new Metrics(() => pool.queued);
  const pageMemory = config.limits.maxPixelsInFlight
    ? new WeightedSemaphore(config.limits.maxPixelsInFlight)
    : undefined;
  const deps = { workers: pool, engines, limits: config.limits, metrics, ...(pageMemory ? { pageMemory } : {}) };
  const readDocument: DocumentReader = (bytes, options, signal) => ocrDocument(deps, bytes, options, signal);
  const proxy = config.compat.vllmProxy;
  // The OCRFlux seed's vLLM server: a vision model speaking OpenAI's API.
  const proxyChat = proxy
    ? { backend: 'openai' as const, vision: true, threads: 1, keepAliveMs: 300_000, contextTokens: 4096, ...proxy }
    : undefined;
  // The configured languages are parsed here, once (their form was checked by checkStartup).
  const ocrDefaults: OcrDefaults = {
    engine: config.ocr.defaultEngine,
    languages: parseLanguages(config.ocr.defaultLanguages),
    dpi: config.ocr.pdfDpi,
  };
  const models = new ModelRegistry(
    config.models,
    engines,
    { readDocument, metrics },
    { languages: ocrDefaults.languages, dpi: ocrDefaults.dpi },
    config.runtime.memoryBudgetMb * 1024 * 1024,
    proxyChat,
  );
  metrics.modelQueues = () => models.queues();
  // Written at once (the access log is batched, src/app.ts): a "job ended" line is in the pipe before the next
  // statement runs, so a process killed right after recording a job's end does not lose the line.
  const log = pino({ level: config.log.level }, pino.destination({ dest: 1, sync: true }));
  const usage = new UsageMeter();
  let jobs: JobSystem | undefined;
  return {
    ...deps,
    config,
    models,
    usage,
    log,
    images: new ImageGenerator(config, models, log),
    ocrDefaults,
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
