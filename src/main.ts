import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config/load.js';
import { createServices } from './services.js';

/** `npm start` / `visiongate serve`: read config, build, listen, drain on signals. */
export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config;
  try {
    config = loadConfig({ env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`visiongate: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(config.server.host) || config.server.host.startsWith('127.');
  if (!config.auth.enabled && !loopback && !config.auth.allowUnauthenticated) {
    process.stderr.write(`visiongate: refusing to serve on ${config.server.host} without API keys; enable auth (auth.enabled, auth.keys; see "visiongate keys create") or set auth.allowUnauthenticated to accept the risk\n`);
    process.exit(2);
  }
  const services = createServices(config);
  const app = await buildApp(services);
  if (!config.auth.enabled && !loopback) app.log.warn({ host: config.server.host }, 'serving WITHOUT API keys on a non-loopback address (auth.allowUnauthenticated)');
  await app.listen({ host: config.server.host, port: config.server.port });
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) process.exit(1); // a second signal: leave at once
    stopping = true;
    app.log.info({ signal, graceMs: config.server.shutdownGraceMs }, 'shutting down: no new requests; finishing those in flight');
    const deadline = setTimeout(() => {
      app.log.warn('shutdown deadline reached; leaving with requests still in flight');
      process.exit(0);
    }, config.server.shutdownGraceMs);
    deadline.unref();
    await app.close();
    await services.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}`) await serve();
