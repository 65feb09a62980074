/**
 * OCR quality on the development set (bench/devset/make-devset.ts): CER, WER and word F1 per
 * kind of page for every engine through the server, and for the native `tesseract` CLI run
 * directly on the same files; then the speed of the default against the CLI on the same pages
 * with the same parallelism. Per-page results go to <devset>/results.json.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServer } from '../test/helpers/server-process.js';
import { loadDevset, pageKinds, score, type DevPage, type Scores } from './devset/manifest.js';
import { fmt } from './stats.js';

const run = promisify(execFile);
type Page = DevPage & { image: string; truth: string };

export interface QualityOptions {
  devset: string;
  quick: boolean;
  /** Engines through the server; 'default' sends no engine field. */
  engines?: string[];
  /** How many times each timed pass of the speed comparison runs (best kept). */
  speedRounds?: number;
}

interface Outcome {
  text?: string;
  /** Why there is no text (unsupported language, error). */
  skipped?: string;
  seconds: number;
}

async function pool<T>(items: T[], width: number, fn: (item: T, index: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

async function serverOcr(url: string, page: Page, engine: string, bytes: Buffer): Promise<Outcome> {
  const query = new URLSearchParams({ output: 'text', languages: page.languages });
  if (engine !== 'default') query.set('engine', engine);
  const t0 = performance.now();
  const res = await fetch(`${url}/api/v1/ocr?${query}`, {
    method: 'POST',
    body: bytes,
    headers: { 'content-type': 'image/png' },
    signal: AbortSignal.timeout(300_000),
  });
  const body = await res.text();
  const seconds = (performance.now() - t0) / 1000;
  if (res.status >= 400 && res.status < 500) return { skipped: `${res.status}: ${body.slice(0, 120)}`, seconds };
  if (!res.ok) throw new Error(`${engine} on ${page.id}: HTTP ${res.status} ${body.slice(0, 300)}`);
  return { text: body, seconds };
}

/** What a person would run: `tesseract page.png stdout -l <lang>`, one thread per process. */
async function nativeOcr(page: Page): Promise<Outcome> {
  const t0 = performance.now();
  const { stdout } = await run('tesseract', [page.image, 'stdout', '-l', page.languages.replace(/,/g, '+')], {
    env: { ...process.env, OMP_THREAD_LIMIT: '1' },
    maxBuffer: 16 << 20,
    timeout: 300_000,
  });
  return { text: stdout, seconds: (performance.now() - t0) / 1000 };
}

const pct = (n: number): string => fmt(n * 100, 1);

/** Ids of a process's live children (Linux /proc). */
function children(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return []; // gone meanwhile
  }
}

/**
 * CPU seconds a process and its waited-for children used (Linux /proc; clock ticks of 1/100 s):
 * on a shared machine the CPU a pass costs is steadier than its wall time.
 */
function cpuSeconds(pid: number | 'self'): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  // After "(comm) ": state is field 3, so utime..cstime (fields 14–17) sit at indexes 11–14.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / 100;
}

/**
 * CPU seconds of a process, its waited-for children and its live descendants: the server's
 * native `tesseract` processes live across pages, so their time is in no parent's count until
 * they exit.
 */
function treeCpuSeconds(pid: number): number {
  let total = 0;
  try {
    total = cpuSeconds(pid);
  } catch {
    return 0;
  }
  return total + children(pid).reduce((sum, child) => sum + treeCpuSeconds(child), 0);
}

function table(
  title: string,
  rows: string[],
  columns: string[],
  cell: (row: string, column: string) => string,
): string[] {
  const widths = [Math.max(9, ...rows.map((r) => r.length)), ...columns.map((c) => Math.max(c.length, 7))];
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    title,
    line(['kind', ...columns]),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map((r) => line([r, ...columns.map((c) => cell(r, c))])),
  ];
}

