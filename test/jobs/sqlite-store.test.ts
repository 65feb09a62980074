import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteJobStore } from '../../src/jobs/sqlite-store.js';
import { request, settings, stepHandler, storeConformance } from './store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'visiongate-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

storeConformance('sqlite', async () => new SqliteJobStore(join(dir, `jobs-${n++}.sqlite`), settings));

test('sqlite: a job running when the process died is queued again on open, then interrupted once out of attempts', async () => {
  const path = join(dir, 'crash.sqlite');
  let store = new SqliteJobStore(path, { ...settings, maxAttempts: 2 });
  const { job } = await store.submit(request({ steps: 1000, delayMs: 50 }));
  store.process(stepHandler, 1);
  for (let i = 0; i < 100 && (await store.get(job.id))?.status !== 'running'; i++)
    await new Promise((r) => setTimeout(r, 10));
  // Drop the handle without letting the run finish: what a crash leaves on disk.
  await store.close();
  store = new SqliteJobStore(path, { ...settings, maxAttempts: 2 });
  assert.equal((await store.get(job.id))?.status, 'queued');
  store.process(stepHandler, 1);
  for (let i = 0; i < 100 && (await store.get(job.id))?.attempts !== 2; i++)
    await new Promise((r) => setTimeout(r, 10));
  await store.close();
  store = new SqliteJobStore(path, { ...settings, maxAttempts: 2 });
  const interrupted = await store.get(job.id);
  assert.equal(interrupted?.status, 'interrupted');
  assert.equal(interrupted?.error?.code, 'interrupted');
  await store.close();
});
