import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { renderPage } from '../fixtures/pages.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { startServer } from '../helpers/server-process.js';

let t: TestApp;
let page: Buffer;

before(async () => {
  // No worker: submitted jobs stay queued, so what the store keeps is what submission parsed.
  t = await buildTestApp({}, { worker: false });
  page = await renderPage({ lines: ['Parse once'], fontSize: 40, width: 600 });
});
after(async () => {
  await t?.close();
});

const submit = (options: Record<string, unknown>) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/jobs',
    payload: { type: 'ocr', input: { data: page.toString('base64') }, options },
  });

describe('shared options are parsed once, at the surface, the same for sync routes and jobs', () => {
  test('an unknown language is refused when an OCR job is submitted, as the synchronous route refuses it', async () => {
    const sync = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ocr?languages=xx_bogus',
      headers: { 'content-type': 'image/png' },
      payload: page,
    });
    assert.equal(sync.statusCode, 422);
    assert.equal(sync.json<{ code: string }>().code, 'unsupported_language');
    for (const res of [
      await submit({ languages: 'xx_bogus' }),
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/ocr?async=true&languages=xx_bogus',
        headers: { 'content-type': 'image/png' },
        payload: page,
      }),
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/batches',
        payload: {
          items: [{ type: 'ocr', input: { data: page.toString('base64') }, options: { languages: 'xx_bogus' } }],
        },
      }),
    ]) {
      assert.equal(res.statusCode, 422, res.body);
      assert.equal(res.json<{ code: string }>().code, 'unsupported_language');
      assert.match(res.body, /xx_bogus/);
    }
  });

  test('a job keeps pages and languages as parsed: a page selection, Tesseract codes', async () => {
    const res = await submit({ pages: '2-3, 5-', languages: 'English+fr' });
    assert.equal(res.statusCode, 202, res.body);
    const job = await t.services.jobs.store.get(res.json<{ id: string }>().id);
    const options = (job!.params as { options: { pages: unknown; languages: unknown } }).options;
    assert.deepEqual(options.pages, [{ first: 2, last: 3 }, { first: 5 }]);
    assert.deepEqual(options.languages, ['eng', 'fra']);
    const bad = await submit({ pages: '2-x' });
    assert.equal(bad.statusCode, 422);
    assert.match(bad.body, /not a page selection/);
  });
});

describe('configured languages are checked at start-up', () => {
  test('a language with no installed data stops the server with the key named; so does a malformed one', {
    timeout: 60_000,
  }, async () => {
    await assert.rejects(
      startServer({ VISIONGATE_OCR__DEFAULT_LANGUAGES: 'xx_bogus' }),
      (error: Error) =>
        /exited with 2/.test(error.message) &&
        /ocr\.defaultLanguages: .*xx_bogus/.test(error.message) &&
        /installed languages: .*eng/.test(error.message),
    );
    await assert.rejects(
      startServer({ VISIONGATE_OCR__DEFAULT_LANGUAGES: 'eng+1!' }),
      (error: Error) =>
        /exited with 2/.test(error.message) && /ocr\.defaultLanguages: .*not a language code/.test(error.message),
    );
  });
});
