// The JavaScript API against the real jco-transpiled component and a real HTTP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, StatusCode, createSdk, traceparent, withSpan } from '../../dist/index.js';
import { loadCoreModule, startSink } from './support.mjs';

/** An SDK of its own for each test, sending to `sink`. */
function sdkFor(sink, options = {}) {
  return createSdk({ endpoint: sink.url, serviceName: 'node-test', loadCoreModule, flushOnHide: false, ...options });
}

test('spans made through the API reach the collector with their IDs, parents and data', async () => {
  const sink = await startSink();
  const sdk = await sdkFor(sink);
  const tracer = sdk.tracer;
  const root = tracer.startSpan('checkout', { kind: SpanKind.Server, attributes: { 'cart.items': 3, 'cart.total': 19.99, vip: true, tags: ['a', 'b'] } });
  const child = withSpan(root, () => tracer.startSpan('payment', { kind: SpanKind.Client }));
  child.addEvent('card.validated', { 'card.brand': 'visa' });
  child.recordException(new TypeError('declined'));
  child.setStatus({ code: StatusCode.Error, message: 'declined' });
  child.end();
  root.setStatus({ code: StatusCode.Ok });
  root.end();
  sdk.flush();
  await sink.waitFor(1);
  const spans = sink.spans();
  assert.equal(spans.length, 2);
  const [payment, checkout] = spans;
  assert.equal(payment.traceId, checkout.traceId);
  assert.equal(payment.parentSpanId, checkout.spanId);
  assert.equal(payment.traceId, root.spanContext().traceId);
  assert.equal(checkout.spanId, root.spanContext().spanId);
  assert.match(checkout.traceId, /^[0-9a-f]{32}$/);
  assert.equal(checkout.kind, 2);
  assert.equal(payment.kind, 3);
  assert.deepEqual(
    Object.fromEntries(checkout.attributes.map((a) => [a.key, a.value])),
    {
      'cart.items': { intValue: '3' },
      'cart.total': { doubleValue: 19.99 },
      vip: { boolValue: true },
      tags: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } },
    },
  );
  assert.equal(payment.events[0].name, 'card.validated');
  const exception = payment.events[1];
  assert.equal(exception.name, 'exception');
  const attrs = Object.fromEntries(exception.attributes.map((a) => [a.key, a.value.stringValue]));
  assert.equal(attrs['exception.type'], 'TypeError');
  assert.equal(attrs['exception.message'], 'declined');
  assert.match(attrs['exception.stacktrace'], /TypeError: declined/);
  assert.deepEqual(payment.status, { code: 2, message: 'declined' });
  assert.deepEqual(checkout.status, { code: 1 });
  // Times are Unix nanoseconds near now, end after start.
  const start = BigInt(checkout.startTimeUnixNano);
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  assert.ok(nowNs - start < 60_000_000_000n && start - nowNs < 1_000_000_000n, `start ${start} vs now ${nowNs}`);
  assert.ok(BigInt(checkout.endTimeUnixNano) >= start);
  assert.equal(sink.requests[0].headers['content-type'], 'application/json');
  const resource = Object.fromEntries(sink.requests[0].body.resourceSpans[0].resource.attributes.map((a) => [a.key, a.value.stringValue]));
  assert.equal(resource['service.name'], 'node-test');
  sdk.shutdown();
  await sink.close();
});

test('traceparent of a span is what W3C expects and a remote parent continues its trace', async () => {
  const sink = await startSink();
  const sdk = await sdkFor(sink);
  const remote = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true };
  const span = sdk.tracer.startSpan('handler', { parent: remote });
  const header = traceparent(span.spanContext());
  assert.match(header, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  span.end();
  sdk.flush();
  await sink.waitFor(1);
  const [received] = sink.spans();
  assert.equal(received.parentSpanId, '00f067aa0ba902b7');
  assert.equal(received.flags & 0x300, 0x300, 'parent marked remote');
  sdk.shutdown();
  await sink.close();
});

