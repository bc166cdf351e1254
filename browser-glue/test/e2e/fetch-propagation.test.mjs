// Clicks, their fetch spans, and which backends receive `traceparent`: same origin yes,
// an origin not in propagateTraceHeaderCorsUrls no. Checked through the collector and
// against what the demo backend recorded and echoed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceparent, startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

/** The backend's record of the one request to `path` made after `since` requests. */
function backendRequest(since, origin, path) {
  const matching = stack.demo.requests.slice(since).filter((r) => r.origin === origin && r.path === path);
  assert.equal(matching.length, 1, `one ${origin} request to ${path}, got ${JSON.stringify(matching.map((r) => r.method))}`);
  return matching[0];
}

test('a click span has a child fetch span whose traceparent reached the backend', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  const since = stack.demo.requests.length;
  await page.fill('.product[data-product="2"] .quantity', '3');
  const response = page.waitForResponse((r) => r.url().endsWith('/api/cart'));
  await page.click('.product[data-product="2"] .add');
  const echoed = await (await response).json();

  const received = backendRequest(since, 'main', '/api/cart');
  assert.equal(received.method, 'POST');
  const header = parseTraceparent(received.traceparent);
  assert.ok(header, `backend got a valid traceparent: ${received.traceparent}`);
  assert.equal(header.flags, '01', 'sampled');
  assert.equal(echoed.traceparent, received.traceparent, 'the backend echoed what it received');

  const { click, fetchSpan, add } = await stack.api.waitFor(
    (spans) => {
      const click = spans.find((s) => s.name === 'user.click');
      const fetchSpan = spans.find((s) => s.spanId === header.spanId);
      const add = spans.find((s) => s.name === 'add_to_cart');
      return click && fetchSpan && add && { click, fetchSpan, add };
    },
    { traceId: header.traceId, what: 'user.click, its fetch span and add_to_cart' },
  );

  // The click span: a new trace, with the element's attributes.
  assert.equal(click.parentSpanId, '', 'a click outside any span starts a trace');
  assert.equal(click.scope, '@wasm-otlp/instrumentation-user-interaction');
  assert.equal(click.attrs['event.type'], 'click');
  assert.equal(click.attrs['element.tag'], 'button');
  assert.equal(click.attrs['element.name'], 'Add to cart');
  assert.equal(typeof click.attrs['mouse.x'], 'number');

  // The fetch span is the click's child, and it is the span the header named.
  assert.equal(fetchSpan.traceId, click.traceId);
  assert.equal(fetchSpan.parentSpanId, click.spanId);
  assert.equal(fetchSpan.kind, 3, 'client');
  assert.equal(fetchSpan.name, 'POST');
  assert.equal(fetchSpan.scope, '@wasm-otlp/instrumentation-http');
  assert.equal(fetchSpan.attrs['http.request.method'], 'POST');
  assert.equal(fetchSpan.attrs['url.full'], `${stack.demo.url}/api/cart`);
  assert.equal(fetchSpan.attrs['server.address'], '127.0.0.1');
  assert.equal(fetchSpan.attrs['server.port'], Number(new URL(stack.demo.url).port));
  assert.equal(fetchSpan.attrs['http.response.status_code'], 200);
  assert.equal(fetchSpan.status?.code ?? 0, 0);

  // The app's own span, made with measure() inside the click handler.
  assert.equal(add.parentSpanId, click.spanId);
  assert.equal(add.attrs['product.id'], '2');
  assert.equal(add.attrs.quantity, 3);
  assert.equal(add.attrs['cart.items'], 3);
  assert.equal(add.attrs.result, 'added');
});

test('view product: traceAsync span with product.id, its fetch child carries the trace to the backend', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  const since = stack.demo.requests.length;
  const response = page.waitForResponse((r) => r.url().endsWith('/api/product/1'));
  await page.click('.product[data-product="1"] .view');
  const echoed = await (await response).json();
  const header = parseTraceparent(backendRequest(since, 'main', '/api/product/1').traceparent);
  assert.ok(header);
  assert.equal(echoed.traceparent, `00-${header.traceId}-${header.spanId}-01`);

  const { click, view, fetchSpan, navigation } = await stack.api.waitFor(
    (spans) => {
      const click = spans.find((s) => s.name === 'user.click');
      const view = spans.find((s) => s.name === 'view_product' && s.attrs['product.price'] !== undefined);
      const fetchSpan = spans.find((s) => s.spanId === header.spanId);
      const navigation = spans.find((s) => s.name === 'navigation');
      return click && view && fetchSpan && navigation && { click, view, fetchSpan, navigation };
    },
    { traceId: header.traceId, what: 'user.click, navigation, view_product and its fetch span' },
  );
  // click -> navigation (pushState) -> view_product -> GET /api/product/1
  assert.equal(navigation.parentSpanId, click.spanId);
  assert.equal(navigation.attrs['navigation.trigger'], 'pushState');
  assert.match(navigation.attrs['url.full'], /#product-1$/);
  assert.equal(view.parentSpanId, navigation.spanId);
  assert.equal(view.attrs['product.id'], '1');
  assert.equal(view.attrs['product.price'], 12.5);
  assert.equal(view.attrs.result, 'shown');
  assert.equal(fetchSpan.parentSpanId, view.spanId);
  assert.equal(fetchSpan.kind, 3);
  assert.equal(fetchSpan.name, 'GET');
  assert.equal(fetchSpan.attrs['http.response.status_code'], 200);
  assert.ok(BigInt(view.endTimeUnixNano) >= BigInt(fetchSpan.endTimeUnixNano), 'view_product ends after its request');
});

test('a cross-origin fetch not on the allow-list carries no traceparent but is traced as a client span', { timeout: 30_000 }, async () => {
  const { page } = await stack.open();
  const since = stack.demo.requests.length;
  const response = page.waitForResponse((r) => r.url().startsWith(`${stack.demo.crossUrl}/api/recommendations`));
  await page.click('#recommendations');
  const echoed = await (await response).json();
  assert.equal(echoed.recommendations.length, 2);

  // The other origin saw one plain GET: no trace headers, so no CORS preflight either.
  const crossRequests = stack.demo.requests.slice(since).filter((r) => r.origin === 'cross');
  assert.deepEqual(
    crossRequests.map((r) => [r.method, r.path, r.traceparent, r.tracestate]),
    [['GET', '/api/recommendations?product=1', null, null]],
  );
  assert.equal(echoed.traceparent, null);
  assert.equal(crossRequests[0].headers.origin, stack.demo.url, 'it was a cross-origin request');

  const expectedUrl = `${stack.demo.crossUrl}/api/recommendations?product=1`;
  const { click, fetchSpan } = await stack.api.waitFor(
    (spans) => {
      const fetchSpan = spans.find((s) => s.attrs['url.full'] === expectedUrl);
      const click = fetchSpan && spans.find((s) => s.spanId === fetchSpan.parentSpanId);
      return click && { click, fetchSpan };
    },
    { what: `a fetch span for ${expectedUrl} under its click span` },
  );
  assert.equal(click.name, 'user.click');
  assert.equal(click.attrs['element.id'], 'recommendations');
  assert.equal(fetchSpan.traceId, click.traceId);
  assert.equal(fetchSpan.kind, 3, 'client');
  assert.equal(fetchSpan.name, 'GET');
  assert.equal(fetchSpan.attrs['server.port'], Number(new URL(stack.demo.crossUrl).port));
  assert.equal(fetchSpan.attrs['http.response.status_code'], 200);
});
