/**
 * Per-span page: ours beside OpenTelemetry JS 2.x in one page, the same loop for both:
 * start a span, set one string attribute with a unique value (a URL with the index), end it.
 *
 * - ours: the SDK's own `createSdk` (src/sdk.ts, default batch 512), built with its fetch
 *   transport swapped for `drop-transport.ts`, which counts and drops the OTLP payload
 *   bytes the component hands over synchronously during `apply` and `flush`.
 * - OTel: WebTracerProvider + BatchSpanProcessor (batch 512, a queue large enough not to
 *   drop) + an exporter that runs `JsonTraceSerializer.serializeRequest` and drops the bytes.
 *
 * - ours, public: the built package's `createSdk` (dist/min/core.js) with its real
 *   `FetchTransport`, only `fetch` replaced by a stub that counts the body and answers 200
 *   at once; the run ends when every span was handed to `fetch` (8 requests in flight at
 *   most, as in a page: the rest waits in the component's queue, 1 << 20 spans as OTel's).
 *
 * Each is measured in one burst (all spans, then the flush), in steady state (a task yield
 * after every 512 spans) and hot (recording only); ours also with a busy transport (record +
 * apply, no encoding) for the breakdown. run.mjs calls `window.perSpan.*`, alternating ours
 * and OTel, and takes medians.
 */

import { context } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NoopSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  StackContextManager,
  WebTracerProvider,
} from '@opentelemetry/sdk-trace-web';
import type { Tracer } from '../../src/core/tracer.js';
import { type Sdk, createSdk } from '../../src/sdk.js';
import { type Sink, resetSink, sinkFor } from './drop-transport.js';
import { type Sdk as PublicSdk, createSdk as createPublicSdk } from '../../dist/min/core.js';

const NAME = 'GET /api/items';
const KEY = 'url.full';
const URL_PREFIX = 'https://shop.example.com/api/items?page=';

/** One measured run: wall time, spans that reached bytes, bytes and payloads produced. */
interface Run {
  ms: number;
  spans: number;
  bytes: number;
  payloads: number;
}

// The two recording loops are separate functions so that each is optimised for one SDK.
// Spans `from` .. `to` - 1 (the index makes each attribute value unique).

function recordOurs(tracer: Tracer, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const span = tracer.startSpan(NAME);
    span.setAttribute(KEY, URL_PREFIX + i);
    span.end();
  }
}

function recordOtel(tracer: ReturnType<WebTracerProvider['getTracer']>, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const span = tracer.startSpan(NAME);
    span.setAttribute(KEY, URL_PREFIX + i);
    span.end();
  }
}

/** Spans per chunk in the steady measures (the batch size of both SDKs). */
const CHUNK = 512;
const channel = new MessageChannel();

