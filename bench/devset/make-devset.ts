/**
 * Builds the OCR quality development set from real documents installed on this machine:
 * Debian's manual pages in English, French, Russian and Chinese (apt: manpages, manpages-fr,
 * manpages-ru, manpages-zh, groff), rendered by groff to HTML, printed to A5 PDF by Chromium
 * and rasterised by pdftoppm at 150 and 300 dpi; tables, two-column pages and a form composed
 * from real text (the pages' own NAME lines, `dpkg -s` records); degraded scans made from clean
 * pages with ImageMagick (rotation of 1–2°, blur, noise, lower resolution, JPEG loss).
 *
 * Ground truth is the documents' own text: `pdftotext` of the very PDF page the image was
 * rasterised from (man pages), or the text the page was composed from, in reading order.
 *
 * Usage: npm run build && node dist/bench/devset/make-devset.js [--out DIR]
 * Writes DIR/manifest.json, DIR/<id>.png and DIR/<id>.txt (DIR defaults to bench/devset/build,
 * which git ignores). Idempotent: a page already built is kept.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import type { DevPage, DevsetManifest, PageKind } from './manifest.js';

const run = promisify(execFile);
// groff -Thtml leaves image files in the working directory: run in the scratch folder.
const sh = async (command: string): Promise<string> =>
  (await run('bash', ['-o', 'pipefail', '-c', command], { maxBuffer: 64 << 20, cwd: work })).stdout;

const outArg = process.argv.indexOf('--out');
const out = resolve(outArg > 0 ? process.argv[outArg + 1]! : 'bench/devset/build');
const work = join(out, 'pdf');
mkdirSync(work, { recursive: true });

/** ImageMagick 7 ships `magick`; 6 ships `convert`. */
const magick = await run('magick', ['-version']).then(
  () => 'magick',
  () => 'convert',
);

const manRoot = '/usr/share/man';
const manFile = (locale: string, name: string, section = 1): string =>
  join(manRoot, locale === 'en' ? '' : locale, `man${section}`, `${name}.${section}.gz`);
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const fonts: Record<string, string> = {
  serif: '"DejaVu Serif", "Noto Serif CJK SC", serif',
  cjk: '"Noto Serif CJK SC", "DejaVu Serif", serif',
  sans: '"DejaVu Sans", "Noto Sans CJK SC", sans-serif',
};

function pageCss(font: string, extra = ''): string {
  return `@page { size: A5; margin: 12mm 12mm 14mm 12mm } body { font-family: ${font}; font-size: 10pt; line-height: 1.3 } h1 { font-size: 20pt } h2 { font-size: 13pt; margin: 0.7em 0 0.3em } ${extra}`;
}

/** A manual page as groff renders it to HTML, with our page style. */
async function manHtml(file: string, font: string): Promise<string> {
  const html = await sh(`zcat ${file} | preconv -e utf-8 | groff -Thtml -mandoc -P-r -P-l 2>/dev/null`);
  return html.replace('</style>', `${pageCss(font)}</style>`).replace('charset=US-ASCII', 'charset=UTF-8');
}

/** "name - description" from a page's NAME section (man-db's lexgrog reads every language). */
async function nameLine(file: string): Promise<{ name: string; description: string } | undefined> {
  const text = await sh(`lexgrog ${file} | head -1`).catch(() => '');
  const match = /"(.+?) - (.+)"/.exec(text);
  return match ? { name: match[1]!, description: match[2]! } : undefined;
}

async function printPdf(browser: Browser, html: string, file: string): Promise<number> {
  const page = await browser.newPage();
  try {
    await page.setContent(html, { waitUntil: 'load' });
    await page.pdf({ path: file, preferCSSPageSize: true, printBackground: true });
  } finally {
    await page.close();
  }
  return Number(/Pages:\s+(\d+)/.exec(await sh(`pdfinfo ${file}`))?.[1] ?? 0);
}

async function rasterise(pdf: string, page: number, dpi: number, png: string): Promise<void> {
  const base = png.replace(/\.png$/, '');
  await run('pdftoppm', [
    '-f',
    String(page),
    '-l',
    String(page),
    '-r',
    String(dpi),
    '-gray',
    '-png',
    '-singlefile',
    pdf,
    base,
  ]);
}

/** The page's own text in visual line order (-layout: a one-column page, read top to bottom). */
const pdfText = async (pdf: string, page: number): Promise<string> =>
  (await run('pdftotext', ['-layout', '-f', String(page), '-l', String(page), '-enc', 'UTF-8', pdf, '-'])).stdout
    .replace(/\f/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/\n\s*\n+/g, '\n')
    .trim();

const pages: DevPage[] = [];

