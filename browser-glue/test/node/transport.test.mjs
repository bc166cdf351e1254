// The fetch transport against a real HTTP server: retries, Retry-After, and what is not retried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSdk } from '../../dist/index.js';
import { loadCoreModule, startSink } from './support.mjs';

async function sendOne(script) {
  const sink = await startSink(script);
  const sdk = await createSdk({ endpoint: `${sink.url}/v1/traces`, serviceName: 'retry', loadCoreModule, flushOnHide: false });
  sdk.tracer.startSpan('s').end();
  sdk.flush();
  const deadline = Date.now() + 5000;
  while (sdk.deliveries().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return { sink, sdk, report: sdk.deliveries()[0] };
}

test('503 and 429 are retried, honouring Retry-After, until delivered', async () => {
  const { sink, sdk, report } = await sendOne([
    [503, { 'retry-after': '0' }],
    [429, { 'retry-after': '0' }],
  ]);
  assert.deepEqual(report, { spans: 1, ok: true, attempts: 3, status: 200 });
  assert.equal(sink.requests.length, 3);
  assert.equal(sink.requests[0].url, '/v1/traces');
  assert.deepEqual(sink.requests[2].body, sink.requests[0].body, 'the same payload is resent');
  sdk.shutdown();
  await sink.close();
});

test('a 400 is not retried: the payload is given up and counted', async () => {
  const { sink, sdk, report } = await sendOne([[400, {}]]);
  assert.deepEqual(report, { spans: 1, ok: false, attempts: 1, status: 400 });
  sdk.shutdown();
  await sink.close();
});

test('the exporter sends OTLP JSON with keepalive-safe sizes and its own headers', async () => {
  const sink = await startSink();
  const sdk = await createSdk({ endpoint: sink.url, serviceName: 'h', loadCoreModule, flushOnHide: false, headers: { 'x-api-key': 'k' } });
  sdk.tracer.startSpan('s').end();
  sdk.flush();
  await sink.waitFor(1);
  assert.equal(sink.requests[0].headers['x-api-key'], 'k');
  assert.equal(sink.requests[0].method, 'POST');
  sdk.shutdown();
  await sink.close();
});