/** Yields to the event loop (a task, without setTimeout's 4 ms clamp), so timers, promises and GC can run. */
function yieldTask(): Promise<void> {
  return new Promise((resolve) => {
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

/** Milliseconds that the chunked loops of n spans spend in yields alone (subtracted from them). */
async function yieldsMs(n: number): Promise<number> {
  const t0 = performance.now();
  for (let done = 0; done < n; done += CHUNK) await yieldTask();
  return performance.now() - t0;
}

/** OTel exporter that serialises each batch to OTLP/JSON bytes and drops them. */
class SerializeAndDropExporter implements SpanExporter {
  spans = 0;
  bytes = 0;
  payloads = 0;

  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    const body = JsonTraceSerializer.serializeRequest(spans);
    this.spans += spans.length;
    this.bytes += body?.length ?? 0;
    this.payloads++;
    done({ code: 0 });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

let ours: Sdk; // to-bytes: records, applies every 512 spans, encodes, hands bytes over
let oursHot: Sdk; // hot: its tracer's batches are discarded instead of applied
let oursBusy: Sdk; // breakdown: its transport says busy, so nothing is encoded
let oursSink: Sink; // what ours' transport received
let oursPublic: PublicSdk; // the built package with its real transport over a stubbed fetch
const stubbed = { payloads: 0, bytes: 0 };
let otel: WebTracerProvider;
let otelHot: WebTracerProvider;
const exporter = new SerializeAndDropExporter();

/** Creates both SDKs' instances (once per page). */
async function setup(): Promise<{ isolated: boolean; resolutionUs: number }> {
  // No automatic instrumentation (src/sdk.ts installs only what it is given): only the loop's spans are recorded.
  const off: [] = [];
  // Each instance gets its own traces URL, hence its own sink.
  const url = (name: string) => `${location.origin}/${name}/v1/traces`;
  const create = (name: string) => createSdk({ endpoint: url(name), serviceName: 'bench', instrumentations: off });
  ours = await create('ours');
  oursHot = await create('hot');
  oursBusy = await create('busy');
  oursSink = sinkFor(url('ours'));
  sinkFor(url('busy')).accept = false;
  // Recording only: drop each batch of 512 ended spans where the tracer would hand it to
  // the component (and arm its timer).
  const hotTracer = oursHot.tracer as unknown as { spanEnded(): void; apply(): void; writer: Tracer['writer'] };
  hotTracer.spanEnded = function (this: typeof hotTracer) {
    if (++this.writer.ended >= 512) this.writer.drain();
  };
  hotTracer.apply = function (this: typeof hotTracer) {
    this.writer.drain();
  };

  // The real FetchTransport keeps the fetch it finds at creation: hand it the stub.
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    if (init?.method !== 'POST') return realFetch(input, init); // the SDK loading its wasm
    stubbed.payloads++;
    stubbed.bytes += (init.body as Uint8Array).length;
    return new Response('{}', { status: 200 });
  };
  // Plain JSON, as OpenTelemetry's exporter sends by default (gzip's cost and gain: bench/payload.mjs).
  oursPublic = await createPublicSdk({ endpoint: url('public'), serviceName: 'bench', compression: 'none', batch: { maxQueueSize: 1 << 20 } });
  globalThis.fetch = realFetch;

  context.setGlobalContextManager(new StackContextManager().enable());
  const resource = resourceFromAttributes({ 'service.name': 'bench' });
  const batch = { maxExportBatchSize: 512, maxQueueSize: 1 << 20, scheduledDelayMillis: 5000 };
  otel = new WebTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter, batch)] });
  otelHot = new WebTracerProvider({ resource, spanProcessors: [new NoopSpanProcessor()] });
  return { isolated: crossOriginIsolated, resolutionUs: timerResolutionUs() };
}

/** Smallest non-zero step of `performance.now()`, in µs. */
function timerResolutionUs(): number {
  let step = Infinity;
  for (let i = 0; i < 1000; i++) {
    const a = performance.now();
    let b = performance.now();
    while (b === a) b = performance.now();
    step = Math.min(step, b - a);
  }
  return step * 1000;
}

/** Ours, to-bytes in one burst: record n spans, then `flush()` (applies the rest, encodes, hands bytes over). */
function oursToBytes(n: number): Run {
  resetSink(oursSink);
  const t0 = performance.now();
  recordOurs(ours.tracer, 0, n);
  ours.flush();
  const ms = performance.now() - t0;
  return { ms, spans: oursSink.spans, bytes: oursSink.bytes, payloads: oursSink.payloads };
}

/**
 * Ours through the public API and the real transport, one burst: record n spans, `flush()`,
 * then yield to the event loop until every span has been exported to the stub fetch (the
 * transport's settled requests free it, and the rest is encoded and sent as they do: that
 * work runs between the yields, so only the yields' own cost is subtracted).
 */
async function oursPublicToBytes(n: number): Promise<Run> {
  const exported = () => Number(oursPublic.stats().spansExported);
  const before = exported();
  stubbed.payloads = 0;
  stubbed.bytes = 0;
  let yields = 0;
  const t0 = performance.now();
  recordOurs(oursPublic.tracer as unknown as Tracer, 0, n);
  oursPublic.flush();
  while (exported() - before < n) {
    await yieldTask();
    yields++;
  }
  const ms = performance.now() - t0 - (await yieldsMs(yields * CHUNK));
  return { ms, spans: exported() - before, bytes: stubbed.bytes, payloads: stubbed.payloads };
}

/** Ours, hot: recording into the typed-array batch only (no apply, no encode). */
function oursRecordOnly(n: number): Run {
  const t0 = performance.now();
  recordOurs(oursHot.tracer, 0, n);
  const ms = performance.now() - t0;
  oursHot.flush();
  return { ms, spans: 0, bytes: 0, payloads: 0 };
}

