/**
 * PDFs through the server against poppler in the same run: digital PDFs against `pdftotext`
 * (whole calls, pages per second, and word F1 of our text against its text), scanned PDFs
 * against `pdftoppm` + `tesseract` on the same pages with the same parallelism.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fmt } from './stats.js';
import { startServer } from '../test/helpers/server-process.js';
import { characterErrorRate } from '../test/helpers/cer.js';
import { wordF1 } from '../test/helpers/word-f1.js';
import { makePdf, renderPage } from '../test/fixtures/pages.js';

const run = promisify(execFile);
const has = (name: string, flag = '-v'): Promise<boolean> =>
  run(name, [flag]).then(
    () => true,
    () => false,
  );
const fixtures = new URL('../../test/fixtures/pdf/', import.meta.url);

/** Seconds for `rounds` calls of `fn`, alternating with the baseline so both see the same machine load. */
async function timeBoth(
  rounds: number,
  ours: () => Promise<void>,
  baseline: () => Promise<void>,
): Promise<[number, number]> {
  let a = 0;
  let b = 0;
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    await ours();
    a += performance.now() - t0;
    t0 = performance.now();
    await baseline();
    b += performance.now() - t0;
  }
  return [a / 1000, b / 1000];
}

export async function pdfBench(): Promise<string[]> {
  const report: string[] = [];
  if (!(await has('pdftotext'))) return ['PDF: pdftotext not installed, no baseline'];
  const dir = mkdtempSync(join(tmpdir(), 'vg-bench-pdf-'));
  const server = await startServer();
  const post = async (bytes: Buffer): Promise<string> => {
    const res = await fetch(`${server.url}/api/v1/ocr?output=text`, {
      method: 'POST',
      body: bytes,
      headers: { 'content-type': 'application/pdf' },
      signal: AbortSignal.timeout(600_000),
    });
    if (!res.ok) throw new Error(`server answered ${res.status}: ${await res.text()}`);
    return res.text();
  };
  try {
    // Real PDFs (committed fixtures) and the synthetic 20-page one the bench always used.
    const docs: Array<{ name: string; file: string; pages: number }> = [];
    for (const name of readdirSync(fixtures)
      .filter((f) => f.endsWith('.pdf'))
      .sort()) {
      const file = new URL(name, fixtures).pathname;
      const info = (await run('pdfinfo', [file])).stdout;
      docs.push({ name, file, pages: Number(/Pages:\s+(\d+)/.exec(info)?.[1] ?? 0) });
    }
    const paragraphs = [
      'The committee reviewed the annual budget and approved the new maintenance schedule.',
      'Each station reports its water pressure, flow rate and energy use every fifteen minutes.',
    ];
    const synthetic = join(dir, 'synthetic-20.pdf');
    writeFileSync(
      synthetic,
      await makePdf(Array.from({ length: 20 }, (_, i) => ({ text: paragraphs.map((p) => `${i + 1}. ${p}`) }))),
    );
    docs.push({ name: 'synthetic-20.pdf (pdf-lib)', file: synthetic, pages: 20 });

    // Inputs are all made before the first request (rendering pages takes seconds on a busy machine).
    const canScan = (await has('pdftoppm')) && (await has('tesseract'));
    const lines = [
      'Annual maintenance report for pump station 4.',
      'All valves were inspected and two were replaced.',
      'The next inspection is due in September, after the spring floods.',
    ];
    const images = await Promise.all(
      [0, 1, 2].map((i) => renderPage({ lines: lines.map((l) => `${i + 1}. ${l}`), width: 2480, height: 3508 })),
    );
    const scanned = join(dir, 'scanned-3.pdf');
    const scannedBytes = await makePdf(images.map((image) => ({ image })));
    writeFileSync(scanned, scannedBytes);

    // Warm up: worker threads started, pdf.js loaded in each.
    for (const doc of docs.slice(0, 2)) await post(readFileSync(doc.file));
    let ourPages = 0;
    let ourSeconds = 0;
    let popplerSeconds = 0;
    for (const doc of docs) {
      const bytes = readFileSync(doc.file);
      const rounds = doc.pages >= 50 ? 3 : doc.pages >= 10 ? 5 : 10;
      let ours = '';
      let theirs = '';
      const [a, b] = await timeBoth(
        rounds,
        async () => void (ours = await post(bytes)),
        async () => void (theirs = (await run('pdftotext', [doc.file, '-'], { maxBuffer: 64 << 20 })).stdout),
      );
      ourPages += doc.pages * rounds;
      ourSeconds += a;
      popplerSeconds += b;
      const f1 = wordF1(theirs, ours).f1;
      report.push(
        `digital PDF ${doc.name} (${doc.pages} pages): server ${fmt((doc.pages * rounds) / a, 0)} pages/s | pdftotext ${fmt((doc.pages * rounds) / b, 0)} pages/s | ratio ${fmt(b / a)} | word F1 vs pdftotext ${fmt(f1, 4)}`,
      );
    }
    report.push(
      `digital PDF, all files: server ${fmt(ourPages / ourSeconds, 0)} pages/s | pdftotext ${fmt(ourPages / popplerSeconds, 0)} pages/s | ratio ${fmt(popplerSeconds / ourSeconds)}`,
    );

    // Scanned: 3 pages of rendered text, 300 dpi. Baseline: pdftoppm renders all pages, then tesseract reads them in parallel.
    if (canScan) {
      await post(scannedBytes);
      const reference = images.map((_, i) => lines.map((l) => `${i + 1}. ${l}`).join('\n')).join('\n');
      let ours = '';
      let theirs = '';
      const parallel = availableParallelism();
      const [a, b] = await timeBoth(
        3,
        async () => void (ours = await post(scannedBytes)),
        async () => {
          const prefix = join(dir, `scan-${Date.now()}`);
          await run('pdftoppm', ['-r', '300', '-gray', scanned, prefix]);
          const pages = readdirSync(dir)
            .filter((f) => f.startsWith(prefix.split('/').pop()!))
            .sort();
          const texts: string[] = [];
          let next = 0;
          await Promise.all(
            Array.from({ length: parallel }, async () => {
              while (next < pages.length) {
                const i = next++;
                texts[i] = (
                  await run('tesseract', [join(dir, pages[i]!), 'stdout', '-l', 'eng'], {
                    env: { ...process.env, OMP_THREAD_LIMIT: '1' },
                  })
                ).stdout;
              }
            }),
          );
          theirs = texts.join('\n');
        },
      );
      report.push(
        `scanned PDF (3 pages, 300 dpi): server ${fmt(9 / a)} pages/s, CER ${fmt(characterErrorRate(reference, ours) * 100, 1)}% | pdftoppm + tesseract (${parallel} at once) ${fmt(9 / b)} pages/s, CER ${fmt(characterErrorRate(reference, theirs) * 100, 1)}% | ratio ${fmt(b / a)}`,
      );
    }
  } catch (error) {
    throw new Error(`PDF bench failed: ${(error as Error).message}\nserver output:\n${server.output.slice(-2000)}`);
  } finally {
    await server.stop();
  }
  return report;
}
