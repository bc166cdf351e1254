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

/**
 * Ends 1,000 spans over about 100 ms, as 20 interactions of 50 spans (a root and 49
 * requests under it): what a busy page has pending when the user leaves. Then `leave`
 * runs in the same task as the last span's end. Resolves to the test's ID.
 */
async function burstThenLeave(page, leave) {
  const id = randomUUID();
  await page
    .evaluate(
      async ([id, leave]) => {
        const { api } = window.demo;
        for (let t = 0; t < 20; t++) {
          const root = api.startSpan(`interaction.${t}`, { parent: null, attributes: { 'test.id': id } });
          for (let i = 0; i < 49; i++) {
            const url = `https://shop.example/api/items/${t * 100 + i}?page=${i}&sort=price`;
            api.startSpan('GET', { parent: root, attributes: { 'test.id': id, 'url.full': url, 'http.response.status_code': 200 } }).end();
          }
          root.end();
          if (t < 19) await new Promise((r) => setTimeout(r, 5));
        }
        if (leave === 'navigate') location.href = 'about:blank';
      },
      [id, leave],
    )
    .catch(() => {}); // the navigation may end the evaluation
  return id;
}

/** Every span tagged `id` once 1,000 arrived (or what arrived after 20 s). */
async function arrived(id) {
  let traces = [];
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(200)) {
    traces = await stack.api.traces({ attr: `test.id=${id}` });
    if (traces.reduce((n, t) => n + t.spanCount, 0) >= 1000) break;
  }
  return (await Promise.all(traces.map((t) => stack.api.trace(t.traceId)))).flat();
}

test('1,000 spans ended in the last 100 ms before the page closes all arrive', { timeout: 60_000 }, async () => {
  const { page } = await stack.open(LONG_DELAY);
  const id = await burstThenLeave(page, 'close');
  await page.close();
  const spans = await arrived(id);
  assert.equal(new Set(spans.map((s) => s.spanId)).size, 1000, 'every span, each once');
});

test('1,000 spans ended just before a navigation in the same task all arrive', { timeout: 60_000 }, async () => {
  const { page } = await stack.open(LONG_DELAY);
  const id = await burstThenLeave(page, 'navigate');
  const spans = await arrived(id);
  assert.equal(new Set(spans.map((s) => s.spanId)).size, 1000, 'every span, each once');
  await page.close();
});
