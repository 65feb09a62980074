/**
 * Parts of the machine some tests need that npm cannot bring (a native binary, a server, a browser).
 * `needs(...)` gives a test or suite the options that skip it where a part is missing, with the
 * install command in the skip reason. scripts/run-tests.js lists those skips at the end of the run,
 * and fails the run in strict mode (VISIONGATE_TEST_STRICT=1, set by .ci/run).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export type SystemPart =
  | 'tesseract'
  | 'tesseract-rus'
  | 'redis'
  | 'chromium'
  | 'poppler'
  | 'curl'
  | 'fonts'
  | 'cjk-fonts'
  | 'imagemagick';

/** The Debian packages that bring each part. */
const packages: Record<SystemPart, string> = {
  tesseract: 'tesseract-ocr tesseract-ocr-eng',
  'tesseract-rus': 'tesseract-ocr tesseract-ocr-rus',
  redis: 'redis-server',
  chromium: 'chromium',
  poppler: 'poppler-utils',
  curl: 'curl',
  fonts: 'fonts-dejavu-core fonts-liberation2',
  'cjk-fonts': 'fonts-noto-cjk',
  imagemagick: 'imagemagick',
};

function runs(command: string, args: string[], expect?: RegExp): boolean {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  if (result.error || result.status !== 0) return false;
  return expect ? expect.test(`${result.stdout}${result.stderr}`) : true;
}

const probes: Record<SystemPart, () => boolean> = {
  tesseract: () => runs('tesseract', ['--list-langs'], /^eng$/m),
  'tesseract-rus': () => runs('tesseract', ['--list-langs'], /^rus$/m),
  redis: () => runs('redis-server', ['--version']),
  chromium: () => runs('/usr/bin/chromium', ['--headless', '--no-sandbox', '--version'], /Chromium/),
  poppler: () => runs('pdftotext', ['-v']) && runs('pdftoppm', ['-v']),
  curl: () => runs('curl', ['--version']),
  fonts: () => existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'),
  'cjk-fonts': () => existsSync('/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc'),
  imagemagick: () => runs('/usr/bin/convert', ['-version'], /ImageMagick/),
};

const known = new Map<SystemPart, boolean>();

/** Whether a part is on this machine (probed once per process). */
export function has(part: SystemPart): boolean {
  let present = known.get(part);
  if (present === undefined) known.set(part, (present = probes[part]()));
  return present;
}

/** The first words of every skip reason for a missing part; scripts/run-tests.js looks for them. */
export const missingPrefix = 'missing system part';

/**
 * Test options for a test that needs these parts: `{}` where all are present, else a skip whose reason
 * names what is missing and the command that installs it.
 */
export function needs(...parts: SystemPart[]): { skip?: string } {
  const missing = parts.filter((part) => !has(part));
  if (missing.length === 0) return {};
  const install = [...new Set(missing.flatMap((part) => packages[part].split(' ')))].join(' ');
  return { skip: `${missingPrefix}: ${missing.join(', ')} (apt install ${install})` };
}
