import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createKey } from '../../src/auth/keys.js';
import { buildTestApp, multipart, type TestApp } from '../helpers/app.js';
import { characterErrorRate } from '../helpers/cer.js';
import { makePdf, renderPage } from '../fixtures/pages.js';

const alice = createKey('alice');
const bob = createKey('bob');
const lines = ['Quarterly inspection of the north pumping station.', 'Every valve was tested and found in good order.'];

let t: TestApp;
let authed: TestApp;
let page: Buffer;
let scanned: Buffer;

interface Job {
  id: string;
  status: string;
  type: string;
  queue_position: number | null;
  progress: { unit: string; done: number; total?: number } | null;
  result: Record<string, unknown> | null;
  error: { code: string; detail: string } | null;
  callback: {
    url: string;
    delivered: boolean;
    deliveries: Array<{ attempt: number; status_code: number | null }>;
  } | null;
  webhook_secret?: string;
}

before(async () => {
  t = await buildTestApp({
    fetch: { allowPrivateAddresses: true },
    jobs: { webhookRetryBaseMs: 20, resultTtlSeconds: 3600 },
  });
  authed = await buildTestApp({ auth: { enabled: true, keys: [alice.entry, bob.entry] } });
  page = await renderPage({ lines }, 'png');
  // Five scanned pages: each is read by OCR (no text layer), so a job takes several seconds.
  scanned = await makePdf(Array.from({ length: 5 }, () => ({ image: page })));
});
after(async () => {
  await t.close();
  await authed.close();
});

const json = (payload: unknown, headers: Record<string, string> = {}) => ({
  payload: JSON.stringify(payload),
  headers: { 'content-type': 'application/json', ...headers },
});
const getJob = async (app: TestApp, id: string, headers: Record<string, string> = {}): Promise<Job> =>
  (await app.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers })).json() as Job;