function add(page: DevPage, truth: string): void {
  writeFileSync(join(out, `${page.id}.txt`), `${truth.trim()}\n`);
  pages.push(page);
}

interface ManSource {
  locale: string;
  name: string;
  page: number;
  kind: PageKind;
  languages: string;
  dpis: number[];
  quick?: number;
}

/** Man pages: which page of which manual, at which resolutions. */
const manSources: ManSource[] = [
  { locale: 'en', name: 'tar', page: 1, kind: 'clean', languages: 'eng', dpis: [150, 300], quick: 300 },
  { locale: 'en', name: 'grep', page: 2, kind: 'clean', languages: 'eng', dpis: [150, 300] },
  { locale: 'en', name: 'man', page: 1, kind: 'clean', languages: 'eng', dpis: [300] },
  { locale: 'fr', name: 'ls', page: 1, kind: 'french', languages: 'fra', dpis: [150, 300], quick: 150 },
  { locale: 'fr', name: 'find', page: 2, kind: 'french', languages: 'fra', dpis: [150, 300] },
  { locale: 'ru', name: 'ls', page: 1, kind: 'russian', languages: 'rus', dpis: [150, 300], quick: 300 },
  { locale: 'ru', name: 'man', page: 1, kind: 'russian', languages: 'rus', dpis: [150, 300] },
  { locale: 'zh_CN', name: 'ls', page: 1, kind: 'chinese', languages: 'chi_sim', dpis: [150, 300], quick: 300 },
  { locale: 'zh_CN', name: 'tar', page: 1, kind: 'chinese', languages: 'chi_sim', dpis: [150, 300] },
];

/** Degradations (ImageMagick) applied to some clean 300 dpi pages: a scan of a print-out. */
const degradations: Array<{ from: string; args: string[]; jpeg?: number; quick?: boolean }> = [
  {
    from: 'en-tar-p1-300',
    args: ['-rotate', '1.5', '-blur', '0x1.0', '-attenuate', '0.5', '+noise', 'Gaussian'],
    quick: true,
  },
  {
    from: 'fr-ls-p1-300',
    args: ['-rotate', '-2', '-resize', '66%', '-attenuate', '0.4', '+noise', 'Gaussian'],
    jpeg: 40,
  },
  { from: 'ru-ls-p1-300', args: ['-rotate', '1.2', '-blur', '0x0.8', '-attenuate', '0.3', '+noise', 'Impulse'] },
  {
    from: 'zh_CN-ls-p1-300',
    args: ['-rotate', '-1.5', '-blur', '0x0.6', '-attenuate', '0.4', '+noise', 'Gaussian'],
    quick: true,
  },
  { from: 'zh_CN-tar-p1-300', args: ['-rotate', '1.8', '-resize', '75%', '-attenuate', '0.3', '+noise', 'Gaussian'] },
  { from: 'table-en-300', args: ['-rotate', '1', '-blur', '0x0.9', '-attenuate', '0.4', '+noise', 'Gaussian'] },
  {
    from: 'columns-en-300',
    args: ['-rotate', '-1.2', '-level', '0%,100%,0.6', '-attenuate', '0.4', '+noise', 'Gaussian'],
  },
  { from: 'form-en-300', args: ['-rotate', '2', '-blur', '0x0.7', '-attenuate', '0.5', '+noise', 'Gaussian'] },
];

async function buildManPages(browser: Browser): Promise<void> {
  for (const src of manSources) {
    const file = manFile(src.locale, src.name);
    if (!existsSync(file)) {
      process.stderr.write(
        `skip ${file}: not installed (apt-get install manpages manpages-fr manpages-ru manpages-zh)\n`,
      );
      continue;
    }
    const pdf = join(work, `${src.locale}-${src.name}.pdf`);
    if (!existsSync(pdf))
      await printPdf(browser, await manHtml(file, src.locale === 'zh_CN' ? fonts.cjk! : fonts.serif!), pdf);
    const truth = await pdfText(pdf, src.page);
    for (const dpi of src.dpis) {
      const id = `${src.locale}-${src.name}-p${src.page}-${dpi}`;
      const png = join(out, `${id}.png`);
      if (!existsSync(png)) await rasterise(pdf, src.page, dpi, png);
      add(
        {
          id,
          kind: src.kind,
          languages: src.languages,
          dpi,
          source: `${file} page ${src.page}`,
          quick: src.quick === dpi,
        },
        truth,
      );
    }
  }
}

interface Composed {
  id: string;
  kind: PageKind;
  languages: string;
  html: string;
  truth: string;
  source: string;
  quick?: number;
}

