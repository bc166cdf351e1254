// The page of otel-composed.test.mjs: the wasi:otel example guest composed with the
// tracing component (`just compose`, transpiled by jco into gen/otel-composed/ by
// `just transpile-composed`), given the SDK's own clock and randomness, jco's browser
// shim of the WASI wall clock (which the guest's SDK stamps its spans with), and a
// transport that POSTs each payload to the collector. Bundled by the test with esbuild.
import { wallClock } from '@bytecodealliance/preview2-shim/clocks';
import { instantiate } from '../../gen/otel-composed/composed.js';
import { hostImports } from '../../src/host/imports.ts';

let composed;
/** Requests still in flight, so that `flush` resolves once they have arrived. */
const inFlight = new Set();

window.app = {
  /** Instantiates the composition and configures its tracing component. */
  async init(endpoint, serviceName) {
    const sender = {
      send(signal, body, count) {
        const request = fetch(`${endpoint}/v1/${signal}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
          .then((response) => {
            if (!response.ok) throw new Error(`${signal}: ${response.status} for ${count} items`);
          })
          .finally(() => inFlight.delete(request));
        inFlight.add(request);
        return true;
      },
    };
    const getCoreModule = (file) => fetch(new URL(file, location.href)).then((r) => r.arrayBuffer()).then((bytes) => WebAssembly.compile(bytes));
    composed = await instantiate(getCoreModule, {
      ...hostImports(sender),
      'wasi:clocks/wall-clock': wallClock,
      'wasi:otel/types': {},
    });
    composed.setup.configure({
      resource: [{ key: 'service.name', value: { tag: 'string', val: serviceName } }],
      defaultScope: { name: 'page', version: '1.0.0', attributes: [] },
      sampler: { tag: 'always-on' },
      limits: { maxAttributes: 128, maxValueLength: 4096, maxEvents: 128, maxLinks: 128, maxAttributesPerItem: 128 },
      batch: { maxExportBatchSize: 512, maxExportBatchBytes: 0, maxQueueSize: 2048, scheduledDelayMs: 5000, maxOpenSpans: 1024 },
    });
  },

  /**
   * Calls the guest's `inventory.reserve` inside a span of the page's own (started through
   * the composition's `tracer`), or outside any when `pageSpan` is false: `{ reservation,
   * pageSpan }` (the page span's IDs as hex) or `{ error }` with its reason.
   */
  reserve(sku, quantity, pageSpan) {
    let handle;
    if (pageSpan) {
      handle = composed.tracer.startSpan('click reserve', { kind: 'internal', parent: { tag: 'none' }, attributes: [], links: [], startTime: undefined, scope: 0 });
    }
    try {
      const reservation = composed.inventory.reserve(sku, quantity);
      return { reservation };
    } catch (error) {
      // jco throws a result's error as a ComponentError carrying it as `payload`.
      if (error?.payload === undefined) throw error;
      return { error: error.payload };
    } finally {
      if (handle !== undefined) composed.tracer.endSpan(handle, undefined);
    }
  },

  /** Exports everything queued and waits until the collector has answered. */
  async flush() {
    composed.pipeline.forceFlush();
    await Promise.all([...inFlight]);
  },
};
