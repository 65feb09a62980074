/**
 * No regular expression of the code may backtrack super-linearly on what a client sends.
 * Two nets: a static one (scslre, over every regex literal in src/) and a dynamic one (the
 * text-processing functions run on adversarial inputs of growing size; time must grow
 * about linearly). The dynamic harness is checked against the old Markdown table-rule
 * pattern, which it must flag.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyse } from 'scslre';
import ts from 'typescript';
import { chunkText } from '../../src/core/abstractive.js';
import { classifySpecification } from '../../src/core/structure.js';
import { markdownText } from '../../src/documents/text-extract.js';
import { parsePages } from '../../src/shared/page-selection.js';
import { sentences } from '../../src/engines/extractive/sentences.js';
import { asList } from '../../src/engines/ocr-chat/ocr-chat-engine.js';

/** Literals that only ever see configuration (URLs from the config file), never a request. */
const configOnly = new Map([
  ['src/config/seed-models.ts /\\/+$/', 'trims the configured VLLM_URL'],
  ['src/engines/remote/upstream-client.ts /\\/+$/', 'trims configured upstream base URLs'],
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('static: no regex literal in src/ has super-linear backtracking (scslre), bar config-only ones', () => {
  const found: string[] = [];
  let literals = 0;
  for (const file of sourceFiles('src')) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        literals++;
        const text = node.getText(source);
        const end = text.lastIndexOf('/');
        const { reports } = analyse(
          { source: text.slice(1, end), flags: text.slice(end + 1) },
          { reportTypes: { Move: true, Self: true, Trade: true } },
        );
        const key = `${file.replaceAll('\\', '/')} ${text}`;
        if (reports.length && !configOnly.has(key))
          found.push(
            `${key}: ${reports.map((r) => `${r.type}${r.exponential ? ' (exponential)' : ''} on ${JSON.stringify(r.character.pick)}`).join(', ')}`,
          );
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  assert.ok(literals > 50, `only ${literals} literals found: the scan is not reading the sources`);
  assert.deepEqual(found, []);
});

/** Fastest of three runs, in ms (the least disturbed by GC and by other processes). */
function timeOf(run: () => void): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/**
 * Runs `fn` on 3.2 million characters of the input (320 thousand for ICU segmentation) and
 * asserts it takes under 10 s: linear code takes well under a second even on a busy machine,
 * while a quadratic pass over that many characters would take hours. (Timing ratios between
 * sizes were tried first; on two cores shared with six other jobs GC and scheduling noise
 * made them flake, so the bound is absolute and generous.)
 */
function assertLinear(
  name: string,
  make: (n: number) => string,
  fn: (input: string) => unknown,
  size = 3_200_000,
): void {
  const input = make(size);
  const started = performance.now();
  fn(input);
  const took = performance.now() - started;
  assert.ok(took < 10_000, `${name}: ${size} chars took ${took.toFixed(0)} ms`);
}

const repeat = (unit: string, n: number, tail = 'x'): string =>
  unit.repeat(Math.max(1, Math.floor(n / unit.length))) + tail;

describe('dynamic: text processing on adversarial inputs grows about linearly', () => {
  test('the harness flags the old Markdown table-rule pattern (cubic in a run of newlines)', () => {
    const old = (text: string): string => text.replace(/^\s*\|?\s*:?-{3,}.*$/gm, '');
    // Four times the newlines: a cubic pattern takes 64 times as long, a linear one 4 times. Asking for more
    // than 10 leaves room for a busy machine's noise (a doubling, 8 times in theory, measured 3.1 under load).
    const small = timeOf(() => old(repeat('\n', 300)));
    const large = timeOf(() => old(repeat('\n', 1200)));
    assert.ok(large > 10 * small && large > 100, `old pattern: ${small.toFixed(1)} ms → ${large.toFixed(1)} ms`);
  });

  const inputs: Record<string, (n: number) => string> = {
    newlines: (n) => repeat('\n', n),
    blanks: (n) => repeat(' ', n),
    'blank lines': (n) => repeat(' \n', n),
    tabs: (n) => repeat('\t', n),
    'heading with blanks': (n) => `# a${repeat(' ', n)}`,
    'heading hashes': (n) => `# ${repeat('# ', n)}`,
    'list markers': (n) => repeat('- ', n),
    digits: (n) => repeat('1', n),
    'digit groups': (n) => repeat('1.', n),
    'image openers': (n) => repeat('![', n),
    'link openers': (n) => repeat('[a](', n),
    brackets: (n) => repeat('[', n),
    'emphasis openers': (n) => repeat('*a_', n),
    backticks: (n) => repeat('`', n),
    pipes: (n) => `|${repeat(' ', n)}`,
    'pipe runs': (n) => repeat('| ', n),
    dashes: (n) => repeat('-', n),
    'table rule': (n) => `|${repeat(' ', n / 2)}:${repeat('-', n / 2)}`,
    'note with blanks': (n) => `note${repeat(' ', n)}`,
    'part number blanks': (n) => `P/N${repeat(' ', n)}`,
    'dimension run': (n) => `${repeat('1', n / 2)}${repeat(' ', n / 2)}`,
    hyphenation: (n) => repeat('-\n', n),
    'sentence ends': (n) => repeat('. ', n),
    'one long sentence': (n) => repeat('word ', n),
    'many sentences': (n) => repeat('Ab cd. ', n),
  };
  // ICU segmentation costs about a microsecond a character: sentences gets smaller inputs.
  const sizes: Record<string, number> = { sentences: 320_000 };
  const processors: Record<string, (text: string) => unknown> = {
    markdownText,
    sentences,
    asList,
    chunkText: (text) => chunkText(text, 64),
    // OCR lines are bounded by the page, but a text layer can make one as long as it likes.
    classifySpecification,
    pageRanges: (text) => {
      try {
        return parsePages(text);
      } catch {
        return undefined;
      }
    },
  };
  for (const [processor, fn] of Object.entries(processors)) {
    test(`${processor}: every adversarial input`, () => {
      for (const [input, make] of Object.entries(inputs))
        assertLinear(`${processor} on ${input}`, make, fn, sizes[processor]);
    });
  }
});
