import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordCost, UsageMeter, callerContext } from '../src/runtime/usage-meter.js';

test('costs are counted per key inside its async context, and reset with the UTC day', async () => {
  let now = Date.UTC(2026, 10, 23, 23, 59, 0);
  const meter = new UsageMeter(() => now);
  await callerContext.run({ key: 'a', meter }, async () => {
    recordCost('pages', 1);
    await new Promise((r) => setTimeout(r, 1));
    recordCost('tokens', 120);
  });
  recordCost('pages', 5); // outside any request: not counted
  assert.deepEqual(meter.totals('a'), { pages: 1, megapixels: 0, images: 0, tokens: 120 });
  assert.equal(meter.secondsToReset(), 60);
  now += 61_000;
  assert.deepEqual(meter.totals('a'), { pages: 0, megapixels: 0, images: 0, tokens: 0 });
});
