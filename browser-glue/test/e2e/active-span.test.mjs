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

test('a click while checkout awaits its payment starts its own trace, and checkout keeps its own', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  const filled = page.waitForResponse((r) => r.url().endsWith('/api/cart'));
  await page.click('.product[data-product="1"] .add');
  await filled;
  const since = stack.demo.requests.length;
  const ordered = page.waitForResponse((r) => r.url().endsWith('/api/checkout'));
  const added = page.waitForResponse((r) => r.url().endsWith('/api/cart'));
  await page.click('#checkout'); // payment takes 40-120 ms after this click
  // While the checkout flow awaits its payment (a click through the page itself: a
  // Playwright click can take as long as the payment on a slow machine).
  await page.evaluate(() => document.querySelector('.product[data-product="2"] .add').click());
  await Promise.all([ordered, added]);
  const requests = stack.demo.requests.slice(since);
  const order = parseTraceparent(requests.find((r) => r.path === '/api/checkout').traceparent);
  const cart = parseTraceparent(requests.find((r) => r.path === '/api/cart').traceparent);
  assert.notEqual(cart.traceId, order.traceId, 'the second click joined the checkout trace');

  const spans = await stack.api.waitFor(
    (spans) => ['user.click', 'checkout', 'order'].every((n) => spans.some((s) => s.name === n)) && spans.some((s) => s.spanId === order.spanId) && spans,
    { traceId: order.traceId, what: 'the checkout trace' },
  );
  const named = (name) => spans.find((s) => s.name === name);
  assert.equal(named('order').parentSpanId, named('checkout').spanId, 'order, started after an await, is still under checkout');
  assert.equal(spans.find((s) => s.spanId === order.spanId).parentSpanId, named('order').spanId);
  const cartSpans = await stack.api.waitFor(
    (spans) => spans.some((s) => s.spanId === cart.spanId) && spans.some((s) => s.name === 'user.click') && spans,
    { traceId: cart.traceId, what: 'the add-to-cart trace' },
  );
  const click = cartSpans.find((s) => s.name === 'user.click');
  assert.equal(click.parentSpanId, '', 'a click is the root of its trace');
  assert.equal(cartSpans.find((s) => s.spanId === cart.spanId).parentSpanId, click.spanId);
});