export async function qualityBench(options: QualityOptions): Promise<string[]> {
  const devset = loadDevset(options.devset);
  if (!devset)
    return [
      `quality: no development set in ${options.devset}; build it with \`npm run devset\` (see README, "Benchmarks")`,
    ];
  const pages = devset.pages.filter((p) => !options.quick || p.quick);
  const parallel = availableParallelism();
  const engines = options.engines ?? ['default', 'tesseract-js', 'tesseract-cli', 'paddle'];
  const columns = [...engines, 'native CLI'];
  const bytes = new Map(pages.map((p) => [p.id, readFileSync(p.image)]));
  const results = new Map<string, Map<string, Outcome & { scores?: Scores }>>(columns.map((c) => [c, new Map()]));
  const server = await startServer();
  const report: string[] = [];
  try {
    for (const engine of engines) {
      await pool(pages, parallel, async (page) => {
        const outcome = await serverOcr(server.url, page, engine, bytes.get(page.id)!).catch((error: unknown) => {
          throw new Error(
            `${engine} on ${page.id} failed: ${String(error)}\nserver output (end):\n${server.output.slice(-3000)}`,
          );
        });
        results.get(engine)!.set(page.id, {
          ...outcome,
          ...(outcome.text !== undefined ? { scores: score(page.truth, outcome.text) } : {}),
        });
      });
    }
    await pool(pages, parallel, async (page) => {
      const outcome = await nativeOcr(page);
      results.get('native CLI')!.set(page.id, { ...outcome, scores: score(page.truth, outcome.text!) });
    });

    const kinds = [...pageKinds.filter((k) => pages.some((p) => p.kind === k)), 'all'];
    const of = (kind: string): Page[] => pages.filter((p) => kind === 'all' || p.kind === kind);
    const mean = (kind: string, column: string, metric: keyof Scores): number | undefined => {
      const scored = of(kind)
        .map((p) => results.get(column)!.get(p.id)?.scores?.[metric])
        .filter((v): v is number => v !== undefined);
      return scored.length ? scored.reduce((a, b) => a + b, 0) / scored.length : undefined;
    };
    const cell =
      (metric: keyof Scores) =>
      (kind: string, column: string): string => {
        const value = mean(kind, column, metric);
        const read = of(kind).filter((p) => results.get(column)!.get(p.id)?.scores).length;
        if (value === undefined) return '—';
        return `${pct(value)}${read < of(kind).length ? ` (${read}/${of(kind).length})` : ''}`;
      };
    report.push(
      `OCR quality on the development set: ${pages.length} pages${options.quick ? ' (--quick subset)' : ''}, ${kinds
        .slice(0, -1)
        .map((k) => `${k} ${of(k).length}`)
        .join(
          ', ',
        )}; mean per page, % ("(n/m)": pages the engine could read; — : none); "default" sends no engine field`,
    );
    report.push(...table('CER % (lower is better)', kinds, columns, cell('cer')));
    report.push(...table('WER %', kinds, columns, cell('wer')));
    report.push(...table('word F1 % (order-free)', kinds, columns, cell('f1')));
    const empty = columns.flatMap((c) =>
      pages.filter((p) => results.get(c)!.get(p.id)?.text?.trim() === '').map((p) => `${c} on ${p.id}`),
    );
    report.push(`pages with visible text answered with empty text: ${empty.length ? empty.join(', ') : 'none'}`);

    // Speed: the default against the native CLI, same pages, same parallelism, after the
    // quality pass warmed every worker. Alternated rounds; the best of each is kept.
    const rounds = options.speedRounds ?? 2;
    let serverBest = Infinity;
    let nativeBest = Infinity;
    let serverCpu = Infinity;
    let nativeCpu = Infinity;
    for (let r = 0; r < rounds; r++) {
      const n0 = cpuSeconds('self');
      nativeBest = Math.min(nativeBest, await pool(pages, parallel, async (page) => void (await nativeOcr(page))));
      nativeCpu = Math.min(nativeCpu, cpuSeconds('self') - n0);
      const s0 = treeCpuSeconds(server.child.pid!);
      serverBest = Math.min(
        serverBest,
        await pool(
          pages,
          parallel,
          async (page) => void (await serverOcr(server.url, page, 'default', bytes.get(page.id)!)),
        ),
      );
      serverCpu = Math.min(serverCpu, treeCpuSeconds(server.child.pid!) - s0);
    }
    const defaultCer = mean('all', 'default', 'cer');
    const nativeCer = mean('all', 'native CLI', 'cer');
    report.push(
      `image OCR speed, default vs native CLI on the same ${pages.length} pages (${parallel} at a time, best of ${rounds}): wall ${fmt(pages.length / serverBest)} vs ${fmt(pages.length / nativeBest)} pages/s, ratio ${fmt(nativeBest / serverBest)}×; CPU ${fmt(serverCpu, 1)} s vs ${fmt(nativeCpu, 1)} s, ratio ${fmt(nativeCpu / serverCpu)}×; at CER ${defaultCer === undefined ? '—' : pct(defaultCer)}% vs ${nativeCer === undefined ? '—' : pct(nativeCer)}%`,
    );
  } finally {
    await server.stop();
  }
  const perPage = pages.map((p) => ({
    id: p.id,
    kind: p.kind,
    languages: p.languages,
    dpi: p.dpi,
    ...Object.fromEntries(
      columns.map((c) => {
        const o = results.get(c)!.get(p.id);
        return [
          c,
          o
            ? {
                ...o.scores,
                seconds: Number(o.seconds.toFixed(2)),
                ...(o.skipped ? { skipped: o.skipped } : {}),
                text: o.text,
              }
            : null,
        ];
      }),
    ),
  }));
  writeFileSync(join(options.devset, 'results.json'), `${JSON.stringify(perPage, null, 1)}\n`);
  report.push(`per-page scores and texts: ${join(options.devset, 'results.json')}`);
  return report;
}
