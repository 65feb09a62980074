/**
 * `npm run bench`: visiongate against native baselines measured in the same run, on the
 * same pages and the same parallelism. Prints ratios; asserts nothing about time.
 */
import { fmt, percentile } from './stats.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { characterErrorRate } from '../test/helpers/cer.js';
import { startServer } from '../test/helpers/server-process.js';
import { articles } from '../test/fixtures/articles.js';
import { proxyBench } from './proxy.js';
import { jobsBench } from './jobs.js';
import { imagesBench } from './images.js';
import { pdfBench } from './pdf.js';
import { renderPage, renderScan } from '../test/fixtures/pages.js';
import { qualityBench } from './quality.js';

/** Flags of the quality section: --quick (small subset of the set), --devset DIR, --engines a,b, --speed-rounds N. */
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const value = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);

const run = promisify(execFile);
const parallel = availableParallelism();
const dir = mkdtempSync(join(tmpdir(), 'vg-bench-'));

const paragraphs = [
  'The committee reviewed the annual budget and approved the new maintenance schedule.',
  'Each station reports its water pressure, flow rate and energy use every fifteen minutes.',
  'Replacement parts are ordered two weeks ahead so that repairs never wait for delivery.',
  'Inspectors note corrosion, leaks and unusual noise, and attach photographs to the report.',
  'The results are published on the first Monday of every month for the whole district.',
];

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
  return (performance.now() - started) / 1000;
}

async function hasBinary(name: string): Promise<boolean> {
  return run(name, ['-v']).then(
    () => true,
    () => false,
  );
}

async function quality(): Promise<void> {
  const engines = value('--engines')?.split(',');
  const rounds = value('--speed-rounds');
  const lines = await qualityBench({
    devset: value('--devset') ?? 'bench/devset/build',
    quick: flag('--quick'),
    ...(engines ? { engines } : {}),
    ...(rounds ? { speedRounds: Number(rounds) } : {}),
  });
  process.stdout.write(`${lines.join('\n')}\n`);
}
/** `npm run bench -- proxy images` runs only the sections named (ocr, proxy, jobs, images, pdf, quality); none: all. */
const sections = ['ocr', 'proxy', 'jobs', 'images', 'pdf', 'quality'];
const only = new Set(process.argv.slice(2).filter((arg) => sections.includes(arg)));
const wanted = (section: string): boolean => only.size === 0 || only.has(section);

async function main(): Promise<void> {
  const report: string[] = [];
  if (wanted('ocr')) report.push(...(await ocrBench()));
  if (wanted('proxy')) report.push(...(await proxyBench()));
  if (wanted('jobs')) report.push(...(await jobsBench()));
  if (wanted('images')) report.push(...(await imagesBench()));
  if (wanted('pdf')) report.push(...(await pdfBench()));
  if (report.length)
    process.stdout.write(`visiongate bench (${parallel} cores)\n${report.map((l) => `- ${l}`).join('\n')}\n`);
  if (wanted('quality')) await quality();
}

