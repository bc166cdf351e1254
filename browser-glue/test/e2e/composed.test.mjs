// The example guest composed with the tracing component (`just compose`) in headless
// Chromium through jco: the guest's spans and log record reach the real collector in the
// caller's trace, nested as the guest started them, under the configured resource.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { logRecords, startComposition } from './composition.mjs';

const SERVICE = 'composed-e2e';

let composition;
let stack;
before(async () => {
  composition = await startComposition({ dir: 'composed', app: './composed-app.js', service: SERVICE });
  stack = composition.stack;
}, { timeout: 60_000 });
after(() => composition?.stop(), { timeout: 30_000 });

const openComposed = () => composition.open();

/** A caller's span context: a fresh trace ID and span ID as hex. */
function callerContext() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

test('the guest\'s spans arrive in the caller\'s trace, nested, with attributes, events and the resource', { timeout: 30_000 }, async () => {
  const { page, errors } = await openComposed();
  const caller = callerContext();
  const { quote } = await page.evaluate(
    ([traceparent]) => window.app.priceCart([{ sku: 'TEA-BLACK-250', quantity: 2 }, { sku: 'CUP-PORCELAIN', quantity: 2 }], 'TEATIME25', traceparent),
    [caller.traceparent],
  );
  assert.deepEqual({ ...quote, traceparent: undefined }, { subtotalCents: 4_880, discountCents: 1_220, totalCents: 3_660, traceparent: undefined });
  assert.match(quote.traceparent, new RegExp(`^00-${caller.traceId}-[0-9a-f]{16}-01$`));
  await page.evaluate(() => window.app.flush());

  const spans = await stack.api.waitFor((spans) => spans.length >= 6 && spans, { traceId: caller.traceId, what: 'the guest\'s six spans' });
  assert.equal(spans.length, 6, spans.map((s) => s.name).join(', '));
  for (const span of spans) {
    assert.equal(span.service, SERVICE);
    assert.equal(span.scope, 'traced-guest');
  }
  const root = spans.find((s) => s.name === 'price-cart');
  assert.equal(root.parentSpanId, caller.spanId, 'the guest\'s root continues the caller\'s span');
  assert.equal(quote.traceparent, `00-${caller.traceId}-${root.spanId}-01`);
  assert.deepEqual(
    { lines: root.attrs['cart.line_count'], coupon: root.attrs['cart.coupon'], subtotal: root.attrs['cart.subtotal_cents'], total: root.attrs['cart.total_cents'] },
    { lines: 2, coupon: 'TEATIME25', subtotal: 4_880, total: 3_660 },
  );

  const lines = spans.filter((s) => s.name === 'price-line');
  assert.deepEqual(lines.map((s) => s.attrs['product.sku']).sort(), ['CUP-PORCELAIN', 'TEA-BLACK-250']);
  for (const line of lines) {
    assert.equal(line.parentSpanId, root.spanId);
    const lookups = spans.filter((s) => s.name === 'catalog.lookup' && s.parentSpanId === line.spanId);
    assert.equal(lookups.length, 1, `one lookup under the line for ${line.attrs['product.sku']}`);
    assert.equal(lookups[0].attrs['product.sku'], line.attrs['product.sku']);
    assert.ok(BigInt(line.startTimeUnixNano) <= BigInt(lookups[0].startTimeUnixNano) && BigInt(lookups[0].endTimeUnixNano) <= BigInt(line.endTimeUnixNano), 'the lookup lies within its line');
  }
  assert.equal(lines.find((s) => s.attrs['product.sku'] === 'TEA-BLACK-250').attrs['line.total_cents'], 2_380);

  const coupon = spans.find((s) => s.name === 'apply-coupon');
  assert.equal(coupon.parentSpanId, root.spanId);
  assert.deepEqual(coupon.events.map((e) => [e.name, e.attrs]), [['coupon.applied', { 'coupon.percent_off': 25, 'coupon.discount_cents': 1_220 }]]);
  assert.deepEqual(errors, []);
  await page.close();
});

test('an unknown SKU fails the call and marks the spans it went through; an unknown coupon is a warning log in the trace', { timeout: 30_000 }, async () => {
  const { page, errors } = await openComposed();
  const failing = callerContext();
  const { error } = await page.evaluate(([traceparent]) => window.app.priceCart([{ sku: 'TEA-WHITE-50', quantity: 1 }], undefined, traceparent), [failing.traceparent]);
  assert.equal(error, 'unknown SKU: TEA-WHITE-50');
  const couponless = callerContext();
  const { quote } = await page.evaluate(([traceparent]) => window.app.priceCart([{ sku: 'TEA-GREEN-100', quantity: 1 }], 'FREETEA', traceparent), [couponless.traceparent]);
  assert.equal(quote.totalCents, 650);
  await page.evaluate(() => window.app.flush());

  const spans = await stack.api.waitFor((spans) => spans.length >= 3 && spans, { traceId: failing.traceId, what: 'the failed call\'s spans' });
  const root = spans.find((s) => s.name === 'price-cart');
  const line = spans.find((s) => s.name === 'price-line');
  const lookup = spans.find((s) => s.name === 'catalog.lookup');
  assert.equal(root.parentSpanId, failing.spanId);
  assert.equal(line.parentSpanId, root.spanId);
  assert.equal(lookup.parentSpanId, line.spanId);
  for (const [span, message] of [[root, error], [line, error], [lookup, 'unknown SKU']]) {
    assert.deepEqual(span.status, { code: 2, message }, span.name);
  }
  assert.deepEqual(root.events.map((e) => [e.name, e.attrs['exception.type'], e.attrs['exception.message']]), [['exception', 'PricingError', error]]);

  // The log record arrives through /v1/logs and is served with its trace.
  const [record] = await logRecords(stack, couponless.traceId);
  const coupon = (await stack.api.trace(couponless.traceId)).find((s) => s.name === 'apply-coupon');
  assert.equal(record.spanId, coupon.spanId, 'the log record belongs to apply-coupon');
  assert.equal(record.severityNumber, 13);
  assert.equal(record.body?.stringValue, 'unknown coupon FREETEA: no discount');
  assert.deepEqual(coupon.events.map((e) => e.name), ['coupon.rejected']);
  assert.deepEqual(errors, []);
  await page.close();
});