test('an unsampled parent yields unsampled children that still propagate', async () => {
  const sink = await startSink();
  const sdk = await sdkFor(sink);
  const remote = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 0, isRemote: true };
  const span = sdk.tracer.startSpan('handler', { parent: remote });
  assert.equal(span.isRecording(), false);
  assert.match(traceparent(span.spanContext()), /-00$/);
  span.end();
  sdk.flush();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(sink.requests.length, 0);
  sdk.shutdown();
  await sink.close();
});

test('a full batch is sent at once, a partial one after the delay', async () => {
  const sink = await startSink();
  const sdk = await sdkFor(sink, { batch: { size: 10, delayMs: 100 } });
  for (let i = 0; i < 13; i++) sdk.tracer.startSpan(`s${i}`).end();
  await sink.waitFor(1);
  assert.equal(sink.spans().length, 10, 'the full batch went at once');
  await sink.waitFor(2, 2000);
  assert.equal(sink.spans().length, 13, 'the rest after the delay');
  sdk.shutdown();
  await sink.close();
});

test('values the SDK cannot carry are skipped without breaking the span', async () => {
  const sink = await startSink();
  const sdk = await sdkFor(sink);
  const span = sdk.tracer.startSpan('odd');
  span.setAttribute('obj', { a: 1 });
  span.setAttribute('mixed', [1, 'a']);
  span.setAttribute('nan', NaN);
  span.setAttribute('infinities', [1.5, -Infinity]);
  span.setAttribute('big', 2n ** 63n - 1n);
  span.setAttribute('ok', 'yes');
  span.setAttribute('huge', 1e21);
  span.setAttribute('tiny', [-1.5e-7, 0.1]);
  span.end();
  sdk.flush();
  await sink.waitFor(1);
  const attributes = Object.fromEntries(sink.spans()[0].attributes.map((a) => [a.key, a.value]));
  assert.deepEqual(attributes, {
    big: { intValue: '9223372036854775807' },
    ok: { stringValue: 'yes' },
    huge: { doubleValue: 1e21 },
    tiny: { arrayValue: { values: [{ doubleValue: -1.5e-7 }, { doubleValue: 0.1 }] } },
  });
  assert.equal(sink.spans()[0].droppedAttributesCount, 2, 'non-finite numbers are dropped and counted by the component');
  sdk.shutdown();
  await sink.close();
});

test('a deferred span is recorded only once used, with its original start time', async () => {
  const sink = await startSink();
  const sdk = await sdkFor(sink);
  const tracer = sdk.tracer;
  const abandoned = tracer.startSpan('abandoned', { deferred: true });
  const begun = tracer.startSpan('begun', { deferred: true, attributes: { a: 1 } });
  const used = tracer.startSpan('used', { deferred: true });
  await new Promise((r) => setTimeout(r, 20));
  begun.begin().end();
  used.setAttribute('b', 2);
  used.end();
  sdk.flush();
  await sink.waitFor(1);
  const spans = Object.fromEntries(sink.spans().map((s) => [s.name, s]));
  assert.deepEqual(Object.keys(spans).sort(), ['begun', 'used']);
  assert.equal(abandoned.isRecording(), true, 'still a live handle: it records if used later');
  assert.deepEqual(spans.begun.attributes, [{ key: 'a', value: { intValue: '1' } }]);
  assert.deepEqual(spans.used.attributes, [{ key: 'b', value: { intValue: '2' } }]);
  const ms = (s, edge) => Number(BigInt(s[`${edge}TimeUnixNano`]) / 1000n) / 1000;
  assert.ok(ms(spans.begun, 'end') - ms(spans.begun, 'start') >= 15, 'the start is when the span was created, not when it began');
  const stats = sdk.stats();
  assert.equal(stats.spansStarted, 2n, 'the abandoned span never reached the component');
  assert.equal(stats.spansEnded, 2n);
  sdk.shutdown();
  await sink.close();
});
