import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { renderPage } from '../fixtures/pages.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';

const dir = mkdtempSync(join(tmpdir(), 'visiongate-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Listed {
  data: Array<{ id: string; status: string }>;
  next_cursor: string | null;
}

async function allJobs(server: ServerProcess): Promise<Array<{ id: string; status: string }>> {
  const jobs: Array<{ id: string; status: string }> = [];
  let cursor: string | null = null;
  do {
    const page = (await (
      await fetch(`${server.url}/api/v1/jobs?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
    ).json()) as Listed;
    jobs.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return jobs;
}

/** "job ended" log lines with status succeeded, per job id. */
function completions(output: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of output.split('\n')) {
    if (!line.includes('"job ended"')) continue;
    const entry = JSON.parse(line) as { job: string; status: string };
    if (entry.status === 'succeeded') counts.set(entry.job, (counts.get(entry.job) ?? 0) + 1);
  }
  return counts;
}

test('kill -9 mid-run with 120 jobs: after a restart every job ends exactly once, results intact, none lost', {
  timeout: 240_000,
}, async () => {
  const env = { VISIONGATE_JOBS__SQLITE_PATH: join(dir, 'jobs.sqlite'), VISIONGATE_LOG_LEVEL: 'info' };
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
  const pages = await Promise.all(
    words.map((w) => renderPage({ lines: [`Invoice ${w} is paid`], fontSize: 40, width: 900 })),
  );
  let server = await startServer(env);
  const submitted: Array<{ id: string; word: string }> = [];
  try {
    for (let i = 0; i < 120; i++) {
      const word = words[i % words.length]!;
      const res = await fetch(`${server.url}/api/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'ocr', input: { data: pages[i % words.length]!.toString('base64') } }),
      });
      assert.equal(res.status, 202);
      submitted.push({ id: ((await res.json()) as { id: string }).id, word });
    }
    // Let a part of them finish, then pull the plug.
    for (let i = 0; i < 600; i++) {
      if ((await allJobs(server)).filter((j) => j.status === 'succeeded').length >= 15) break;
      await sleep(50);
    }
  } finally {
    server.child.kill('SIGKILL');
    // 'close', not 'exit': exit can come before the last of its stdout is read, and the log lines
    // written just before the kill (a "job ended" among them) would be missing from firstRun.
    await new Promise((resolve) => server.child.once('close', resolve));
  }
  const firstRun = server.output;
  const doneBefore = completions(firstRun).size;
  assert.ok(doneBefore >= 15 && doneBefore < 120, `${doneBefore} finished before the kill`);

  server = await startServer(env);
  try {
    let jobs: Array<{ id: string; status: string }> = [];
    for (let i = 0; i < 1200; i++) {
      jobs = await allJobs(server);
      if (jobs.length === 120 && jobs.every((j) => !['queued', 'running'].includes(j.status))) break;
      await sleep(100);
    }
    assert.equal(jobs.length, 120, 'no job lost');
    assert.deepEqual([...new Set(jobs.map((j) => j.status))], ['succeeded']);
    for (const { id, word } of submitted) {
      const job = (await (await fetch(`${server.url}/api/v1/jobs/${id}`)).json()) as { result: { text: string } };
      assert.match(job.result.text, new RegExp(`Invoice ${word} is paid`, 'i'), `job ${id}`);
    }
    // The API answers from the store; the last "job ended" lines may still be on their way through the pipe.
    let all = completions(firstRun + server.output);
    for (let i = 0; i < 100 && all.size < 120; i++) {
      await sleep(50);
      all = completions(firstRun + server.output);
    }
    assert.equal(all.size, 120, 'every job logged its end');
    assert.deepEqual([...new Set(all.values())], [1], 'each job recorded its end once');
  } finally {
    await server.stop();
  }
});