/** OCR throughput and CER against native tesseract, /health under load, summarization. */
async function ocrBench(): Promise<string[]> {
  const report: string[] = [];
  const readyStart = performance.now();
  const server = await startServer();
  const readyMs = performance.now() - readyStart;
  await new Promise((r) => setTimeout(r, 500));
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))?.[1];
  report.push(`ready: ${fmt(readyMs, 0)} ms from spawn to listening; idle RSS ${fmt(Number(rss) / 1024, 0)} MB`);

  // Pages: clean and degraded, 300 dpi-ish A4 width.
  const kinds: Record<string, { file: string; bytes: Buffer; reference: string }[]> = { clean: [], degraded: [] };
  for (let i = 0; i < 4; i++) {
    const lines = paragraphs.map((_p, j) => paragraphs[(i + j) % paragraphs.length]!.slice(0, 60 + ((i * 7 + j) % 20)));
    const clean = await renderPage({ lines, width: 2480, height: 1400 });
    const scan = await renderScan({ lines, width: 2480, height: 1400 }, i + 3);
    for (const [kind, bytes] of [
      ['clean', clean],
      ['degraded', scan],
    ] as const) {
      const file = join(dir, `${kind}-${i}.png`);
      writeFileSync(file, bytes);
      kinds[kind]!.push({ file, bytes, reference: lines.join('\n') });
    }
  }

  // Warm the worker pool first (engines load lazily): the comparison is of steady-state throughput.
  await pool(kinds.clean!.slice(0, parallel), parallel, async (p) => {
    await (
      await fetch(`${server.url}/api/v1/ocr?output=text`, {
        method: 'POST',
        body: p.bytes,
        headers: { 'content-type': 'image/png' },
      })
    ).text();
  });
  const native = await hasBinary('tesseract');
  for (const [kind, pages] of Object.entries(kinds)) {
    const serverText: string[] = [];
    const serverSeconds = await pool(
      pages.map((p, i) => ({ p, i })),
      parallel,
      async ({ p, i }) => {
        const res = await fetch(`${server.url}/api/v1/ocr?output=text`, {
          method: 'POST',
          body: p.bytes,
          headers: { 'content-type': 'image/png' },
        });
        serverText[i] = await res.text();
      },
    );
    const serverCer = pages.reduce((s, p, i) => s + characterErrorRate(p.reference, serverText[i]!), 0) / pages.length;
    let line = `OCR ${kind}: server ${fmt(pages.length / serverSeconds)} pages/s, CER ${fmt(serverCer * 100, 1)}%`;
    if (native) {
      const nativeText: string[] = [];
      const nativeSeconds = await pool(
        pages.map((p, i) => ({ p, i })),
        parallel,
        async ({ p, i }) => {
          nativeText[i] = (
            await run('tesseract', [p.file, 'stdout', '-l', 'eng'], { env: { ...process.env, OMP_THREAD_LIMIT: '1' } })
          ).stdout;
        },
      );
      const nativeCer =
        pages.reduce((s, p, i) => s + characterErrorRate(p.reference, nativeText[i]!), 0) / pages.length;
      line += ` | native tesseract ${fmt(pages.length / nativeSeconds)} pages/s, CER ${fmt(nativeCer * 100, 1)}% | speed ratio server/native ${fmt(nativeSeconds / serverSeconds)}`;
    }
    report.push(line);
  }

  // /health latency while OCR saturates the cores.
  const load = kinds.clean!.concat(kinds.clean!).map((p) =>
    fetch(`${server.url}/api/v1/ocr?output=text`, {
      method: 'POST',
      body: p.bytes,
      headers: { 'content-type': 'image/png' },
    }).then((r) => r.text()),
  );
  const latencies: number[] = [];
  let done = false;
  void Promise.all(load).then(() => (done = true));
  while (!done && latencies.length < 200) {
    const t0 = performance.now();
    await fetch(`${server.url}/health`).then((r) => r.text());
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(load);
  report.push(
    `/health under OCR load: p50 ${fmt(percentile(latencies, 50))} ms, p99 ${fmt(percentile(latencies, 99))} ms over ${latencies.length} probes`,
  );

  // Summarization: extractive throughput, and the DeepSynth seed's `ab` load test (100 requests, 10 concurrent).
  let corpus = '';
  while (corpus.length < 1_000_000) corpus += `${articles.map((a) => a.text).join('\n\n')}\n\n`;
  const t0 = performance.now();
  const big = await fetch(`${server.url}/api/v1/summarize`, {
    method: 'POST',
    body: JSON.stringify({ text: corpus, max_length: 128 }),
    headers: { 'content-type': 'application/json' },
  });
  await big.json();
  const seconds = (performance.now() - t0) / 1000;
  report.push(
    `summarize (extractive): ${fmt(corpus.length / 1e6 / seconds)} MB of text/s on a ${fmt(corpus.length / 1e6, 1)} MB text`,
  );
  const body = JSON.stringify({ text: articles[0]!.text, max_length: 128, temperature: 0.7 });
  const times: number[] = [];
  const loadSeconds = await pool(
    Array.from({ length: 100 }, (_, i) => i),
    10,
    async () => {
      const s0 = performance.now();
      const res = await fetch(`${server.url}/summarize/text`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      await res.json();
      times.push(performance.now() - s0);
    },
  );
  report.push(
    `DeepSynth load test (100 requests, 10 concurrent, /summarize/text): ${fmt(100 / loadSeconds, 0)} req/s, p50 ${fmt(percentile(times, 50))} ms, p99 ${fmt(percentile(times, 99))} ms`,
  );
  await server.stop();
  return report;
}

await main();
