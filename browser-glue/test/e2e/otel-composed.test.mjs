// The wasi:otel example guest composed with the tracing component (`just compose`) in
// headless Chromium through jco, in its three builds: for wasm32-unknown-unknown (its one
// WASI import the wall clock), the same against the tag text of 0.2.0-rc.2 (it asks
// `outer-span-context` and keeps its own nesting), and for wasm32-wasip2 (std on WASI 0.2,
// IDs from `wasi:random`, all given by jco's browser shims). The guest's own SDK hands finished spans and log
// records to the tracing component's wasi:otel exports, and they reach the real collector
// nested under the page's span (`current-span-context`), with the JSON attribute values read.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { logRecords, startComposition } from './composition.mjs';

const SERVICE = 'otel-composed-e2e';

/** The guest's builds, composed and transpiled into gen/`dir`/, and the page script of each. */
const BUILDS = [
  { build: 'for wasm32-unknown-unknown', dir: 'otel-composed', app: './otel-composed-app.js' },
  { build: 'against the tag text', dir: 'otel-tag-text-composed', app: './otel-composed-app.js' },
  { build: 'for wasm32-wasip2', dir: 'otel-wasip2-composed', app: './otel-wasip2-composed-app.js' },
];

for (const { build, dir, app } of BUILDS) describe(`the guest built ${build}`, () => {
  let composition;
  let stack;
  before(async () => {
    composition = await startComposition({ dir, app, service: SERVICE });
    stack = composition.stack;
  }, { timeout: 60_000 });
  after(() => composition?.stop(), { timeout: 30_000 });

  const openComposed = () => composition.open();

  test('the guest\'s spans arrive under the page\'s span, with every JSON attribute shape read', { timeout: 30_000 }, async () => {
    const { page, errors } = await openComposed();
    const before = Date.now();
    const { reservation } = await page.evaluate(() => window.app.reserve('CUP-PORCELAIN', 4, true));
    assert.deepEqual(reservation, { sku: 'CUP-PORCELAIN', reserved: 4, remaining: 2 });
    await page.evaluate(() => window.app.flush());

    const [pageSpan] = await stack.api.waitFor((spans) => spans.filter((s) => s.name === 'click reserve').length > 0 && spans.filter((s) => s.name === 'click reserve'), { what: 'the page span' });
    const spans = await stack.api.waitFor((spans) => spans.length >= 4 && spans, { traceId: pageSpan.traceId, what: 'the page span and the guest\'s three' });
    assert.equal(spans.length, 4, spans.map((s) => s.name).join(', '));
    const named = (name) => spans.find((s) => s.name === name);
    const reserve = named('inventory.reserve');
    assert.equal(reserve.parentSpanId, pageSpan.spanId, 'the guest\'s root hangs under the page\'s open span');
    assert.equal(named('stock.lookup').parentSpanId, reserve.spanId);
    assert.equal(named('stock.update').parentSpanId, reserve.spanId);
    for (const span of spans) assert.equal(span.service, SERVICE);
    for (const name of ['inventory.reserve', 'stock.lookup', 'stock.update']) {
      assert.equal(named(name).scope, 'otel-guest', name);
      const start = Number(BigInt(named(name).startTimeUnixNano) / 1_000_000n);
      assert.ok(start >= before - 1_000 && start <= Date.now(), `${name} is stamped by the browser's wall clock`);
    }
    assert.equal(pageSpan.scope, 'page');
    assert.deepEqual(
      { sku: reserve.attrs['product.sku'], quantity: reserve.attrs['reserve.quantity'], remaining: reserve.attrs['reserve.remaining'] },
      { sku: 'CUP-PORCELAIN', quantity: 4, remaining: 2 },
    );
    const lookup = named('stock.lookup');
    assert.deepEqual(
      [lookup.attrs['stock.on_hand'], lookup.attrs['stock.unit_weight_kg'], lookup.attrs['stock.warehouses'], lookup.attrs['stock.location']],
      [6, 0.3, ['lyon'], { aisle: 'C1', bay: '4' }],
    );
    assert.equal(named('stock.update').attrs['stock.low'], true);
    assert.deepEqual(reserve.events.map((e) => e.name), ['reservation.made']);

    const [record] = await logRecords(stack, pageSpan.traceId);
    assert.equal(record.spanId, reserve.spanId, 'the low-stock record belongs to inventory.reserve');
    assert.equal(record.severityNumber, 9);
    assert.equal(record.body?.stringValue, 'stock of CUP-PORCELAIN is low: 2 left');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('without a page span the guest starts its own trace; a refusal is an error and a warning', { timeout: 30_000 }, async () => {
    const { page, errors } = await openComposed();
    const { error } = await page.evaluate(() => window.app.reserve('TEA-BLACK-250', 41, false));
    assert.equal(error, 'not enough stock: TEA-BLACK-250');
    await page.evaluate(() => window.app.flush());

    const [root] = await stack.api.waitFor((spans) => {
      const roots = spans.filter((s) => s.name === 'inventory.reserve' && s.status?.code === 2);
      return roots.length > 0 && roots;
    }, { what: 'the refused reservation' });
    assert.equal(root.parentSpanId, '', 'a root span');
    assert.deepEqual(root.status, { code: 2, message: error });
    assert.deepEqual(root.events.map((e) => [e.name, e.attrs['exception.type'], e.attrs['exception.message']]), [['exception', 'InsufficientStock', error]]);
    const [record] = await logRecords(stack, root.traceId);
    assert.equal(record.severityNumber, 13);
    assert.equal(record.body?.stringValue, `reservation refused: ${error}`);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
