// The checkout flow: a checkout span with validate / payment / order children made with
// the API (traceAsync, measure, the active span kept across awaits), the order's request
// carrying the trace to the backend, and a declined payment as error spans.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceparent, startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

/** Puts two of product 1 in the cart (a trace of its own). */
async function fillCart(page) {
  await page.fill('.product[data-product="1"] .quantity', '2');
  const added = page.waitForResponse((r) => r.url().endsWith('/api/cart'));
  await page.click('.product[data-product="1"] .add');
  await added;
}

const byName = (spans, name) => spans.find((s) => s.name === name);

test('checkout: validate, payment and order under the checkout span; the order request carries the trace', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  await fillCart(page);
  const since = stack.demo.requests.length;
  const response = page.waitForResponse((r) => r.url().endsWith('/api/checkout'));
  await page.click('#checkout');
  const echoed = await (await response).json();
  assert.match(echoed.orderId, /^order-\d+$/);
  const [received] = stack.demo.requests.slice(since).filter((r) => r.path === '/api/checkout');
  const header = parseTraceparent(received?.traceparent);
  assert.ok(header, 'the checkout request carried a traceparent');
  assert.equal(echoed.traceparent, received.traceparent);

  const spans = await stack.api.waitFor(
    (spans) => ['user.click', 'checkout', 'validate', 'payment', 'order'].every((n) => byName(spans, n)) && spans.find((s) => s.spanId === header.spanId) && spans,
    { traceId: header.traceId, what: 'the checkout trace' },
  );
  const [click, checkout, validate, payment, order] = ['user.click', 'checkout', 'validate', 'payment', 'order'].map((n) => byName(spans, n));
  const request = spans.find((s) => s.spanId === header.spanId);

  assert.equal(click.parentSpanId, '');
  assert.equal(click.attrs['element.id'], 'checkout');
  assert.equal(checkout.parentSpanId, click.spanId);
  for (const child of [validate, payment, order]) assert.equal(child.parentSpanId, checkout.spanId, `${child.name} is a child of checkout`);
  assert.equal(request.parentSpanId, order.spanId, 'the request is the order step');
  assert.equal(request.kind, 3);
  assert.equal(request.name, 'POST');
  assert.equal(request.attrs['url.full'], `${stack.demo.url}/api/checkout`);
  assert.equal(request.attrs['http.response.status_code'], 201);

  assert.equal(checkout.attrs['cart.items'], 2);
  assert.equal(checkout.attrs['cart.total'], 25);
  assert.equal(checkout.attrs['order.id'], echoed.orderId);
  assert.equal(checkout.attrs.result, 'ok');
  assert.equal(validate.attrs.result, 'valid');
  assert.equal(payment.attrs['payment.method'], 'card');
  assert.equal(payment.attrs.result, 'authorized');
  assert.equal(order.attrs['order.id'], echoed.orderId);
  assert.equal(order.attrs.result, 'created');
  for (const s of [checkout, validate, payment, order]) assert.equal(s.status?.code ?? 0, 0, `${s.name} has no error`);

  // Steps in sequence, inside the checkout span.
  const t = (s, edge) => BigInt(s[`${edge}TimeUnixNano`]);
  assert.ok(t(validate, 'end') <= t(payment, 'start'));
  assert.ok(t(payment, 'end') <= t(order, 'start'));
  assert.ok(t(checkout, 'start') <= t(validate, 'start') && t(order, 'end') <= t(checkout, 'end'));
});

test('a declined card: payment and checkout end with error status and an exception event; no order is sent', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  await fillCart(page);
  await page.check('#decline');
  const since = stack.demo.requests.length;
  await page.click('#checkout');
  await page.waitForSelector('#log li.error', { timeout: 10_000 });
  const traceId = await page.$eval('#log li.error a', (a) => a.href.split('#')[1]);

  const spans = await stack.api.waitFor((spans) => byName(spans, 'checkout') && byName(spans, 'payment') && spans, { traceId, what: 'the failed checkout' });
  const checkout = byName(spans, 'checkout');
  const payment = byName(spans, 'payment');
  assert.equal(payment.parentSpanId, checkout.spanId);
  assert.deepEqual(payment.status, { code: 2, message: 'card declined' });
  assert.deepEqual(checkout.status, { code: 2, message: 'card declined' });
  assert.equal(checkout.attrs.result, 'declined');
  for (const s of [payment, checkout]) {
    const exception = s.events.find((e) => e.name === 'exception');
    assert.ok(exception, `${s.name} has an exception event`);
    assert.equal(exception.attrs['exception.type'], 'Error');
    assert.equal(exception.attrs['exception.message'], 'card declined');
    assert.match(exception.attrs['exception.stacktrace'], /card declined[\s\S]*app\.js/);
  }
  assert.equal(byName(spans, 'order'), undefined, 'no order step');
  assert.equal(stack.demo.requests.slice(since).filter((r) => r.path === '/api/checkout').length, 0);
  const listed = await stack.api.traces({ error: 'true' });
  assert.ok(listed.some((t) => t.traceId === traceId && t.error), 'the query API lists it among error traces');
});
