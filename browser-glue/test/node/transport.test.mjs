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
  assert.deepEqual(report, { url: `${sink.url}/v1/traces`, count: 1, bytes: sink.requests[0].bytes, gzip: true, ok: true, attempts: 3, status: 200 });
  assert.equal(sink.requests.length, 3);
  assert.equal(sink.requests[0].url, '/v1/traces');
  assert.deepEqual(sink.requests[2].body, sink.requests[0].body, 'the same payload is resent');
  sdk.shutdown();
  await sink.close();
});

test('a 400 is not retried: the payload is given up and counted', async () => {
  const { sink, sdk, report } = await sendOne([[400, {}]]);
  assert.deepEqual(report, { url: `${sink.url}/v1/traces`, count: 1, bytes: sink.requests[0].bytes, gzip: true, ok: false, attempts: 1, status: 400 });
  sdk.shutdown();
  await sink.close();
});

test('the exporter sends gzipped OTLP JSON with its own headers and its ingest key', async () => {
  const sink = await startSink();
  const sdk = await createSdk({ endpoint: sink.url, serviceName: 'h', loadCoreModule, flushOnHide: false, headers: { 'x-api-key': 'k' }, key: 'shop-web' });
  sdk.tracer.startSpan('s').end();
  sdk.flush();
  await sink.waitFor(1);
  const [request] = sink.requests;
  assert.equal(request.headers['x-api-key'], 'k');
  assert.equal(request.headers['x-wasm-otlp-key'], 'shop-web');
  assert.equal(request.url, '/v1/traces', 'the key is not in the URL');
  assert.equal(request.method, 'POST');
  assert.equal(request.headers['content-type'], 'application/json');
  assert.equal(request.headers['content-encoding'], 'gzip');
  assert.equal(request.body.resourceSpans[0].scopeSpans[0].spans[0].name, 's');
  sdk.shutdown();
  await sink.close();
});

test("compression: 'none' sends plain JSON", async () => {
  const sink = await startSink();
  const sdk = await createSdk({ endpoint: sink.url, serviceName: 'h', loadCoreModule, flushOnHide: false, compression: 'none' });
  sdk.tracer.startSpan('s').end();
  sdk.flush();
  await sink.waitFor(1);
  assert.equal(sink.requests[0].headers['content-encoding'], undefined);
  assert.equal(sink.requests[0].bytes, sink.requests[0].jsonBytes);
  sdk.shutdown();
  await sink.close();
});

test('payloads are bounded in bytes (the keep-alive budget by default) and lose no span', async () => {
  for (const [compression, maxBytes] of [['none', 60_000], ['gzip', 240_000], ['none', 5_000]]) {
    const sink = await startSink();
    const batch = maxBytes === 5_000 ? { maxBytes } : {};
    const sdk = await createSdk({ endpoint: sink.url, serviceName: 'bytes', loadCoreModule, flushOnHide: false, compression, batch });
    const url = 'https://shop.example/api/items?'.padEnd(300, 'q');
    for (let i = 0; i < 1500; i++) sdk.tracer.startSpan(`s${i}`, { attributes: { 'url.full': url, i } }).end();
    sdk.flush();
    const deadline = Date.now() + 10_000;
    while (sink.spans().length < 1500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(sink.spans().length, 1500, `${compression} ${maxBytes}`);
    assert.equal(new Set(sink.spans().map((s) => s.spanId)).size, 1500, 'each span once');
    for (const request of sink.requests) {
      assert.ok(request.jsonBytes <= maxBytes, `${compression}: a ${request.jsonBytes}-byte body over ${maxBytes}`);
    }
    assert.ok(sink.requests.length >= 3, `${compression} ${maxBytes}: ${sink.requests.length} requests`);
    sdk.shutdown();
    await sink.close();
  }
});
