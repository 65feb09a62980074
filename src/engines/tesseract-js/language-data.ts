import { existsSync, mkdirSync, readdirSync, renameSync, symlinkSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Where Debian's `tesseract-ocr-<lang>` packages put their models. */
const systemTessdata = [
  '/usr/share/tesseract-ocr/5/tessdata',
  '/usr/share/tesseract-ocr/4.00/tessdata',
  '/usr/share/tessdata',
];

export interface LanguageSource {
  code: string;
  file: string;
  origin: 'npm' | 'extra' | 'system';
}

/** Languages from `@tesseract.js-data/<code>` packages (LSTM "best_int" models, gzipped). */
function npmLanguages(): LanguageSource[] {
  let scope: string;
  try {
    scope = dirname(dirname(createRequire(import.meta.url).resolve('@tesseract.js-data/eng/package.json')));
  } catch {
    return [];
  }
  return readdirSync(scope).flatMap((code) => {
    const file = join(scope, code, '4.0.0_best_int', `${code}.traineddata.gz`);
    return existsSync(file) && code !== 'osd' ? [{ code, file, origin: 'npm' as const }] : [];
  });
}

function folderLanguages(folder: string | undefined, origin: 'extra' | 'system'): LanguageSource[] {
  if (!folder || !existsSync(folder)) return [];
  return readdirSync(folder).flatMap((name) => {
    const match = /^([a-z_]+)\.traineddata(\.gz)?$/.exec(name);
    return match && match[1] !== 'osd' ? [{ code: match[1]!, file: join(folder, name), origin }] : [];
  });
}

/**
 * All languages tesseract.js can load, first source winning: npm packages, then the
 * configured extra folder, then Debian's tessdata (how Russian is added without a download).
 */
export function discoverLanguages(extraDir?: string): LanguageSource[] {
  const byCode = new Map<string, LanguageSource>();
  const sources = [
    ...npmLanguages(),
    ...folderLanguages(extraDir, 'extra'),
    ...systemTessdata.flatMap((d) => folderLanguages(d, 'system')),
  ];
  for (const source of sources) if (!byCode.has(source.code)) byCode.set(source.code, source);
  return [...byCode.values()].sort((a, b) => a.code.localeCompare(b.code));
}

/**
 * tesseract.js reads every language from one folder as `<code>.traineddata` (it gunzips
 * by magic number), so build a folder of links. Built once per process, atomically.
 */
export function buildLanguageFolder(sources: LanguageSource[]): string {
  const folder = join(tmpdir(), `visiongate-tessdata-${process.pid}-${Date.now().toString(36)}`);
  const staging = `${folder}.partial`;
  mkdirSync(staging, { recursive: true });
  for (const source of sources) symlinkSync(source.file, join(staging, `${source.code}.traineddata`));
  renameSync(staging, folder);
  process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/**
 * Text line height (ink extent, pixels) Tesseract's LSTM models read as well as any larger
 * size: they scale each line to 36 px (Latin) or 48 px (Chinese) anyway. Measured on the
 * development set: 300 dpi Latin pages (~32 px) shrunk to ~70 % read as well, 25–30 % faster
 * (below, bold condensed text starts to break); Chinese loses accuracy when shrunk, so it is
 * left alone at usual sizes. Both Tesseract engines (WebAssembly and native) use it.
 */
export const tesseractLineHeight = { latin: 23, cjk: 56 } as const;
