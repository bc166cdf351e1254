// A page whose clock is two hours fast: what it exports is dated by the collector's
// clock (from its Date header, asked at start), each payload says by how much it moved,
// the viewer shows it, and the origin's next page starts with the correction.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { endTaggedSpan, startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

const TWO_HOURS_MS = 2 * 3600 * 1000;

/** The page's clock (what the SDK dates spans by) runs two hours ahead. */
const fastClock = () => {
  const fast = performance.timeOrigin + 2 * 3600 * 1000;
  Object.defineProperty(Performance.prototype, 'timeOrigin', { get: () => fast });
};

/** The stored span tagged `id`, once it arrived. */
const tagged = (id) => stack.api.waitFor((spans) => {
  const span = spans.find((s) => s.attrs['test.id'] === id);
  return span && [span];
}, { what: `the span tagged ${id}` }).then(([span]) => span);

test('a page clock two hours fast is corrected from the collector\'s Date header', { timeout: 60_000 }, async () => {
  const { page } = await stack.open('', { init: fastClock });
  await page.waitForFunction(() => window.demo.api.getSdk().tracer.clockCorrectionMs !== 0, null, { timeout: 10_000 });
  const before = Date.now();
  await endTaggedSpan(page, 'first', 'skew-1');
  const span = await tagged('skew-1');
  const startMs = Number(BigInt(span.startTimeUnixNano) / 1_000_000n);
  assert.ok(Math.abs(startMs - before) < 3000, `dated by the collector's clock: ${startMs - before} ms off`);
  const correction = span.resource['wasm_otlp.clock_correction_ms'];
  assert.ok(Math.abs(correction + TWO_HOURS_MS) < 2000, `the resource names the correction: ${correction}`);

  // The viewer says so, in the trace's header.
  const viewer = await stack.browser.context.newPage();
  await viewer.goto(`${stack.collector.url}/#${span.traceId}`, { timeout: 10_000 });
  await viewer.waitForSelector('#trace-meta', { timeout: 10_000 });
  assert.match(await viewer.textContent('#trace-meta'), /1 dated after correcting the client's clock by −(1 h 59 m|2 h 0 m)/);
  await viewer.close();

  // The origin's next page starts with the correction it remembered.
  const next = await stack.open('', { init: fastClock });
  assert.equal(await next.page.evaluate(() => window.demo.api.getSdk().tracer.clockCorrectionMs), correction);
});
