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
  const services = createServices(config);
  const app = await buildApp(services);
  await app.listen({ host: config.server.host, port: config.server.port });
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) process.exit(1); // a second signal: leave at once
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    await app.close();
    await services.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}`) await serve();
