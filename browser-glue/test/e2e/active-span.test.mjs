// The active span between user interactions. A click whose handler navigates with
// history.pushState (what every SPA router link does) opens two overlapping scopes: the
// click span's (left in a setTimeout) and the navigation span's (left after the next
// frame). Once both are left, no span may stay active, or every later span without an
// explicit parent (the next clicks, their fetches, error spans) joins that old trace.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceparent, startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

/** Lets the click's setTimeout and the navigation's requestAnimationFrame + setTimeout run. */
const settle = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50)))));

test('a plain click leaves no active span behind', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  const added = page.waitForResponse((r) => r.url().endsWith('/api/cart'));
  await page.click('.product[data-product="1"] .add');
  await added;
  await settle(page);
  assert.equal(await page.evaluate(() => window.demo.api.getActiveSpan()?.spanContext().spanId), undefined);
});

test('after a click that navigates (pushState), no span stays active and the next click starts a new trace', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  const since = stack.demo.requests.length;
  const viewed = page.waitForResponse((r) => r.url().endsWith('/api/product/2'));
  await page.click('.product[data-product="2"] .view'); // pushState + fetch in the click handler
  await viewed;
  await settle(page);
  const viewTrace = parseTraceparent(stack.demo.requests.slice(since).find((r) => r.path === '/api/product/2').traceparent).traceId;

  const leaked = await page.evaluate(() => {
    const span = window.demo.api.getActiveSpan();
    return span && { ...span.spanContext(), ended: span.isEnded };
  });

  // What the user sees: the next click (no navigation) should be a new trace.
  const added = page.waitForResponse((r) => r.url().endsWith('/api/cart'));
  await page.click('.product[data-product="1"] .add');
  await added;
  const cart = parseTraceparent(stack.demo.requests.slice(since).find((r) => r.path === '/api/cart').traceparent);
  const click = await stack.api.waitFor(
    (spans) => {
      const fetchSpan = spans.find((s) => s.spanId === cart.spanId);
      return fetchSpan && spans.find((s) => s.spanId === fetchSpan.parentSpanId);
    },
    { traceId: cart.traceId, what: 'the add-to-cart click span' },
  );

  assert.equal(leaked, undefined, `no span should be active between tasks; the active span is ${JSON.stringify(leaked)} (the view click's user.click span, ended)`);
  assert.notEqual(cart.traceId, viewTrace, 'the second click joined the first click\'s trace');
  assert.equal(click.parentSpanId, '', 'the second click span should be a root');
});
