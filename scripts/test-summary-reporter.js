// A second reporter beside `spec`: counts the tests skipped because a system part is missing (see
// test/helpers/system-parts.ts), prints one line per missing part at the end of the run, and writes the
// counts to $VISIONGATE_TEST_SUMMARY for scripts/run-tests.js (which fails the run on them in strict mode).
import { writeFileSync } from 'node:fs';

const prefix = 'missing system part';

export default async function* summary(source) {
  const reasons = new Map();
  for await (const event of source) {
    const skip = event.data?.skip;
    if (event.type === 'test:pass' && typeof skip === 'string' && skip.startsWith(prefix)) {
      reasons.set(skip, (reasons.get(skip) ?? 0) + 1);
    }
  }
  const total = [...reasons.values()].reduce((a, b) => a + b, 0);
  if (process.env.VISIONGATE_TEST_SUMMARY)
    writeFileSync(process.env.VISIONGATE_TEST_SUMMARY, JSON.stringify({ total, reasons: Object.fromEntries(reasons) }));
  if (total === 0) return;
  yield `\n${total} test${total === 1 ? '' : 's'} or suites skipped for a missing system part:\n`;
  for (const [reason, count] of [...reasons].sort((a, b) => b[1] - a[1])) yield `  ${count} × ${reason}\n`;
}
