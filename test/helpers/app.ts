import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createServices, type Services } from '../../src/services.js';
import { jobHandler } from '../../src/jobs/handlers/index.js';

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  close(): Promise<void>;
}

/** A real app with real engines, silent logs, jobs in memory (run in-process), and config overrides for the test. */
export async function buildTestApp(
  overrides: Record<string, unknown> = {},
  options: { worker?: boolean } = {},
): Promise<TestApp> {
  const jobs = { sqlitePath: ':memory:', ...((overrides.jobs as Record<string, unknown> | undefined) ?? {}) };
  const services = createServices(loadConfig({ overrides: { log: { level: 'silent' }, ...overrides, jobs } }));
  if (options.worker ?? true) services.jobs.startWorker(jobHandler(services));
  const app = await buildApp(services, { logger: false });
  await app.ready();
  return {
    app,
    services,
    async close() {
      await app.close();
      await services.close();
    },
  };
}

/** A multipart body with one file and some fields, as curl -F would send it. */
export function multipart(
  file: { field?: string; name: string; bytes: Buffer; type?: string } | null,
  fields: Record<string, string> = {},
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----visiongate${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(fields))
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`));
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.name}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      file.bytes,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
