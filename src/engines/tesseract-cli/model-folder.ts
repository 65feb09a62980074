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

const systemModel = (folder: string, code: string): string => join(folder, `${code}.traineddata`);

export interface ModelFolder {
  folder: string;
  /** Languages whose model came from an npm package (LSTM "best_int"), the rest from the system. */
  npm: string[];
}

/**
 * Languages whose system model the native binary reads instead of the npm one. Debian ships
 * Tesseract's "fast" models, the npm packages "best_int" ones. Measured on the development set
 * (35 pages, pages shrunk to the engine's line height, per kind mean CER, best_int → fast):
 * English clean 0.37 → 0.39 %, tables/columns/form 1.22 → 1.15 %, scans 3.0 → 3.5 %, Russian
 * with English 2.4 → 2.0 %; Chinese the same (8.4 %: the two chi_sim models are nearly the
 * same size); at about a fifth less CPU on English pages. Every kind still reads better than
 * before this change (README, "OCR quality"). French loses with the fast model (0.5 → 1.2 %),
 * so best_int stays for it and for the languages not measured.
 */
const systemPreferred = new Set(['eng', 'chi_sim']);

/**
 * The native binary's models: npm best_int ones (uncompressed) and the system's, in one folder
 * that also holds `osd` and `configs/`, built once per model set (in the temp directory,
 * reused across restarts) and handed over as `--tessdata-dir`.
 */
export async function buildModelFolder(): Promise<ModelFolder | undefined> {
  const system = systemFolders.find((f) => existsSync(join(f, 'configs')));
  const npm = discoverLanguages().filter(
    (s) => s.origin === 'npm' && !(system && systemPreferred.has(s.code) && existsSync(systemModel(system, s.code))),
  );
  if (!system || npm.length === 0) return undefined;
  const stamp = npm.map((s) => `${s.code}-${statSync(s.file).size}`).join('_');
  const folder = join(tmpdir(), `visiongate-tessdata-mixed-${Buffer.from(stamp).toString('base64url').slice(0, 40)}`);
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
