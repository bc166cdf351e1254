// A page whose clock is two hours fast: once the collector has answered, what the page
// exports is dated by the collector's clock, and each payload says by how much it moved.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { endTaggedSpan, startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

const TWO_HOURS_MS = 2 * 3600 * 1000;

test('a page clock two hours fast is corrected from the collector\'s Date header', { timeout: 60_000 }, async () => {
  const { page } = await stack.open('', {
    // The page's clock (what the SDK dates spans by) runs two hours ahead.
    init: () => {
      const fast = performance.timeOrigin + 2 * 3600 * 1000;
      Object.defineProperty(Performance.prototype, 'timeOrigin', { get: () => fast });
    },
  });
  // The first export learns the offset from its answer (its own spans keep the page's clock).
  await endTaggedSpan(page, 'before-correction', 'skew-1');
  const [first] = await stack.api.waitFor((spans) => {
    const s = spans.find((s) => s.attrs['test.id'] === 'skew-1');
    return s && [s];
  }, { what: 'the first span' });
  assert.ok(Number(BigInt(first.startTimeUnixNano) / 1_000_000n) - Date.now() > TWO_HOURS_MS - 60_000, 'the first payload is dated by the fast clock');
  await page.waitForFunction(() => window.demo.api.getSdk().tracer.clockCorrectionMs !== 0, null, { timeout: 10_000 });

  const before = Date.now();
  await endTaggedSpan(page, 'after-correction', 'skew-2');
  const [span] = await stack.api.waitFor((spans) => {
    const s = spans.find((s) => s.attrs['test.id'] === 'skew-2');
    return s && [s];
  }, { what: 'the span exported after the correction' });
  const startMs = Number(BigInt(span.startTimeUnixNano) / 1_000_000n);
  assert.ok(Math.abs(startMs - before) < 3000, `dated by the collector's clock: ${startMs - before} ms off`);
  const correction = span.resource['wasm_otlp.clock_correction_ms'];
  assert.ok(Math.abs(correction + TWO_HOURS_MS) < 2000, `the resource names the correction: ${correction}`);
  assert.equal(first.resource['wasm_otlp.clock_correction_ms'], undefined);

  // The viewer says so, in the trace's header and the span's details.
  const viewer = await stack.browser.context.newPage();
  await viewer.goto(`${stack.collector.url}/#${span.traceId}`, { timeout: 10_000 });
  await viewer.waitForSelector('#trace-meta', { timeout: 10_000 });
  assert.match(await viewer.textContent('#trace-meta'), /1 dated after correcting the client's clock by −(1 h 59 m|2 h 0 m)/);
  await viewer.close();
});
