// Bytes on the wire per span: this SDK's OTLP/JSON payloads beside OpenTelemetry JS's
// (`JsonTraceSerializer`, what its OTLP/HTTP JSON exporter sends), plain and gzipped, for
// the same spans: a page's mix of fetch client spans, clicks and a page load. Also how
// many spans one request carries within the browser's 60 KB keep-alive budget.
//
//   just bench-payload        (= just build-browser && cd browser-glue && node bench/payload.mjs)
//
// Runs in Node with the built package (dist/) and the real component; `fetch` is replaced
// by a function that keeps the bodies. `performance.now()` is coarsened to 5 µs, as in a
// cross-origin-isolated page (Node's has nanoseconds, whose digits would not compress).
// Gzip is CompressionStream's (zlib's default level), as a browser's.
import { readFile } from 'node:fs/promises';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SpanKind } from '@opentelemetry/api';
import { createSdk } from '../dist/index.js';

const SPANS = 2048;
const realNow = performance.now.bind(performance);
performance.now = () => Math.round(realNow() * 200) / 200;
const KEEPALIVE = 60_000;
const dist = new URL('../dist/', import.meta.url);
const loadCoreModule = async (file) => WebAssembly.compile(await readFile(new URL(file, dist)));

/** The spans, as (name, kind, attributes, events) in traces of 8: a click, 6 requests, a render. */
function* spanMix() {
  for (let i = 0; i < SPANS; i++) {
    const n = i % 8;
    if (n === 0) yield { name: 'click', kind: 'internal', root: true, attributes: { 'event.type': 'click', 'target.xpath': '//*[@id="add-to-cart"]', 'target.element': 'BUTTON', 'page.url': 'https://shop.example/products/1234' } };
    else if (n < 7) {
      const url = `https://api.shop.example/v2/products/${1000 + i}/offers?currency=EUR&page=${n}`;
      yield { name: 'GET', kind: 'client', attributes: { 'http.request.method': 'GET', 'url.full': url, 'server.address': 'api.shop.example', 'server.port': 443, 'http.response.status_code': 200, 'http.response.body.size': 1834 + i } };
    } else yield { name: 'render cart', kind: 'internal', attributes: { 'component': 'Cart', 'items': 3 } , events: ['first-paint'] };
  }
}

async function gzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const resource = { 'service.name': 'shop-web', 'service.version': '1.4.2', 'deployment.environment.name': 'production' };

/** Ours: the bodies the SDK hands to `fetch` (plain), one payload per 512 spans at most. */
async function ours(maxBytes) {
  const bodies = [];
  const stub = async (_url, init) => {
    bodies.push(new Uint8Array(init.body));
    return new Response('{}', { status: 200 });
  };
  const original = globalThis.fetch;
  globalThis.fetch = stub;
  try {
    const sdk = await createSdk({
      endpoint: 'http://collector.test',
      serviceName: resource['service.name'],
      serviceVersion: resource['service.version'],
      resource: { 'deployment.environment.name': resource['deployment.environment.name'] },
      loadCoreModule,
      flushOnHide: false,
      compression: 'none',
      batch: { maxBytes, maxQueueSize: SPANS },
    });
    let root;
    for (const s of spanMix()) {
      const span = sdk.tracer.startSpan(s.name, { kind: s.kind === 'client' ? 2 : 0, parent: s.root ? null : root, attributes: s.attributes });
      for (const e of s.events ?? []) span.addEvent(e);
      if (s.root) root = span;
      else span.end();
      if (!s.root && s.events) root.end();
    }
    sdk.flush();
    for (let i = 0; i < 200 && bodies.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    sdk.shutdown();
  } finally {
    globalThis.fetch = original;
  }
  return bodies;
}

/** OpenTelemetry JS: the same spans through its SDK, serialised in batches of 512. */
function otel() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ ...resource, 'telemetry.sdk.name': 'opentelemetry', 'telemetry.sdk.language': 'webjs' }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('@opentelemetry/instrumentation-fetch', '0.208.0');
  let root;
  const { trace, context } = globalThis.__otelApi;
  for (const s of spanMix()) {
    const ctx = s.root ? context.active() : trace.setSpan(context.active(), root);
    const span = tracer.startSpan(s.name, { kind: s.kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes: s.attributes }, ctx);
    for (const e of s.events ?? []) span.addEvent(e);
    if (s.root) root = span;
    else span.end();
    if (!s.root && s.events) root.end();
  }
  const spans = exporter.getFinishedSpans();
  const bodies = [];
  for (let i = 0; i < spans.length; i += 512) bodies.push(JsonTraceSerializer.serializeRequest(spans.slice(i, i + 512)));
  return bodies;
}

async function measure(label, bodies) {
  const spans = (body) => JSON.parse(new TextDecoder().decode(body)).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).length;
  let plain = 0;
  let zipped = 0;
  let count = 0;
  for (const body of bodies) {
    plain += body.length;
    zipped += (await gzip(body)).length;
    count += spans(body);
  }
  return { label, count, requests: bodies.length, plain: plain / count, gzip: zipped / count, ratio: plain / zipped };
}

globalThis.__otelApi = await import('@opentelemetry/api');
const rows = [
  await measure('ours, batches of 512 spans', await ours(0)),
  await measure('ours, default bound (240 KB JSON, gzip on)', await ours(240_000)),
  await measure('ours, 60 KB JSON (gzip off)', await ours(KEEPALIVE)),
  await measure('OpenTelemetry JS 2.12 JsonTraceSerializer, batches of 512', otel()),
];
const otelRow = rows.at(-1);
console.log(`${SPANS} spans (traces of 8: a click, 6 fetches, a render), ${new Date().toISOString().slice(0, 10)}, node ${process.version}\n`);
console.log('| payloads | requests | JSON B/span | gzip B/span | gzip ratio | spans per 60 KB (JSON / gzip) | vs OTel JSON |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const per = (b) => Math.floor(KEEPALIVE / b);
  console.log(`| ${r.label} | ${r.requests} | ${r.plain.toFixed(0)} | ${r.gzip.toFixed(0)} | ${r.ratio.toFixed(1)}x | ${per(r.plain)} / ${per(r.gzip)} | ${(r.plain / otelRow.plain).toFixed(2)}x JSON, ${(r.gzip / otelRow.plain).toFixed(2)}x gzipped |`);
}
