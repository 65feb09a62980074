import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const idPattern = /^img_[A-Za-z0-9_-]{22}$/;
const day = 86_400_000;

/**
 * Generated PNGs on local disk, one file per image named by its id. Files are written under a
 * temporary name and renamed, so a reader never sees half an image and a crash leaves no
 * `.png` behind. Images older than the retention are deleted by a sweep (at start, then hourly).
 */
export class ImageStore {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: string,
    private readonly retentionDays: number,
    private readonly now: () => number = Date.now,
  ) {}

  static isId(id: string): boolean {
    return idPattern.test(id);
  }

  pathOf(id: string): string {
    return join(this.dir, `${id}.png`);
  }

  async save(png: Buffer): Promise<{ id: string; path: string }> {
    await mkdir(this.dir, { recursive: true });
    const id = `img_${randomBytes(16).toString('base64url')}`;
    const path = this.pathOf(id);
    const temporary = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(temporary, png);
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return { id, path };
  }

  /** The PNG of an id, or undefined when there is none (never saved, swept, or not an id). */
  async read(id: string): Promise<Buffer | undefined> {
    if (!ImageStore.isId(id)) return undefined;
    return readFile(this.pathOf(id)).catch(() => undefined);
  }

  /** Deletes images past the retention and temporary files a crash left; returns how many went. */
  async sweep(): Promise<number> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const leftover = name.endsWith('.tmp');
      if (!leftover && (!this.retentionDays || !name.endsWith('.png'))) continue;
      const path = join(this.dir, name);
      const info = await stat(path).catch(() => undefined);
      const limit = leftover ? 3_600_000 : this.retentionDays * day;
      if (info && this.now() - info.mtimeMs > limit) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  startSweeping(onError: (error: unknown) => void): void {
    const run = (): void => void this.sweep().catch(onError);
    run();
    this.timer = setInterval(run, 3_600_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
