import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { jobHandler } from './jobs/handlers/index.js';
import { createServices, languageProblems, type Services } from './services.js';
import { warmLazyModules } from './shared/lazy-modules.js';

function exitOnConfigError<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`visiongate: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** Configured languages with no installed data stop the start, with every such key named. */
async function exitOnLanguageProblems(services: Services): Promise<void> {
  const problems = await languageProblems(services);
  if (!problems.length) return;
  process.stderr.write(`visiongate: invalid configuration:\n  ${problems.join('\n  ')}\n`);
  await services.close();
  process.exit(2);
}

/**
 * On SIGTERM/SIGINT: `stopping` ends new work, running jobs get the grace period and then go
 * back to the queue with their pages kept; a second signal leaves at once.
 */
function onSignals(
  services: Services,
  log: Pick<Services['log'], 'info' | 'warn'>,
  stopping: () => Promise<unknown>,
): void {
  const grace = services.config.server.shutdownGraceMs;
  let stopped = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopped) process.exit(1);
    stopped = true;
    log.info({ signal, graceMs: grace }, 'shutting down: no new work; finishing what is in flight');
    // Past the grace period plus time to put running jobs back, leave anyway.
    const deadline = setTimeout(() => {
      log.warn('shutdown deadline reached; leaving with work still in flight');
      process.exit(0);
    }, grace + 5000);
    deadline.unref();
    await Promise.all([stopping(), services.jobs.close(grace)]);
    await services.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

const isLoopback = (host: string): boolean =>
  ['127.0.0.1', '::1', 'localhost'].includes(host) || host.startsWith('127.');

/** Why this config must not be served (a non-loopback address without keys), in one line; undefined when it may. */
export function serveRefusal(config: Readonly<Config>): string | undefined {
  if (config.auth.enabled || isLoopback(config.server.host) || config.auth.allowUnauthenticated) return undefined;
  return `visiongate: refusing to serve on ${config.server.host} without an API key: set VISIONGATE_API_KEY (16+ characters; or auth.keys in a config file), or VISIONGATE_AUTH__ALLOW_UNAUTHENTICATED=true to accept the risk`;
}

/** `npm start` / `visiongate serve`: read config, build, listen (and run jobs unless jobs.embeddedWorker is off). */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = exitOnConfigError(() => loadConfig({ env }));
  const refusal = serveRefusal(config);
  if (refusal) {
    process.stderr.write(`${refusal}\n`);
    process.exit(2);
  }
  const loopback = isLoopback(config.server.host);
  const services = exitOnConfigError(() => createServices(config));
  await exitOnLanguageProblems(services);
  if (config.jobs.embeddedWorker) services.jobs.startWorker(jobHandler(services));
  services.images.store.startSweeping((error) => services.log.warn({ err: error }, 'image retention sweep failed'));
  const app = await buildApp(services);
  if (!config.auth.enabled && !loopback)
    app.log.warn(
      { host: config.server.host },
      'serving WITHOUT API keys on a non-loopback address (auth.allowUnauthenticated)',
    );
  await app.listen({ host: config.server.host, port: config.server.port });
  onSignals(services, app.log, () => app.close());
  warmInBackground(app.log);
}

/** Loads what the first requests will need (sharp, undici) once listening; a failure is logged, and each use reports it again. */
function warmInBackground(log: Pick<Services['log'], 'error'>): void {
  void warmLazyModules().then((errors) => {
    for (const err of errors) log.error({ err }, 'a module the server needs could not be loaded');
  });
}

/** `visiongate worker`: runs queued jobs (and their webhooks) from the shared store, no HTTP. */
export async function work(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = exitOnConfigError(() => loadConfig({ env }));
  const services = exitOnConfigError(() => createServices(config));
  await exitOnLanguageProblems(services);
  services.jobs.startWorker(jobHandler(services));
  services.images.store.startSweeping((error) => services.log.warn({ err: error }, 'image retention sweep failed'));
  warmInBackground(services.log);
  services.log.info({ store: config.jobs.store, concurrency: config.jobs.concurrency }, 'worker running jobs');
  onSignals(services, services.log, async () => {});
}

if (import.meta.url === `file://${process.argv[1]}`) await serve();
