// The page of composed.test.mjs: the example guest composed with the tracing component
// (`just compose`, transpiled by jco into gen/composed/ by `just transpile-composed`),
// given the SDK's own clock and randomness and a transport that POSTs each payload to the
// collector. Bundled by the test with esbuild.
import { instantiate } from '../../gen/composed/composed.js';
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
    composed = await instantiate(getCoreModule, hostImports(sender));
    composed.setup.configure({
      resource: [{ key: 'service.name', value: { tag: 'string', val: serviceName } }],
      defaultScope: { name: 'traced-guest', version: '0.1.0', attributes: [] },
      sampler: { tag: 'always-on' },
      limits: { maxAttributes: 128, maxValueLength: 4096, maxEvents: 128, maxLinks: 128, maxAttributesPerItem: 128 },
      batch: { maxExportBatchSize: 512, maxExportBatchBytes: 0, maxQueueSize: 2048, scheduledDelayMs: 5000, maxOpenSpans: 1024 },
    });
  },

  /** Calls the guest: `{ quote }` (amounts as numbers) or `{ error }` with its reason. */
  priceCart(lines, coupon, traceparent) {
    try {
      const quote = composed.checkout.priceCart(lines, coupon, traceparent);
      return {
        quote: {
          subtotalCents: Number(quote.subtotalCents),
          discountCents: Number(quote.discountCents),
          totalCents: Number(quote.totalCents),
          traceparent: quote.traceparent,
        },
      };
    } catch (error) {
      // jco throws a result's error as a ComponentError carrying it as `payload`.
      if (error?.payload === undefined) throw error;
      return { error: error.payload };
    }
  },

  /** Exports everything queued and waits until the collector has answered. */
  async flush() {
    composed.pipeline.forceFlush();
    await Promise.all([...inFlight]);
  },
};
