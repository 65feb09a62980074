import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toPgm, toTesseractImage, type GreyImage } from '../../documents/raster.js';
import { abortError, appError } from '../../errors/app-error.js';

/**
 * One long-lived `tesseract` process that reads pages as their file names arrive on its stdin
 * (`-c stream_filelist=true`), so its models load once rather than once per page (about half a
 * second a page for the best_int models, more than a small page takes to read). Its standard
 * output is unbuffered (`stdbuf -o0`) so each page's TSV comes out as soon as it is read; a
 * blank 1×1 page fed after each page marks where that page's rows end (its own page row
 * follows them). One page at a time: the pool around it gives the parallelism.
 */
export class TesseractProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private output = '';
  private errors = '';
  /** Pages fed so far (real and blank), as Tesseract numbers them in its TSV. */
  private fed = 0;
  private pending:
    | { page: number; resolve(tsv: string): void; reject(error: Error): void; signal?: AbortSignal; onAbort(): void }
    | undefined;
  private exited = false;
  busy = false;
  /** When it last finished a page (performance.now()): the pool lets the least recently used go. */
  lastUsed = 0;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    binary: string,
    args: string[],
  ) {
    this.child = spawn('stdbuf', ['-o0', binary, '-', 'stdout', ...args, '-c', 'stream_filelist=true', 'tsv'], {
      env: { ...process.env, OMP_THREAD_LIMIT: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.output += chunk;
      this.settle();
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.errors = (this.errors + chunk.toString()).slice(-2000);
    });
    this.child.stdin.on('error', () => undefined); // EPIPE when the process dies; 'close' reports it
    this.child.on('error', (error) =>
      this.fail(appError('engine_unavailable', `tesseract-cli failed to start: ${error.message}`)),
    );
    this.child.on('close', (code, signal) =>
      this.fail(
        appError('internal', `tesseract exited (${signal ?? `code ${code}`}): ${this.errors.trim().slice(-300)}`),
      ),
    );
  }

  get alive(): boolean {
    return !this.exited;
  }

  /**
   * Reads the page image in `file`, then the blank page `blank`; resolves with the first one's
   * TSV rows (its page row first).
   */
  read(file: string, blank: string, signal?: AbortSignal): Promise<string> {
    if (this.exited) return Promise.reject(appError('internal', 'tesseract process has exited'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const page = this.fed + 1;
    this.fed += 2;
    return new Promise<string>((resolve, reject) => {
      // A page cut short leaves the process in the middle of it: it goes, the pool starts another.
      const onAbort = (): void => {
        this.pending = undefined;
        this.kill();
        reject(abortError(signal!));
      };
      this.pending = { page, resolve, reject, ...(signal ? { signal } : {}), onAbort };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.child.stdin.write(`${file}\n${blank}\n`);
    });
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
    this.exited = true;
    clearTimeout(this.idleTimer);
  }

  /** Resolves the page in flight once the blank page after it has begun. */
  private settle(): void {
    const pending = this.pending;
    if (!pending) return;
    const end = this.output.indexOf(`\n1\t${pending.page + 1}\t`);
    if (end < 0) return;
    const head = `1\t${pending.page}\t`;
    const start = this.output.startsWith(head) ? 0 : this.output.indexOf(`\n${head}`) + 1;
    const rows = this.output.slice(start, end + 1);
    // The blank page's own rows are the rest; nothing else comes until the next page is fed.
    this.output = '';
    this.pending = undefined;
    pending.signal?.removeEventListener('abort', pending.onAbort);
    pending.resolve(rows);
  }

  private fail(error: Error): void {
    this.exited = true;
    clearTimeout(this.idleTimer);
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    pending.signal?.removeEventListener('abort', pending.onAbort);
    pending.reject(error);
  }
}

/**
 * Long-lived `tesseract` processes, `size` pages in flight at most (the caller's bound) and
 * twice as many processes, each started for one set of arguments (languages, segmentation
 * mode, model folder) and kept for the next page that wants the same; an idle process goes
 * after `keepAliveMs`, or when a page needs other arguments and the pool is full. Page images reach them as PGM files in a scratch folder.
 */
export class TesseractProcessPool {
  private readonly processes = new Set<TesseractProcess>();
  private scratch: string | undefined;
  private pages = 0;
  private inFlight = 0;

  constructor(
    private readonly binary: string,
    private readonly size: number,
    private readonly keepAliveMs = 60_000,
  ) {}

  /** Reads one page (the caller keeps at most `size` pages in flight); resolves with its TSV rows. */
  async read(image: GreyImage, args: string[], signal?: AbortSignal): Promise<string> {
    // The scratch folder exists while pages are in flight, never left behind between requests.
    this.inFlight++;
    const scratch = (this.scratch ??= mkdtempSync(join(tmpdir(), 'visiongate-tesseract-')));
    let worker: TesseractProcess | undefined;
    let file: string | undefined;
    try {
      const blank = join(scratch, 'blank.pgm');
      if (!existsSync(blank)) writeFileSync(blank, toPgm({ width: 1, height: 1, data: new Uint8Array([255]) }));
      // The page's resolution travels in its file (TIFF), so one process serves pages of any dpi.
      const { bytes, extension } = toTesseractImage(image);
      file = join(scratch, `${++this.pages}.${extension}`);
      await writeFile(file, bytes);
      worker = this.acquire(args);
      return await worker.read(file, blank, signal);
    } finally {
      if (worker) {
        worker.busy = false;
        worker.lastUsed = performance.now();
        if (worker.alive) worker.idleTimer = setTimeout(() => this.drop(worker!), this.keepAliveMs).unref();
        else this.processes.delete(worker);
      }
      if (--this.inFlight === 0) {
        this.scratch = undefined;
        await rm(scratch, { recursive: true, force: true });
      } else if (file) await rm(file, { force: true });
    }
  }

  /** Kills every process and removes the scratch folder. */
  async close(): Promise<void> {
    for (const worker of this.processes) worker.kill();
    this.processes.clear();
    if (this.scratch) await rm(this.scratch, { recursive: true, force: true });
    this.scratch = undefined;
  }

  private acquire(args: string[]): TesseractProcess {
    const key = args.join('\u0000');
    for (const worker of this.processes) if (!worker.alive) this.processes.delete(worker);
    const idle = [...this.processes].filter((w) => !w.busy);
    const same = idle.find((w) => w.key === key);
    if (same) {
      clearTimeout(same.idleTimer);
      same.busy = true;
      return same;
    }
    // Room for an idle process per page in flight beside the busy ones (pages alternate between
    // two segmentation modes, requests between languages); past that the least recently used
    // idle one goes (its models are the least likely to be wanted next).
    const stale = idle.reduce<TesseractProcess | undefined>(
      (a, w) => (a && a.lastUsed <= w.lastUsed ? a : w),
      undefined,
    );
    if (this.processes.size >= this.size * 2 && stale) this.drop(stale);
    const started = new TesseractProcess(key, this.binary, args);
    started.busy = true;
    this.processes.add(started);
    return started;
  }

  private drop(worker: TesseractProcess): void {
    worker.kill();
    this.processes.delete(worker);
  }
}
