import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { renderPage } from '../fixtures/pages.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let images: Server;
let fetches = 0;
let imageUrl = '';

before(async () => {
  const page = await renderPage({ lines: ['Invoice 7731 is due on Friday.'], fontSize: 40, width: 1100 });
  images = createServer((_request, response) => {
    fetches++;
    response.writeHead(200, { 'content-type': 'image/png' }).end(page);
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/page.png`;
  t = await buildTestApp({ fetch: { allowPrivateAddresses: true } });
});
after(async () => {
  await t?.close();
  images?.close();
});

test('a chat job keeps the parsed request: its image URL is fetched once, at submission, and the job reads it', {
  timeout: 120_000,
}, async () => {
  const submitted = await t.app.inject({
    method: 'POST',
    url: '/api/v1/jobs',
    payload: {
      type: 'chat',
      input: {
        model: 'got_ocr',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'read it' },
              { type: 'image_url', image_url: { url: imageUrl } },
            ],
          },
        ],
      },
    },
  });
  assert.equal(submitted.statusCode, 202, submitted.body);
  const id = submitted.json<{ id: string }>().id;
  assert.equal(fetches, 1, 'the image was fetched when the job was submitted');
  // What the job keeps is the core's request (the image a slice of the job's input), not the HTTP body.
  const stored = await t.services.jobs.store.get(id);
  assert.ok(stored);
  assert.equal(stored.params.body, undefined);
  assert.deepEqual(
    (stored!.params.request as { messages: Array<{ content: Array<{ type: string }> }> }).messages[0]!.content.map(
      (p) => p.type,
    ),
    ['text', 'image'],
  );
  let job: { status: string; result: { content: string; model: string } | null } = { status: 'queued', result: null };
  for (let i = 0; i < 600 && ['queued', 'running'].includes(job.status); i++) {
    await sleep(100);
    job = (await t.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}` })).json();
  }
  assert.equal(job.status, 'succeeded');
  assert.equal(job.result!.model, 'got_ocr');
  assert.match(job.result!.content, /Invoice 7731/);
  assert.equal(fetches, 1, 'running the job fetched nothing again');
});

test('a chat job with a bad body is refused at submission, naming the field', { timeout: 120_000 }, async () => {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/jobs',
    payload: { type: 'chat', input: { model: 'got_ocr', messages: 'hello' } },
  });
  assert.equal(res.statusCode, 422);
  assert.match(res.body, /messages/);
});
