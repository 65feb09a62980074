import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { makePdf, renderPage } from '../fixtures/pages.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { has, needs } from '../helpers/system-parts.js';
import { startServer, startWorker, type ServerProcess } from '../helpers/server-process.js';

let redis: RedisServer;
const processes: ServerProcess[] = [];
before(async () => {
  if (has('redis')) redis = await startRedis();
});
after(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await redis?.stop();
});

interface Job {
  id: string;
  status: string;
  attempts: number;
  progress: { done: number } | null;
  result: { pages: Array<{ text: string }> } | null;
}

const get = async (node: ServerProcess, id: string): Promise<Job> =>
  (await (await fetch(`${node.url}/api/v1/jobs/${id}`)).json()) as Job;

test('two API nodes and two workers on Redis: jobs seen and streamed from either node; a killed worker loses nothing', {
  timeout: 240_000,
  ...needs('redis'),
}, async () => {
  const env = {
    VISIONGATE_JOBS__STORE: 'redis',
    VISIONGATE_JOBS__REDIS_URL: redis.url,
    VISIONGATE_JOBS__REDIS_PREFIX: 'scale',
    VISIONGATE_JOBS__LOCK_DURATION_MS: '1500',
    VISIONGATE_LOG_LEVEL: 'info',
    VISIONGATE_OCR__WORKERS: '1',
  };
  // Each process is tracked as soon as it runs, so a failure before the end still stops it (no leak keeps the file alive).
  const track = async (starting: Promise<ServerProcess>): Promise<ServerProcess> => {
    const started = await starting;
    processes.push(started);
    return started;
  };
  const [a, b] = await Promise.all([
    track(startServer({ ...env, VISIONGATE_JOBS__EMBEDDED_WORKER: 'false' })),
    track(startServer({ ...env, VISIONGATE_JOBS__EMBEDDED_WORKER: 'false' })),
  ]);
  const [w1, w2] = await Promise.all([
    track(startWorker({ ...env, VISIONGATE_JOBS__CONCURRENCY: '2' })),
    track(startWorker({ ...env, VISIONGATE_JOBS__CONCURRENCY: '2' })),
  ]);
  const page = await renderPage({ lines: ['Shipment forty two left the dock.'], fontSize: 40, width: 1000 });
  const pdf = await makePdf([{ image: page }, { image: page }, { image: page }]);
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const res = await fetch(`${a!.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'ocr', input: { data: pdf.toString('base64') }, options: { dpi: 120 } }),
    });
    assert.equal(res.status, 202);
    ids.push(((await res.json()) as Job).id);
  }
  // The other node streams the first job: every page, then the end.
  const stream = await fetch(`${b!.url}/api/v1/jobs/${ids[0]}/events`);
  assert.equal(stream.status, 200);
  const events = await stream.text();
  assert.deepEqual(
    [...events.matchAll(/event: job-partial\ndata: \{"index":(\d+)/g)].map((m) => Number(m[1])),
    [1, 2, 3],
  );
  assert.match(events, /event: job-end\ndata: \{[^\n]*"status":"succeeded"/);
  // Kill a worker while it holds jobs.
  for (let i = 0; i < 200 && !/"job ended"/.test(w1!.output); i++) await sleep(25);
  w1!.child.kill('SIGKILL');
  const deadline = Date.now() + 180_000;
  let jobs: Job[] = [];
  while (Date.now() < deadline) {
    jobs = await Promise.all(ids.map((id) => get(ids.indexOf(id) % 2 ? a! : b!, id)));
    if (jobs.every((j) => !['queued', 'running'].includes(j.status))) break;
    await sleep(200);
  }
  assert.deepEqual(
    jobs.map((j) => j.status),
    ids.map(() => 'succeeded'),
  );
  for (const job of jobs) {
    assert.equal(job.result!.pages.length, 3);
    for (const p of job.result!.pages) assert.match(p.text, /Shipment forty two/);
  }
  const ended = [
    ...(w1!.output + w2!.output).matchAll(/"job":"(job_\w+)"[^\n]*"status":"succeeded"[^\n]*"msg":"job ended"/g),
  ].map((m) => m[1]);
  assert.equal(ended.length, 12, 'each job recorded its end exactly once');
  assert.equal(new Set(ended).size, 12);
  assert.ok(/"job ended"/.test(w2!.output), 'the surviving worker ran jobs');
  assert.ok(
    jobs.some((j) => j.attempts === 2),
    'a job of the killed worker was taken over by the other',
  );
  await Promise.all([a!.stop(), b!.stop(), w2!.stop()]);
});
