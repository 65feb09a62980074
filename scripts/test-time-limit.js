// Preloaded into every test process by scripts/run-tests.js: each test and suite that sets no `timeout`
// of its own gets one, so a hang fails with the test's name instead of stalling the run. (Node 22 applies
// --test-timeout to each test; Node 20 only to each file, which run-tests.js also sets.)
import { createRequire, syncBuiltinESMExports } from 'node:module';

const limitMs = Number(process.env.VISIONGATE_TEST_TIMEOUT_MS) || 180_000;
const nodeTest = createRequire(import.meta.url)('node:test');

function withLimit(define) {
  const limited = (name, options, body) => {
    if (typeof name === 'function') return define({ timeout: limitMs }, name);
    if (typeof options === 'function') return define(name, { timeout: limitMs }, options);
    if (options && options.timeout === undefined) return define(name, { ...options, timeout: limitMs }, body);
    return define(name, options, body);
  };
  return Object.assign(limited, define);
}

for (const name of ['test', 'it']) nodeTest[name] = withLimit(nodeTest[name]);
syncBuiltinESMExports();
