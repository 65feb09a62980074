import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createKey } from '../auth/keys.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { ocrDocument } from '../core/ocr.js';
import { isAppError } from '../errors/app-error.js';
import { ocrOptionsFrom, type OutputFormat } from '../http/ocr-options.js';
import { serve, work } from '../main.js';
import { checkStartup, createServices } from '../services.js';

const usage = `visiongate: one server for vision AI

Usage:
  visiongate serve                       serve HTTP (same as npm start); runs jobs too unless jobs.embeddedWorker=false
  visiongate worker                      run queued jobs from the shared store (jobs.store=redis), no HTTP
  visiongate ocr FILE [options]          OCR an image or PDF, print the result
  visiongate keys create --name NAME     make an API key; prints the key once and its config entry
  visiongate config check                validate the configuration (env + VISIONGATE_CONFIG) and print it

OCR options:
  --lang eng+fra         languages (Tesseract codes joined by +; default from config)
  --engine NAME          auto | tesseract-js | tesseract-cli | paddle
  --pages 1-3,7          page selection
  --format FORMAT        text | markdown | json (default text)
  --dpi N                render resolution for scanned PDF pages
  --force-ocr            OCR pages even when they have a text layer

Configuration comes from VISIONGATE_* variables and VISIONGATE_CONFIG (see README).`;

async function ocrCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      lang: { type: 'string' },
      engine: { type: 'string' },
      pages: { type: 'string' },
      format: { type: 'string', default: 'text' },
      dpi: { type: 'string' },
      'force-ocr': { type: 'boolean' },
    },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const format = values.format as OutputFormat;
  if (!['text', 'markdown', 'json'].includes(format))
    throw new Error(`--format must be text, markdown or json, not ${format}`);
  const config = loadConfig({ env: process.env });
  const services = createServices(config);
  try {
    const fields: Record<string, string> = {};
    if (values.lang) fields.languages = values.lang;
    if (values.engine) fields.engine = values.engine;
    if (values.pages) fields.pages = values.pages;
    if (values.dpi) fields.dpi = values.dpi;
    if (values['force-ocr']) fields.force_ocr = 'true';
    const result = await ocrDocument(services, await readFile(file), ocrOptionsFrom(fields, services.ocrDefaults));
    const output =
      format === 'json' ? JSON.stringify(result, null, 2) : format === 'markdown' ? result.markdown : result.text;
    process.stdout.write(`${output}\n`);
    return 0;
  } finally {
    await services.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        await serve();
        return -1; // keeps running
      case 'worker':
        await work();
        return -1;
      case 'ocr':
        return await ocrCommand(rest);
      case 'keys': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { name: { type: 'string' } },
        });
        if (positionals[0] !== 'create' || !values.name) throw new Error('usage: visiongate keys create --name NAME');
        const { key, entry } = createKey(values.name);
        process.stdout.write(
          `API key (shown once, store it now): ${key}\n\nAdd to the config under auth.keys:\n  - name: ${entry.name}\n    sha256: ${entry.sha256}\n`,
        );
        return 0;
      }
      case 'config': {
        if (rest[0] !== 'check') throw new Error('usage: visiongate config check');
        const config = loadConfig({ env: process.env });
        checkStartup(config);
        // Key hashes and upstream API keys are not printed.
        const shown = JSON.stringify(
          config,
          (k, v: unknown) =>
            ['apiKey', 'sha256', 'webhookSecret'].includes(k)
              ? '***'
              : k === 'redisUrl' && typeof v === 'string'
                ? v.replace(/\/\/[^@/]*@/, '//***@')
                : v,
          2,
        );
        process.stdout.write(`configuration is valid:\n${shown}\n`);
        return 0;
      }
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(`${usage}\n`);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`visiongate: unknown command "${command}"\n\n${usage}\n`);
        return 2;
    }
  } catch (error) {
    const message =
      isAppError(error) || error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error));
    process.stderr.write(`visiongate: ${message}\n`);
    return 1;
  }
}
