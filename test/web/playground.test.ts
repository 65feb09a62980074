/**
 * The playground in real headless Chromium (Debian's chromium, driven by playwright-core):
 * real uploads, real OCR, boxes checked against the JSON the server returned.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { has, needs } from '../helpers/system-parts.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { startServer, type ServerProcess } from '../helpers/server-process.js';
import { makePdf, renderPage } from '../fixtures/pages.js';

const artifacts = 'test-artifacts';
const flags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const lines = ['Playground test page with known words.', 'Every word gets a box over the picture.'];

let server: ServerProcess;
let browser: Browser;
let upstream: FakeUpstream;
before(async () => {
  if (!has('chromium')) return;
  mkdirSync(artifacts, { recursive: true });
  upstream = await startFakeUpstream();
  const config = join(mkdtempSync(join(tmpdir(), 'vg-ui-')), 'visiongate.yaml');
  writeFileSync(config, `models:\n  echo-chat:\n    chat: { backend: openai, urls: ["${upstream.url}"] }\n`);
  server = await startServer({
    VISIONGATE_LIMITS__MAX_DOCUMENT_BYTES: String(10 * 1024 * 1024),
    VISIONGATE_CONFIG: config,
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: flags });
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await upstream?.close();
});

async function openPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(`${server.url}/`);
  await page.waitForSelector('#engine option[value="tesseract-js"]', { state: 'attached' });
  return page;
}

interface Json {
  pages: Array<{ page: number; width: number; height: number; words: Array<{ text: string; bbox: number[] }> }>;
}

describe('web playground', needs('chromium'), () => {
  test('an image: text shown, one box per word, boxes where the words are', async () => {
    const page = await openPage();
    await page.setInputFiles('#file', {
      name: 'known.png',
      mimeType: 'image/png',
      buffer: await renderPage({ lines }),
    });
    await page.waitForSelector('#result:not([hidden])', { timeout: 60_000 });
    const text = await page.textContent('#out');
    assert.match(text ?? '', /Playground test page with known words\./);
    assert.match(text ?? '', /Every word gets a box over the picture\./);

    await page.click('#tab-json');
    const json = JSON.parse((await page.textContent('#out')) ?? '{}') as Json;
    const words = json.pages[0]!.words;
    assert.equal(await page.locator('.box').count(), words.length);
    assert.ok(words.length >= 14);

    // The first word's box sits where its bbox says, scaled to the picture on screen.
    await page.waitForFunction(
      "document.querySelector('.sheet img')?.complete && document.querySelector('.sheet img').naturalWidth > 0",
    );
    const img = (await page.locator('.sheet img').boundingBox())!;
    const first = (await page.locator('.box').first().boundingBox())!;
    const { width, height } = json.pages[0]!;
    const [x0, y0, x1] = words[0]!.bbox as [number, number, number];
    assert.ok(Math.abs(first.x - (img.x + (x0 / width) * img.width)) <= 2, `left ${first.x}`);
    assert.ok(Math.abs(first.y - (img.y + (y0 / height) * img.height)) <= 2, `top ${first.y}`);
    assert.ok(Math.abs(first.width - ((x1 - x0) / width) * img.width) <= 2, `width ${first.width}`);
    assert.equal(
      await page.locator('.box').first().getAttribute('title'),
      `${words[0]!.text} (confidence ${Math.round(((words[0] as { confidence?: number }).confidence ?? 0) * 100)}%)`,
    );

    await page.click('#tab-markdown');
    assert.match((await page.textContent('#out')) ?? '', /Playground test page/);

    // Summarize the same document.
    await page.fill('#summary-length', '8');
    await page.click('#summarize');
    await page.waitForSelector('#summary:not([hidden])', { timeout: 30_000 });
    const summary = (await page.textContent('#summary')) ?? '';
    assert.ok(
      /Playground test page with known words\.|Every word gets a box over the picture\./.test(summary),
      summary,
    );
    assert.match((await page.textContent('#summary-state')) ?? '', /1 of 2 sentences kept/);
    await page.screenshot({ path: `${artifacts}/playground-image.png`, fullPage: true });
    await page.close();
  });

  test('a two-page PDF shows both pages, each saying which path it took', async () => {
    const page = await openPage();
    const pdf = await makePdf([
      { text: ['First page is digital text.'] },
      { image: await renderPage({ lines: ['Second page is a scan.'], width: 1800, height: 500 }) },
    ]);
    await page.setInputFiles('#file', { name: 'two.pdf', mimeType: 'application/pdf', buffer: pdf });
    await page.waitForSelector('#result:not([hidden])', { timeout: 60_000 });
    assert.equal(await page.locator('figure.page').count(), 2);
    assert.equal(await page.locator('figure.page img').count(), 2);
    const captions = await page.locator('figure.page figcaption').allTextContents();
    assert.match(captions[0]!, /Page 1: text layer/);
    assert.match(captions[1]!, /Page 2: OCR with/);
    assert.match((await page.textContent('#out')) ?? '', /First page is digital text\.[\s\S]*Second page is a scan\./);
    await page.screenshot({ path: `${artifacts}/playground-pdf.png`, fullPage: true });
    await page.close();
  });

  test('a 20 MB file over the 10 MB limit shows a readable error', async () => {
    const page = await openPage();
    await page.setInputFiles('#file', {
      name: 'huge.png',
      mimeType: 'image/png',
      buffer: Buffer.alloc(20 * 1024 * 1024, 1),
    });
    await page.waitForSelector('#error:not([hidden])', { timeout: 30_000 });
    const message = (await page.textContent('#error')) ?? '';
    assert.match(message, /Could not read huge\.png \(HTTP 413\): .*10 MB/);
    assert.equal(await page.isHidden('#result'), true);
    await page.screenshot({ path: `${artifacts}/playground-error.png` });
    await page.close();
  });

  test('labelled controls, keyboard reachable, and no sideways scroll on a phone', async () => {
    const page = await openPage({ width: 375, height: 812 });
    for (const label of ['Engine', 'Languages', 'Pages']) assert.equal(await page.getByLabel(label).count(), 1, label);
    await page.keyboard.press('Tab');
    const focusable: string[] = [];
    for (let i = 0; i < 8; i++) {
      focusable.push(
        await page.evaluate<string>("document.activeElement?.id || document.activeElement?.tagName || ''"),
      );
      await page.keyboard.press('Tab');
    }
    assert.ok(
      focusable.includes('file') && focusable.includes('engine') && focusable.includes('run'),
      focusable.join(','),
    );
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    assert.ok(overflow <= 1, `horizontal overflow ${overflow}px`);
    assert.match((await page.textContent('#chat-state')) ?? '', /Ask about the chosen image/);
    await page.screenshot({ path: `${artifacts}/playground-phone.png`, fullPage: true });
    await page.close();
  });

  test('chat about the chosen image: the answer streams in from the chosen model', async () => {
    upstream.chunkDelayMs = 30;
    const page = await openPage();
    await page.setInputFiles('#file', {
      name: 'memo.png',
      mimeType: 'image/png',
      buffer: await renderPage({ lines: ['Memo: the audit starts on Monday.'] }),
    });
    await page.waitForSelector('#result:not([hidden])', { timeout: 60_000 });
    assert.equal(await page.inputValue('#chat-model'), 'echo-chat');
    await page.fill('#chat-prompt', 'When does the audit start?');
    await page.click('#chat-send');
    await page.locator('#chat-answer', { hasText: 'When does the audit start?' }).waitFor({ timeout: 30_000 });
    const sent = JSON.stringify(upstream.received.at(-1)?.messages);
    assert.match(sent, /the audit starts on Monday/, 'the image reached the text-only model as its OCR text');
    assert.equal(upstream.received.at(-1)?.stream, true);
    await page.screenshot({ path: `${artifacts}/playground-chat.png`, fullPage: true });
    upstream.chunkDelayMs = 0;
    await page.close();
  });

  test("the seeds' JSON clients still get JSON from GET /", async () => {
    for (const accept of ['*/*', 'application/json', '']) {
      const res = await fetch(`${server.url}/`, { headers: accept ? { accept } : {} });
      assert.match(String(res.headers.get('content-type')), /application\/json/, accept);
      assert.equal(((await res.json()) as { docs: string }).docs, '/docs');
    }
    const ui = await fetch(`${server.url}/ui`);
    assert.match(String(ui.headers.get('content-security-policy')), /default-src 'self'/);
  });
});
