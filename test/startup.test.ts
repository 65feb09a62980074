import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url);

test('the built TypeBox module is one bundled file, not ~700 modules loaded at every start', () => {
  const built = readFileSync(new URL('dist/src/shared/typebox.js', root), 'utf8');
  assert.doesNotMatch(built, /from\s*["']typebox/);
  assert.match(built, /Value/);
});

test('building the app loads neither sharp nor undici (they load on first use, or after listening)', async () => {
  // Everything `npm start` loads before it listens: the app with its services, from the built files.
  const script = `
    import { createRequire } from 'node:module';
    const { loadConfig } = await import('./dist/src/config/load.js');
    const { createServices } = await import('./dist/src/services.js');
    const { buildApp } = await import('./dist/src/app.js');
    const services = createServices(loadConfig({ env: { VISIONGATE_JOBS__SQLITE_PATH: ':memory:' } }));
    const app = await buildApp(services);
    await app.ready();
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    await app.close();
    await services.close();
    const { loadSharp, loadUndici } = await import('./dist/src/shared/lazy-modules.js');
    await loadSharp();
    await loadUndici();
    const after = Object.keys(createRequire(import.meta.url).cache);
    process.stdout.write(JSON.stringify({ loaded, after }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    maxBuffer: 16 << 20,
  });
  const { loaded, after } = JSON.parse(stdout) as { loaded: string[]; after: string[] };
  const of = (list: string[], pkg: RegExp): string[] => list.filter((file) => pkg.test(file));
  assert.deepEqual(of(loaded, /node_modules\/undici\//), []);
  assert.deepEqual(of(loaded, /node_modules\/@img\/sharp-/), []);
  // The check can fail: once asked for, both are there.
  assert.ok(of(after, /node_modules\/undici\//).length > 0, 'undici loaded on first use');
  assert.ok(of(after, /node_modules\/@img\/sharp-/).length > 0, 'sharp loaded on first use');
});