/** A table of commands and what they do, from the manuals' own NAME lines (row order is the truth). */
async function tablePage(
  locale: string,
  names: string[],
  headers: string[],
  languages: string,
  font: string,
  limit: number,
): Promise<Composed> {
  const rows: string[][] = [];
  for (const name of names.slice(0, limit)) {
    const file = manFile(locale, name);
    const line = existsSync(file) ? await nameLine(file) : undefined;
    if (line) rows.push([line.name, '1', line.description]);
  }
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('');
  const html = `<html><head><meta charset="utf-8"><style>${pageCss(font, 'table { border-collapse: collapse; width: 100% } td, th { border: 1px solid #444; padding: 3px 5px; vertical-align: top; text-align: left }')}</style></head>
<body><h2>${esc(headers[3]!)}</h2><table><tr>${headers
    .slice(0, 3)
    .map((h) => `<th>${esc(h)}</th>`)
    .join('')}</tr>${body}</table></body></html>`;
  const truth = [headers[3]!, headers.slice(0, 3).join(' '), ...rows.map((r) => r.join(' '))].join('\n');
  return {
    id: `table-${locale}`,
    kind: 'layout',
    languages,
    html,
    truth,
    source: `NAME lines of ${rows.length} ${locale} manual pages`,
  };
}

/** Running text in two columns: the DESCRIPTION of a manual, read column by column. */
async function columnsPage(
  locale: string,
  name: string,
  languages: string,
  title: string,
  limit: number,
): Promise<Composed> {
  const text = await sh(
    `zcat ${manFile(locale, name)} | preconv -e utf-8 | groff -Tutf8 -mandoc -rHY=0 -rLL=400n -P-cbuo 2>/dev/null`,
  );
  // Paragraphs of the body: indented blocks joined, short option lines dropped.
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p.length > 160 && !/^[A-Z]{3,}\(/.test(p));
  const chosen: string[] = [];
  let length = 0;
  for (const p of paragraphs) {
    if (length + p.length > limit) break;
    chosen.push(p);
    length += p.length;
  }
  const html = `<html><head><meta charset="utf-8"><style>${pageCss(fonts.serif!, '.cols { column-count: 2; column-gap: 8mm; text-align: left } p { margin: 0 0 0.6em }')}</style></head>
<body><h1>${esc(title)}</h1><div class="cols">${chosen.map((p) => `<p>${esc(p)}</p>`).join('')}</div></body></html>`;
  return {
    id: `columns-${locale}`,
    kind: 'layout',
    languages,
    html,
    truth: [title, ...chosen].join('\n'),
    source: `${manFile(locale, name)} body text in two columns`,
  };
}

/** A package record as a filled-in form: labels, boxed values, tick boxes (from `dpkg -s`). */
async function formPage(pkg: string): Promise<Composed> {
  const record = await sh(`dpkg -s ${pkg}`);
  const fields = new Map<string, string>();
  for (const m of record.matchAll(/^([A-Za-z-]+): (.*)$/gm)) fields.set(m[1]!, m[2]!);
  const rows = [
    'Package',
    'Version',
    'Section',
    'Priority',
    'Architecture',
    'Maintainer',
    'Installed-Size',
    'Source',
  ].filter((f) => fields.has(f));
  const description = record
    .split('\n')
    .filter((l) => l.startsWith(' '))
    .map((l) => l.trim())
    .filter((l) => l !== '.')
    .join(' ');
  const status = fields.get('Status') ?? '';
  const boxes = [
    ['installed', status.includes('installed')],
    ['held', status.includes('hold')],
    ['essential', fields.get('Essential') === 'yes'],
  ] as const;
  const html = `<html><head><meta charset="utf-8"><style>${pageCss(fonts.sans!, '.f { display: flex; margin: 0 0 7px } .l { width: 32mm; font-weight: bold } .v { flex: 1; border: 1px solid #333; padding: 2px 5px } .box { display: inline-block; width: 3.2mm; height: 3.2mm; border: 1px solid #000; margin: 0 2mm 0 6mm; vertical-align: -2px; text-align: center; line-height: 3.2mm; font-size: 9pt }')}</style></head>
<body><h2>Package record: ${esc(pkg)}</h2>${rows.map((f) => `<div class="f"><div class="l">${esc(f)}</div><div class="v">${esc(fields.get(f)!)}</div></div>`).join('')}
<div class="f"><div class="l">Status</div><div>${boxes.map(([label, on]) => `<span class="box">${on ? '✓' : ''}</span>${label}`).join('')}</div></div>
<div class="f"><div class="l">Summary</div><div class="v">${esc(fields.get('Description') ?? '')}</div></div>
<p>${esc(description)}</p></body></html>`;
  const truth = [
    `Package record: ${pkg}`,
    ...rows.map((f) => `${f} ${fields.get(f)}`),
    `Status ${boxes.map(([l]) => l).join(' ')}`,
    `Summary ${fields.get('Description') ?? ''}`,
    description,
  ].join('\n');
  return { id: 'form-en', kind: 'layout', languages: 'eng', html, truth, source: `dpkg -s ${pkg}` };
}

