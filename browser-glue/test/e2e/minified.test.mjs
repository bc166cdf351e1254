// The minified build (dist/min/) works in the page and in the worker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceparent, startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

test('the page runs the minified SDK: page load, click and fetch spans arrive', { timeout: 30_000 }, async () => {
  const { page, server } = await stack.open('?sdk=min');
  assert.equal(server.config.sdk, '/dist/min/index.js');
  const loaded = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
  assert.ok(loaded.includes('/dist/min/index.js'), `loaded ${loaded.join(', ')}`);
  assert.ok(loaded.includes('/dist/min/tracing.core.wasm'), 'the wasm beside the minified bundle');
  assert.ok(!loaded.includes('/dist/index.js'), 'not the plain bundle');

  const load = await stack.api.waitFor((spans) => spans.find((s) => s.name === 'documentLoad'), { traceId: server.traceId, what: 'documentLoad' });
  assert.equal(load.parentSpanId, server.spanId);

  const since = stack.demo.requests.length;
  const response = page.waitForResponse((r) => r.url().endsWith('/api/cart'));
  await page.click('.product[data-product="3"] .add');
  await response;
  const header = parseTraceparent(stack.demo.requests.slice(since).find((r) => r.path === '/api/cart')?.traceparent);
  assert.ok(header);
  const spans = await stack.api.waitFor((spans) => spans.length >= 3 && spans, { traceId: header.traceId, what: 'click, add_to_cart and fetch spans' });
  const click = spans.find((s) => s.name === 'user.click');
  assert.equal(spans.find((s) => s.spanId === header.spanId).parentSpanId, click.spanId);
  assert.equal(spans.find((s) => s.name === 'add_to_cart').attrs['product.id'], '3');
});

test('the worker runs the minified SDK too', { timeout: 30_000 }, async () => {
  const { page } = await stack.open('?sdk=min');
  const reply = await page.evaluate(() => window.demo.runInWorker(1000));
  const work = await stack.api.waitFor((spans) => spans.find((s) => s.name === 'worker.process'), { traceId: reply.parent.traceId, what: 'worker.process' });
  assert.equal(work.parentSpanId, reply.parent.spanId);
  assert.equal(work.service, 'demo-shop-worker');
});
