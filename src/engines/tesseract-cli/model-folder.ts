import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { discoverLanguages } from '../tesseract-js/language-data.js';

/** Where Debian's `tesseract-ocr-<lang>` packages put their models (and the `configs/tsv` file). */
const systemFolders = [
  '/usr/share/tesseract-ocr/5/tessdata',
  '/usr/share/tesseract-ocr/4.00/tessdata',
  '/usr/share/tessdata',
];

export interface ModelFolder {
  folder: string;
  /** Languages whose model came from an npm package (LSTM "best_int"), the rest from the system. */
  npm: string[];
}

/**
 * Debian's packages ship Tesseract's "fast" models; the `@tesseract.js-data` npm packages ship
 * "best_int" ones, which read markedly better (English, and Chinese with English words, see
 * the bench). The native binary loads them as well, uncompressed, from one folder that also
 * holds the system's other languages, `osd` and `configs/`: that folder is built once per
 * model set (gunzipped into the temp directory, reused across restarts) and handed over as
 * `--tessdata-dir`.
 */
export async function buildModelFolder(): Promise<ModelFolder | undefined> {
  const system = systemFolders.find((f) => existsSync(join(f, 'configs')));
  const npm = discoverLanguages().filter((s) => s.origin === 'npm');
  if (!system || npm.length === 0) return undefined;
  const stamp = npm.map((s) => `${s.code}-${statSync(s.file).size}`).join('_');
  const folder = join(tmpdir(), `visiongate-tessdata-best-${Buffer.from(stamp).toString('base64url').slice(0, 40)}`);
  if (!existsSync(folder)) {
    const staging = `${folder}.${process.pid}.partial`;
    mkdirSync(staging, { recursive: true });
    for (const source of npm)
      await pipeline(
        createReadStream(source.file),
        createGunzip(),
        createWriteStream(join(staging, `${source.code}.traineddata`)),
      );
    for (const name of readdirSync(system)) {
      const code = /^([a-z_]+)\.traineddata$/.exec(name)?.[1];
      if (code && npm.some((s) => s.code === code)) continue;
      if (code || name === 'configs' || name === 'tessconfigs') symlinkSync(join(system, name), join(staging, name));
    }
    // Another process may have finished first: then its folder is as good as ours.
    try {
      renameSync(staging, folder);
    } catch {
      if (!existsSync(folder)) throw new Error(`cannot create ${folder}`);
    }
  }
  return { folder, npm: npm.map((s) => s.code) };
}
