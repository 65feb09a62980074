/** Jobs/s through each store (a trivial job: an extractive summary of two sentences) and enqueue latency. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../test/helpers/redis.js';
import { startServer } from '../test/helpers/server-process.js';
import { fmt, percentile, postLoad } from './stats.js';

async function throughput(
  env: Record<string, string>,
  total: number,
  concurrency: number,
): Promise<{ jobsPerSecond: number; enqueue: number[] }> {
  const server = await startServer({
    ...env,
    VISIONGATE_LOG_LEVEL: 'info',
    VISIONGATE_JOBS__CONCURRENCY: '8',
    VISIONGATE_JOBS__MAX_QUEUED_PER_TYPE: String(total * 2),
  });
  const body = JSON.stringify({
    type: 'summarize',
    input: { text: 'The pump failed on Monday. It was replaced on Tuesday.' },
    options: { engine: 'extractive' },
  });
  const started = performance.now();
  const { latencies: enqueue } = await postLoad(`${server.url}/api/v1/jobs`, body, concurrency, total);
  // Done when nothing is queued or running any more.
  const none = async (status: string): Promise<boolean> =>
    ((await (await fetch(`${server.url}/api/v1/jobs?status=${status}&limit=1`)).json()) as { data: unknown[] }).data
      .length === 0;
  while (!((await none('queued')) && (await none('running')))) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - started) / 1000;
  await server.stop();
  return { jobsPerSecond: total / seconds, enqueue };
}

export async function jobsBench(): Promise<string[]> {
  const report: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'vg-bench-jobs-'));
  const sqlite = await throughput({ VISIONGATE_JOBS__SQLITE_PATH: join(dir, 'jobs.sqlite') }, 500, 8);
  report.push(
    `jobs (sqlite, 500 trivial jobs, 8 clients): ${fmt(sqlite.jobsPerSecond, 0)} jobs/s end to end; enqueue p50 ${fmt(percentile(sqlite.enqueue, 50))} ms, p99 ${fmt(percentile(sqlite.enqueue, 99))} ms`,
  );
  const redis = await startRedis();
  try {
    const onRedis = await throughput(
      { VISIONGATE_JOBS__STORE: 'redis', VISIONGATE_JOBS__REDIS_URL: redis.url },
      500,
      8,
    );
    report.push(
      `jobs (redis/BullMQ, same load, one process): ${fmt(onRedis.jobsPerSecond, 0)} jobs/s end to end; enqueue p50 ${fmt(percentile(onRedis.enqueue, 50))} ms, p99 ${fmt(percentile(onRedis.enqueue, 99))} ms; ratio to sqlite ${fmt(onRedis.jobsPerSecond / sqlite.jobsPerSecond)}x`,
    );
  } finally {
    await redis.stop();
  }
  return report;
}
