// Spans ended just before the page is hidden or goes away still arrive: the pages here
// use a 10-minute batch delay, so only the SDK's page-hide flush (keepalive fetch) can
// deliver them within the test's deadline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

const LONG_DELAY = '?batchDelay=600000';

/** Starts and ends a span named `name` tagged with `id`, in the page. */
const endSpan = (page, name, id) =>
  page.evaluate(([name, id]) => window.demo.api.startSpan(name, { attributes: { 'test.id': id } }).end(), [name, id]);

const tagged = (id) => (spans) => spans.filter((s) => s.attrs['test.id'] === id);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('visibilitychange to hidden flushes spans ended just before', { timeout: 30_000 }, async () => {
  const { page, server } = await stack.open(LONG_DELAY);
  const id = randomUUID();
  await endSpan(page, 'before.hide', id);
  // The long delay holds: nothing is exported while the page stays visible.
  await sleep(1500);
  assert.deepEqual(tagged(id)(await stack.api.allSpans()), [], 'no span exported before the page is hidden');
  assert.deepEqual(await stack.api.trace(server.traceId), [], 'the page-load span waits too');

  // End one more span and hide the page in the same task.
  await page.evaluate((id) => {
    window.demo.api.startSpan('at.hide', { attributes: { 'test.id': id } }).end();
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, id);
  const spans = await stack.api.waitFor((spans) => tagged(id)(spans).length === 2 && tagged(id)(spans), { timeoutMs: 10_000, what: 'the two spans flushed on hide' });
  assert.deepEqual(spans.map((s) => s.name).sort(), ['at.hide', 'before.hide']);
  // Everything recorded so far went with them, the page-load spans included.
  const load = await stack.api.waitFor((spans) => spans.find((s) => s.name === 'documentLoad'), { traceId: server.traceId, timeoutMs: 5000, what: 'documentLoad' });
  assert.equal(load.parentSpanId, server.spanId);
});

test('navigating away (pagehide) delivers spans ended just before', { timeout: 30_000 }, async () => {
  const { page } = await stack.open(LONG_DELAY);
  const id = randomUUID();
  await endSpan(page, 'before.navigation', id);
  await page.goto('about:blank');
  const [span] = await stack.api.waitFor((spans) => tagged(id)(spans).length && tagged(id)(spans), { timeoutMs: 10_000, what: 'the span flushed on navigation' });
  assert.equal(span.name, 'before.navigation');
});

test('closing the page delivers spans ended just before (keepalive outlives the page)', { timeout: 30_000 }, async () => {
  const { page } = await stack.open(LONG_DELAY);
  const id = randomUUID();
  await endSpan(page, 'before.close', id);
  await page.close();
  const [span] = await stack.api.waitFor((spans) => tagged(id)(spans).length && tagged(id)(spans), { timeoutMs: 10_000, what: 'the span flushed on close' });
  assert.equal(span.name, 'before.close');
});
