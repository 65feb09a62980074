import type { Config } from '../config/schema.js';
import type { ChatDependencies } from '../core/chat.js';
import type { ImageGenerator } from '../images/generator.js';
import type { JobSystem } from '../jobs/job-system.js';
import type { Metrics } from '../runtime/metrics.js';
import type { UsageMeter } from '../runtime/usage-meter.js';

/**
 * What the HTTP layer can be given (the entry point builds it: src/services.ts). Each route
 * and helper takes only the fields it uses, as a `Pick` of this, never the entry's own type.
 */
export interface HttpServices extends ChatDependencies {
  config: Readonly<Config>;
  metrics: Metrics;
  /** Per-key daily usage (quotas), shared by requests and the jobs this process runs. */
  usage: UsageMeter;
  /** Text-to-image over the configured diffusion backends, and the saved outputs. */
  images: ImageGenerator;
  /** The job store, opened on first use. */
  readonly jobs: JobSystem;
}

/** What the core's OCR, chat and summary use cases need (they take the whole of it). */
export type CoreServices = ChatDependencies;
