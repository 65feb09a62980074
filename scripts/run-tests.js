// Runs every compiled test file with node's test runner (Node 20 has no --test globs), with a time limit per
// test (scripts/test-time-limit.js) and per file, and a summary of tests skipped for a missing system part.
// VISIONGATE_TEST_STRICT=1 (set by .ci/run) turns such a skip into a failure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? find(path) : name.endsWith('.test.js') ? [path] : [];
  });
}

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const only = process.argv.slice(2);
const files = find('dist/test')
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  // node --test given no file would run every test it finds, not none.
  console.error(`no compiled test file matches ${only.join(', ')} (in dist/test)`);
  process.exit(2);
}
const scratch = mkdtempSync(join(tmpdir(), 'visiongate-tests-'));
const summaryFile = join(scratch, 'summary.json');
const fileLimitMs = 15 * 60_000;
const args = [
  '--import',
  here('./test-time-limit.js'),
  '--test',
  '--test-concurrency=2',
  `--test-timeout=${fileLimitMs}`,
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  `--test-reporter=${here('./test-summary-reporter.js')}`,
  '--test-reporter-destination=stdout',
  ...files,
];
const result = spawnSync(process.execPath, args, {
  stdio: 'inherit',
  env: { ...process.env, VISIONGATE_TEST_SUMMARY: summaryFile },
  timeout: 40 * 60_000, // the whole run, should a file's limit not stop it
  killSignal: 'SIGKILL',
});
let status = result.status ?? 1;
if (result.error) console.error(`test run stopped: ${result.error.message}`);
let skipped = 0;
try {
  skipped = JSON.parse(readFileSync(summaryFile, 'utf8')).total;
} catch {
  // no summary: the run died before the reporter finished; status already says so
}
rmSync(scratch, { recursive: true, force: true });
if (skipped > 0) {
  const strict = process.env.VISIONGATE_TEST_STRICT === '1';
  console.log(
    strict
      ? `strict mode (VISIONGATE_TEST_STRICT=1): ${skipped} skipped for missing system parts is a failure`
      : 'install the packages above to run them (.ci/run does, and runs strict)',
  );
  if (strict && status === 0) status = 1;
}
process.exit(status);
