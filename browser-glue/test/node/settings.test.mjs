// Settings and W3C headers on the JavaScript side: the browser component takes its
// configuration and scopes as recorder operations and leaves header parsing to the SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSdk, extractContext } from '../../dist/index.js';
import { loadCoreModule, startSink } from './support.mjs';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('settings the component refuses reject init with its reason', async () => {
  const sink = await startSink();
  const options = { endpoint: sink.url, serviceName: 'node-test', loadCoreModule, flushOnHide: false };
  await assert.rejects(createSdk({ ...options, sampler: { type: 'traceidratio', ratio: 1.5 } }), /wasm-otlp: sampling ratio must be a number within 0\.0\.\.=1\.0/);
  await assert.rejects(createSdk({ ...options, batch: { size: 0 } }), /at least 1/);
  await assert.rejects(createSdk({ ...options, limits: { valueLength: 0 } }), /max-value-length must be at least 1/);
  await sink.close();
});

test('resource attributes of every type, limits and registered scopes reach the payload', async () => {
  const sink = await startSink();
  const sdk = await createSdk({
    endpoint: sink.url,
    serviceName: 'node-test-service-with-a-long-name',
    serviceVersion: '1.2.3',
    resource: { env: 'test', 'host.cores': 2, 'feature.flags': ['a', 'b'] },
    // Strings (keys and names too) cut at 16 bytes.
    limits: { valueLength: 16 },
    loadCoreModule,
    flushOnHide: false,
    instrumentations: { fetch: false, xhr: false },
  });
  const scope = sdk.registerScope('my-lib', '4.5.6');
  sdk.tracer.startSpan('a-very-long-span-name', { scope }).end();
  sdk.tracer.startSpan('default').end();
  sdk.flush();
  await sink.waitFor(1);
  const resourceSpans = sink.requests[0].body.resourceSpans[0];
  const resource = Object.fromEntries(resourceSpans.resource.attributes.map((a) => [a.key, a.value]));
  assert.deepEqual(resource['service.name'], { stringValue: 'node-test-servic' }, 'the limits apply to the resource');
  assert.deepEqual(resource.env, { stringValue: 'test' });
  assert.deepEqual(resource['service.version'], { stringValue: '1.2.3' });
  assert.deepEqual(resource['host.cores'], { intValue: '2' });
  assert.deepEqual(resource['feature.flags'], { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } });
  const scopes = Object.fromEntries(resourceSpans.scopeSpans.map((s) => [s.scope.name, s]));
  assert.equal(scopes['my-lib'].scope.version, '4.5.6');
  assert.deepEqual(scopes['my-lib'].spans.map((s) => s.name), ['a-very-long-span']);
  assert.deepEqual(scopes['@wasm-otlp/brows'].spans.map((s) => s.name), ['default'], "the SDK's own scope, cut too");
  sdk.shutdown();
  await sink.close();
});

test('extractContext follows W3C Trace Context as the component does', () => {
  const ok = (traceparent, tracestate) => extractContext({ traceparent, tracestate });
  assert.deepEqual(ok(`00-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, traceFlags: 1, traceState: undefined, isRemote: true });
  assert.deepEqual(ok(` \t00-${TRACE}-${SPAN}-00 `, 'rojo=00f067aa0ba902b7, ,congo=t61rcWkgMzE'), {
    traceId: TRACE,
    spanId: SPAN,
    traceFlags: 0,
    traceState: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    isRemote: true,
  });
  assert.equal(ok(`01-${TRACE}-${SPAN}-01-future`).spanId, SPAN, 'a later version may add fields');
  assert.equal(ok(`00-${TRACE}-${SPAN}-01`, 'tenant@vendor=1,0digit=2').traceState, 'tenant@vendor=1,0digit=2');
  // An invalid tracestate is dropped; the traceparent stands.
  for (const tracestate of ['not a valid tracestate', 'a=1,a=2', 'Upper=1', 'k=', 'k=v\u0001', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')]) {
    assert.equal(ok(`00-${TRACE}-${SPAN}-01`, tracestate).traceState, undefined, tracestate);
  }
  for (const traceparent of [
    `00-${'0'.repeat(32)}-${SPAN}-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE.toUpperCase()}-${SPAN}-01`,
    `ff-${TRACE}-${SPAN}-01`,
    `00-${TRACE}-${SPAN}-01-extra`,
    `01-${TRACE}-${SPAN}-01extra`,
    `00-${TRACE}-${SPAN}`,
    `00_${TRACE}_${SPAN}_01`,
    '',
  ]) {
    assert.equal(ok(traceparent), undefined, traceparent);
  }
});