async function until(app: TestApp, id: string, done: (job: Job) => boolean, ms = 60_000): Promise<Job> {
  const deadline = Date.now() + ms;
  for (;;) {
    const job = await getJob(app, id);
    if (done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job stuck: ${JSON.stringify(job).slice(0, 500)}`);
    await sleep(25);
  }
}
const ended = (job: Job): boolean => !['queued', 'running'].includes(job.status);

describe('jobs over HTTP', () => {
  test('POST /api/v1/ocr?async=true answers 202 with Location at once; the job reads the page', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ocr?async=true',
      ...multipart({ name: 'page.png', bytes: page }),
    });
    assert.equal(res.statusCode, 202, res.body);
    const job = res.json() as Job;
    assert.match(job.id, /^job_[0-9a-f]{32}$/);
    assert.equal(res.headers.location, `/api/v1/jobs/${job.id}`);
    assert.ok(['queued', 'running'].includes(job.status));
    const done = await until(t, job.id, ended);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.ok(characterErrorRate(lines.join('\n'), String(done.result!.text)) < 0.03, String(done.result!.text));
    assert.deepEqual(done.progress, { unit: 'pages', done: 1, total: 1 });
  });

  test('events stream each page as it finishes, then the whole job', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/jobs',
      ...json({
        type: 'ocr',
        input: { data: scanned.toString('base64'), filename: 'scan.pdf' },
        options: { dpi: 100, pages: '1-3' },
      }),
    });
    assert.equal(created.statusCode, 202, created.body);
    const { id } = created.json() as Job;
    const events = await t.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}/events` });
    assert.equal(events.statusCode, 200);
    assert.match(String(events.headers['content-type']), /text\/event-stream/);
    const parsed = events.body
      .split('\n\n')
      .filter((b) => b.startsWith('event:'))
      .map((b) => ({
        name: /^event: (.+)$/m.exec(b)![1]!,
        data: JSON.parse(/^data: (.+)$/m.exec(b)![1]!) as Record<string, unknown>,
      }));
    assert.equal(parsed[0]!.name, 'job-status');
    const pages = parsed.filter((e) => e.name === 'job-partial').map((e) => e.data.index);
    assert.deepEqual(pages, [1, 2, 3], 'every page once, in order');
    for (const e of parsed.filter((e) => e.name === 'job-partial'))
      assert.match(String((e.data.value as { text: string }).text), /pumping station/);
    const last = parsed[parsed.length - 1]!;
    assert.equal(last.name, 'job-end');
    assert.equal(last.data.status, 'succeeded');
    assert.equal((last.data.result as { pages: unknown[] }).pages.length, 3);
  });

  test('DELETE stops a running multi-page OCR job within a page; its pages so far stay readable', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/jobs',
      ...json({ type: 'ocr', input: { data: scanned.toString('base64') }, options: { dpi: 150 } }),
    });
    const { id } = created.json() as Job;
    const started = await until(t, id, (j) => (j.progress?.done ?? 0) >= 1 || ended(j));
    assert.equal(started.status, 'running');
    const cancel = await t.app.inject({ method: 'DELETE', url: `/api/v1/jobs/${id}` });
    assert.equal(cancel.statusCode, 200);
    const doneAtCancel = (cancel.json() as Job).progress?.done ?? 0;
    const stopped = await until(t, id, ended, 20_000);
    assert.equal(stopped.status, 'cancelled');
    const concurrency = t.services.config.ocr.workers || 2;
    assert.ok(
      stopped.progress!.done <= doneAtCancel + concurrency,
      `${stopped.progress!.done} pages done after the cancel at ${doneAtCancel}`,
    );
    assert.ok(stopped.progress!.done < 5, 'it did not run to the end');
    assert.equal(stopped.result, null);
  });

  test('Idempotency-Key: ten concurrent retries make one job; the same key with another body is a 422', async () => {
    const body = {
      type: 'summarize',
      input: { text: 'The pump failed. It was replaced. The station works again. Everyone was relieved.' },
      options: { engine: 'extractive' },
    };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.app.inject({ method: 'POST', url: '/api/v1/jobs', ...json(body, { 'idempotency-key': 'retry-me' }) }),
      ),
    );
    assert.equal(new Set(answers.map((a) => (a.json() as Job).id)).size, 1);
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    const other = await t.app.inject({
      method: 'POST',
      url: '/api/v1/jobs',
      ...json({ ...body, options: { engine: 'extractive', max_length: 5 } }, { 'idempotency-key': 'retry-me' }),
    });
    assert.equal(other.statusCode, 422);
    assert.equal((other.json() as { code: string }).code, 'idempotency_conflict');
  });

  test('webhook: signed with HMAC-SHA256 and a timestamp; a receiver failing twice gets the third delivery', async () => {
    const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = received.length <= 2 ? 500 : 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const callback = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/jobs',
        ...json({
          type: 'summarize',
          input: { text: 'A short text. It has two sentences.' },
          options: { engine: 'extractive' },
          callback_url: callback,
        }),
      });
      const job = created.json() as Job;
      assert.match(job.webhook_secret!, /^whsec_/, 'without jobs.webhookSecret each job gets its own key, shown once');
      const delivered = await until(t, job.id, (j) => j.callback?.delivered === true, 20_000);
      assert.deepEqual(
        delivered.callback!.deliveries.map((d) => d.status_code),
        [500, 500, 204],
      );
      assert.equal(received.length, 3);
      for (const { headers, body } of received) {
        const [, ts, sig] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers['visiongate-signature']))!;
        assert.ok(Math.abs(Date.now() / 1000 - Number(ts)) < 60, 'fresh timestamp');
        assert.equal(sig, createHmac('sha256', job.webhook_secret!).update(`${ts}.${body}`).digest('hex'));
        const payload = JSON.parse(body) as { type: string; job: Job };
        assert.equal(payload.type, 'job.succeeded');
        assert.equal(payload.job.id, job.id);
      }
      assert.notEqual(
        createHmac('sha256', 'wrong-key').update(`x.${received[0]!.body}`).digest('hex'),
        /v1=(\w+)/.exec(String(received[0]!.headers['visiongate-signature']))![1],
      );
    } finally {
      receiver.close();
    }
  });

  test('callback_url to a private address is refused at once when private fetches are off', async () => {
    const res = await authed.app.inject({
      method: 'POST',
      url: '/api/v1/jobs',
      ...json(
        { type: 'summarize', input: { text: 'Some text here.' }, callback_url: 'http://169.254.169.254/latest' },
        { authorization: `Bearer ${alice.key}` },
      ),
    });
    assert.equal(res.statusCode, 422);
    assert.equal((res.json() as { code: string }).code, 'url_forbidden');
  });

  test('a batch runs its items on the queue; a bad item fails alone', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/batches',
      ...json({
        items: [
          { type: 'ocr', input: { data: page.toString('base64') } },
          { type: 'ocr', input: { data: Buffer.from('%PDF-1.7 not really a pdf').toString('base64') } },
          {
            type: 'summarize',
            input: { text: 'The station was inspected. All valves work. The report is filed.' },
            options: { engine: 'extractive' },
          },
        ],
      }),
    });
    assert.equal(res.statusCode, 202, res.body);
    const job = await until(t, (res.json() as Job).id, ended);
    assert.equal(job.status, 'succeeded');
    const result = job.result as {
      items: Array<{ index: number; status: string; error?: { code: string } }>;
      succeeded: number;
      failed: number;
    };
    assert.deepEqual(
      result.items.map((i) => i.status),
      ['succeeded', 'failed', 'succeeded'],
    );
    assert.equal(result.items[1]!.error!.code, 'corrupt_document');
    assert.deepEqual([result.succeeded, result.failed], [2, 1]);
    const view = (await t.app.inject({ method: 'GET', url: `/api/v1/batches/${job.id}` })).json() as {
      items: unknown[];
    };
    assert.equal(view.items.length, 3);
  });

  test('bad submissions are clear 4xx: unknown type, batch too big, bad option, no document', async () => {
    const cases: Array<[unknown, string]> = [
      [{ type: 'paint' }, 'invalid_parameter'],
      [{ type: 'ocr', input: {} }, 'missing_document'],
      [{ type: 'ocr', input: { data: page.toString('base64') }, options: { dpi: 5000 } }, 'invalid_parameter'],
      [
        {
          type: 'batch',
          input: { items: Array.from({ length: 101 }, () => ({ type: 'summarize', input: { text: 'x y z.' } })) },
        },
        'invalid_parameter',
      ],
      [{ type: 'image', input: { prompt: 'a cat' } }, 'capability_unavailable'],
    ];
    for (const [body, code] of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/jobs', ...json(body) });
      assert.equal((res.json() as { code: string }).code, code, res.body);
      assert.ok(res.statusCode >= 400 && res.statusCode < 600);
    }
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/jobs/job_00000000000000000000000000000000' })).statusCode,
      404,
    );
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/jobs?limit=0' })).statusCode, 422);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/jobs?status=done' })).statusCode, 422);
  });

  test('listing pages newest first', async () => {
    const first = (await t.app.inject({ method: 'GET', url: '/api/v1/jobs?limit=2' })).json() as {
      data: Job[];
      next_cursor: string;
      has_more: boolean;
    };
    assert.equal(first.data.length, 2);
    assert.equal(first.has_more, true);
    const second = (
      await t.app.inject({ method: 'GET', url: `/api/v1/jobs?limit=2&cursor=${first.next_cursor}` })
    ).json() as { data: Job[] };
    assert.ok(second.data.length >= 1);
    assert.ok(!second.data.some((j) => first.data.some((f) => f.id === j.id)));
  });

  test('with API keys, a job belongs to its key: another key gets 404 and does not list it', async () => {
    const res = await authed.app.inject({
      method: 'POST',
      url: '/api/v1/jobs',
      ...json(
        {
          type: 'summarize',
          input: { text: 'Private text of alice. It is short.' },
          options: { engine: 'extractive' },
        },
        { authorization: `Bearer ${alice.key}` },
      ),
    });
    assert.equal(res.statusCode, 202);
    const { id } = res.json() as Job;
    assert.equal(
      (
        await authed.app.inject({
          method: 'GET',
          url: `/api/v1/jobs/${id}`,
          headers: { authorization: `Bearer ${alice.key}` },
        })
      ).statusCode,
      200,
    );
    assert.equal(
      (
        await authed.app.inject({
          method: 'GET',
          url: `/api/v1/jobs/${id}`,
          headers: { authorization: `Bearer ${bob.key}` },
        })
      ).statusCode,
      404,
    );
    assert.equal(
      (
        await authed.app.inject({
          method: 'DELETE',
          url: `/api/v1/jobs/${id}`,
          headers: { authorization: `Bearer ${bob.key}` },
        })
      ).statusCode,
      404,
    );
    const listed = (
      await authed.app.inject({ method: 'GET', url: '/api/v1/jobs', headers: { authorization: `Bearer ${bob.key}` } })
    ).json() as { data: Job[] };
    assert.equal(listed.data.length, 0);
    assert.equal((await authed.app.inject({ method: 'GET', url: '/api/v1/jobs' })).statusCode, 401);
  });
});