/** Composes a page with `size` items, fewer until it fits on one A5 page. */
async function fitted(
  browser: Browser,
  compose: (size: number) => Promise<Composed>,
  size: number,
  step: number,
): Promise<{ page: Composed; pdf: string }> {
  for (let n = size; n > 0; n -= step) {
    const page = await compose(n);
    const pdf = join(work, `${page.id}.pdf`);
    if ((await printPdf(browser, page.html, pdf)) === 1) return { page, pdf };
  }
  throw new Error('a composed page does not fit on one page even with one item');
}

async function buildComposed(browser: Browser): Promise<void> {
  const enCommands = [
    'ls',
    'cp',
    'tar',
    'find',
    'grep',
    'sed',
    'chmod',
    'date',
    'df',
    'du',
    'kill',
    'sort',
    'cat',
    'uniq',
    'wc',
    'head',
    'tail',
    'gzip',
    'passwd',
    'man',
  ];
  const ruCommands = [
    'ls',
    'cat',
    'man',
    'passwd',
    'killall',
    'chage',
    'chfn',
    'chsh',
    'fuser',
    'gpasswd',
    'apropos',
    'expiry',
    'whatis',
    'pstree',
    'peekfd',
  ];
  const composers: Array<[(n: number) => Promise<Composed>, number, number]> = [
    [
      (n) =>
        tablePage('en', enCommands, ['Command', 'Section', 'Description', 'Common commands'], 'eng', fonts.sans!, n),
      enCommands.length,
      1,
    ],
    [
      (n) =>
        tablePage(
          'ru',
          ruCommands,
          ['Команда', 'Раздел', 'Описание', 'Команды и их назначение'],
          'rus',
          fonts.sans!,
          n,
        ),
      ruCommands.length,
      1,
    ],
    [(n) => columnsPage('en', 'grep', 'eng', 'grep: searching text', n), 3200, 200],
    [(n) => columnsPage('fr', 'sed', 'fra', 'sed : éditeur de flux', n), 3200, 200],
    [() => formPage('tesseract-ocr'), 1, 1],
  ];
  for (const [compose, size, step] of composers) {
    const { page, pdf } = await fitted(browser, compose, size, step);
    for (const dpi of [150, 300]) {
      const id = `${page.id}-${dpi}`;
      await rasterise(pdf, 1, dpi, join(out, `${id}.png`));
      add(
        {
          id,
          kind: page.kind,
          languages: page.languages,
          dpi,
          source: page.source,
          quick: (page.id === 'table-en' || page.id === 'columns-en') && dpi === 150,
        },
        page.truth,
      );
    }
  }
}

async function buildDegraded(): Promise<void> {
  for (const d of degradations) {
    const from = pages.find((p) => p.id === d.from);
    if (!from) continue;
    const id = `scan-${d.from}`;
    const png = join(out, `${id}.png`);
    if (!existsSync(png)) {
      const input = join(out, `${d.from}.png`);
      if (d.jpeg) {
        // Through JPEG at low quality for its block artefacts, then back to grey PNG.
        const jpg = join(work, `${id}.jpg`);
        await run(magick, [input, '-background', 'white', ...d.args, '-quality', String(d.jpeg), jpg]);
        await run(magick, [jpg, '-colorspace', 'Gray', '-depth', '8', png]);
      } else {
        await run(magick, [input, '-background', 'white', ...d.args, '-colorspace', 'Gray', '-depth', '8', png]);
      }
    }
    const scale = d.args.includes('-resize')
      ? Number(d.args[d.args.indexOf('-resize') + 1]!.replace('%', '')) / 100
      : 1;
    add(
      {
        id,
        kind: 'degraded',
        languages: from.languages,
        dpi: Math.round(from.dpi * scale),
        source: `${from.source}, ${d.args.join(' ')}`,
        quick: d.quick ?? false,
      },
      readFileSync(join(out, `${d.from}.txt`), 'utf8'),
    );
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  await buildManPages(browser);
  await buildComposed(browser);
} finally {
  await browser.close();
}
await buildDegraded();
const manifest: DevsetManifest = { built: new Date().toISOString(), pages };
writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
process.stdout.write(`devset: ${pages.length} pages (${pages.filter((p) => p.quick).length} in --quick) in ${out}\n`);