/** OTel, to-bytes in one burst: record n spans (the processor queues them), then `forceFlush()` (serialises every batch). */
async function otelToBytes(n: number): Promise<Run> {
  exporter.spans = 0;
  exporter.bytes = 0;
  exporter.payloads = 0;
  const tracer = otel.getTracer('bench');
  const t0 = performance.now();
  recordOtel(tracer, 0, n);
  await otel.forceFlush();
  const ms = performance.now() - t0;
  return { ms, spans: exporter.spans, bytes: exporter.bytes, payloads: exporter.payloads };
}

/**
 * Ours, to-bytes in steady state: the same n spans in chunks of 512 with a task yield
 * between chunks (as an app produces spans between event-loop turns), `flush()` at the end.
 * Wall time, the yields' own cost subtracted.
 */
async function oursToBytesSteady(n: number): Promise<Run> {
  const yields = await yieldsMs(n);
  resetSink(oursSink);
  const t0 = performance.now();
  for (let done = 0; done < n; done += CHUNK) {
    recordOurs(ours.tracer, done, Math.min(done + CHUNK, n));
    await yieldTask();
  }
  ours.flush();
  const ms = performance.now() - t0 - yields;
  return { ms, spans: oursSink.spans, bytes: oursSink.bytes, payloads: oursSink.payloads };
}

/** OTel, to-bytes in steady state: as `oursToBytesSteady` (the processor exports each full batch as it comes). */
async function otelToBytesSteady(n: number): Promise<Run> {
  const yields = await yieldsMs(n);
  exporter.spans = 0;
  exporter.bytes = 0;
  exporter.payloads = 0;
  const tracer = otel.getTracer('bench');
  const t0 = performance.now();
  for (let done = 0; done < n; done += CHUNK) {
    recordOtel(tracer, done, Math.min(done + CHUNK, n));
    await yieldTask();
  }
  await otel.forceFlush();
  const ms = performance.now() - t0 - yields;
  return { ms, spans: exporter.spans, bytes: exporter.bytes, payloads: exporter.payloads };
}

/** OTel, hot: spans created and ended under a no-op processor (nothing queued or exported). */
function otelRecordOnly(n: number): Run {
  const tracer = otelHot.getTracer('bench');
  const t0 = performance.now();
  recordOtel(tracer, 0, n);
  const ms = performance.now() - t0;
  return { ms, spans: 0, bytes: 0, payloads: 0 };
}

/**
 * Ours, record + apply without encoding: the same loop on an instance whose transport says
 * busy, so the component builds every span and then drops it (queue full) instead of
 * encoding it. to-bytes minus this is the encode + copy-out share.
 */
function oursApplyOnly(n: number): Run {
  const t0 = performance.now();
  recordOurs(oursBusy.tracer, 0, n);
  oursBusy.tracer.apply();
  const ms = performance.now() - t0;
  return { ms, spans: 0, bytes: 0, payloads: 0 };
}

/**
 * What copying `payloads` bodies of `size` bytes out of a 16 MiB buffer costs
 * (`ArrayBuffer.prototype.slice`, as jco's glue copies each payload out of linear memory).
 */
function copyOutMs(payloads: number, size: number): number {
  const memory = new ArrayBuffer(16 << 20);
  let sum = 0;
  const t0 = performance.now();
  for (let i = 0; i < payloads; i++) {
    const at = (i * 4096) % (memory.byteLength - size);
    sum += new Uint8Array(memory.slice(at, at + size)).length;
  }
  const ms = performance.now() - t0;
  copied = sum;
  return ms;
}

/** Keeps the copies observable. */
export let copied = 0;

/** The component's counters of the to-bytes instance (to check nothing was dropped). */
function oursStats(): Record<string, number> {
  return Object.fromEntries(Object.entries(ours.stats()).map(([k, v]) => [k, Number(v)]));
}

/** A major GC between runs, when Chromium runs with --expose-gc. */
function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

Object.assign(globalThis, {
  perSpan: {
    setup,
    oursToBytes,
    oursPublicToBytes,
    otelToBytes,
    oursToBytesSteady,
    otelToBytesSteady,
    oursRecordOnly,
    otelRecordOnly,
    oursApplyOnly,
    copyOutMs,
    oursStats,
    gc,
  },
});
