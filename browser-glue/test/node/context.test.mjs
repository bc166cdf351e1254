// The active span across `await` (no zone.js): what `traceAsync` keeps active, and what
// happens when flows overlap, through the public API of the built package.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FLOW_LIMIT_MS, activeSpan, flush, init, shutdown, startSpan, traceAsync, withSpan } from '../../dist/index.js';
import { loadCoreModule, startSink } from './support.mjs';

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));
const id = (span) => span?.spanContext().spanId;

let sink;
before(async () => {
  sink = await startSink();
  await init({ endpoint: sink.url, serviceName: 'context-test', loadCoreModule, flushOnHide: false, instrumentations: { fetch: false, xhr: false } });
});
after(async () => {
  shutdown();
  await sink.close();
});

test('traceAsync keeps its span active across awaits, and children started there reach the receiver under it', async () => {
  let checkout;
  let afterAwait;
  await traceAsync('checkout', async (span) => {
    checkout = span;
    await tick();
    afterAwait = activeSpan();
    startSpan('payment').end();
    await tick();
    startSpan('order').end();
  });
  assert.equal(id(afterAwait), id(checkout));
  assert.equal(activeSpan(), undefined, 'nothing stays active once the flow settled');
  flush();
  await sink.waitFor(1);
  const spans = sink.spans();
  const parent = spans.find((s) => s.name === 'checkout');
  for (const name of ['payment', 'order']) {
    const child = spans.find((s) => s.name === name);
    assert.equal(child.traceId, parent.traceId, name);
    assert.equal(child.parentSpanId, parent.spanId, name);
  }
});

test('nested flows: the inner span while it runs, the outer one again after it settled', async () => {
  const seen = {};
  await traceAsync('outer', async (outer) => {
    seen.outer = outer;
    await traceAsync('inner', async (inner) => {
      seen.inner = inner;
      await tick();
      seen.inInner = activeSpan();
    });
    await tick();
    seen.afterInner = activeSpan();
  });
  assert.equal(id(seen.inInner), id(seen.inner));
  assert.equal(id(seen.afterInner), id(seen.outer));
  assert.equal(seen.inner.spanContext().traceId, seen.outer.spanContext().traceId);
});

test('synchronous code keeps its exact parent while a flow it started is pending', async () => {
  const root = startSpan('page');
  let pending;
  const sibling = withSpan(root, () => {
    pending = traceAsync('background', () => tick(5));
    return startSpan('sibling'); // still inside withSpan(root): root, not the pending flow
  });
  assert.equal(sibling.spanContext().traceId, root.spanContext().traceId);
  await pending;
  sibling.end();
  root.end();
  flush();
  await sink.waitFor(2);
  const spans = sink.spans();
  const page = spans.find((s) => s.name === 'page');
  assert.equal(spans.find((s) => s.name === 'sibling').parentSpanId, page.spanId);
  assert.equal(spans.find((s) => s.name === 'background').parentSpanId, page.spanId);
});

test('overlapping flows of different traces give no parent rather than a wrong one', async () => {
  const seen = {};
  let releaseA;
  const a = traceAsync('flow-a', async (span) => {
    seen.a = span;
    await new Promise((r) => (releaseA = r));
    seen.inA = activeSpan(); // flow B is still open: ambiguous
  }, { parent: null });
  const b = traceAsync('flow-b', async (span) => {
    seen.b = span;
    await tick();
    releaseA();
    await tick(5);
    seen.inBAlone = activeSpan(); // A settled: only B is open
  }, { parent: null });
  await Promise.all([a, b]);
  assert.notEqual(seen.a.spanContext().traceId, seen.b.spanContext().traceId);
  assert.equal(seen.inA, undefined);
  assert.equal(id(seen.inBAlone), id(seen.b));
  assert.equal(activeSpan(), undefined);
});

test('a flow that has not settled after FLOW_LIMIT_MS is nobody\'s implicit parent any more', async () => {
  let release;
  let stuck;
  const pending = traceAsync('poll', async (span) => {
    stuck = span;
    await new Promise((r) => (release = r));
  });
  await tick();
  assert.equal(id(activeSpan()), id(stuck), 'a live flow is the implicit parent');
  const realNow = performance.now;
  performance.now = () => realNow.call(performance) + FLOW_LIMIT_MS + 1;
  try {
    assert.equal(activeSpan(), undefined);
  } finally {
    performance.now = realNow;
  }
  release();
  await pending;
});
