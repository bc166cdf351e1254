// The page-load span in a real browser, read back from the real collector.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';

let stack;
before(async () => (stack = await startStack()), { timeout: 30_000 });
after(() => stack?.stop(), { timeout: 30_000 });

/** Navigation Timing phases that a page served over loopback always has. */
const REQUIRED_PHASES = ['fetchStart', 'requestStart', 'responseStart', 'responseEnd', 'domInteractive', 'domContentLoadedEventStart', 'domContentLoadedEventEnd', 'domComplete', 'loadEventStart', 'loadEventEnd'];

test('documentLoad continues the server <meta name="traceparent">, with timing events, a documentFetch and resourceFetch children', { timeout: 30_000 }, async () => {
  const { page, server } = await stack.open();
  assert.equal(await page.$eval('meta[name="traceparent"]', (m) => m.content), server.traceparent, 'the page carries what the server rendered');

  const { load, documentFetch, resources } = await stack.api.waitFor(
    (spans) => {
      const load = spans.find((s) => s.name === 'documentLoad');
      const documentFetch = spans.find((s) => s.name === 'documentFetch');
      const resources = spans.filter((s) => s.name === 'resourceFetch');
      return load && documentFetch && resources.length >= 4 && { load, documentFetch, resources };
    },
    { traceId: server.traceId, what: 'documentLoad, documentFetch and 4 resourceFetch spans in the server trace' },
  );

  // Parented to the server's span context.
  assert.equal(load.traceId, server.traceId);
  assert.equal(load.parentSpanId, server.spanId);
  assert.equal(load.flags & 0x300, 0x300, 'parent is marked remote');
  assert.equal(load.kind, 1, 'internal');
  assert.equal(load.scope, '@wasm-otlp/instrumentation-page-load');
  assert.equal(load.service, 'demo-shop');
  assert.equal(load.resource['telemetry.sdk.name'], 'wasm-otlp');
  assert.equal(load.attrs['url.full'], `${stack.demo.url}/`);
  assert.equal(load.attrs['navigation.type'], 'navigate');
  assert.match(load.attrs['user_agent.original'], /HeadlessChrome|Chrome/);

  // Navigation Timing phases as events, in order, inside the span.
  const names = load.events.map((e) => e.name);
  for (const phase of REQUIRED_PHASES) assert.ok(names.includes(phase), `event ${phase} in ${names.join(', ')}`);
  const start = BigInt(load.startTimeUnixNano);
  const end = BigInt(load.endTimeUnixNano);
  assert.ok(end > start);
  let previous = start;
  for (const phase of REQUIRED_PHASES) {
    const t = BigInt(load.events.find((e) => e.name === phase).timeUnixNano);
    assert.ok(t >= previous && t <= end, `${phase} at ${t} after the previous phase (${previous}) and before the end (${end})`);
    previous = t;
  }
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  assert.ok(nowNs - start < 60_000_000_000n && start - nowNs < 5_000_000_000n, `start ${start} near now ${nowNs}`);

  // The document request.
  assert.equal(documentFetch.traceId, server.traceId);
  assert.equal(documentFetch.parentSpanId, load.spanId);
  assert.equal(documentFetch.kind, 3, 'client');
  assert.equal(documentFetch.attrs['url.full'], `${stack.demo.url}/`);
  assert.equal(documentFetch.attrs['http.response.status_code'], 200);
  assert.equal(documentFetch.attrs['network.protocol.name'], 'http/1.1');

  // A child per resource loaded before `load`: stylesheet, image, the app and the SDK.
  for (const r of resources) {
    assert.equal(r.parentSpanId, load.spanId);
    assert.equal(r.kind, 3);
    assert.ok(BigInt(r.endTimeUnixNano) >= BigInt(r.startTimeUnixNano));
  }
  const byUrl = Object.fromEntries(resources.map((r) => [r.attrs['url.full'].slice(stack.demo.url.length), r.attrs['resource.initiator_type']]));
  assert.equal(byUrl['/demo/style.css'], 'link');
  assert.equal(byUrl['/demo/product.svg'], 'img');
  assert.equal(byUrl['/demo/app.js'], 'script');
  assert.equal(byUrl['/dist/index.js'], 'script');
  assert.ok(!Object.keys(byUrl).some((u) => u.includes('/v1/traces')), 'the exporter is not traced');
});

test('each page load continues its own server span context', { timeout: 30_000 }, async () => {
  const first = await stack.open();
  const second = await stack.open();
  assert.notEqual(first.server.traceId, second.server.traceId);
  for (const { server } of [first, second]) {
    const load = await stack.api.waitFor((spans) => spans.find((s) => s.name === 'documentLoad'), { traceId: server.traceId, what: `documentLoad in ${server.traceId}` });
    assert.equal(load.parentSpanId, server.spanId);
  }
});
