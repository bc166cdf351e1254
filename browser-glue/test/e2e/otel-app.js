// The page of otel-bridge.test.mjs, bundled by it with esbuild: the built SDK's core and
// OpenTelemetry bridge from the demo server's /dist/min/, OpenTelemetry's contrib fetch
// instrumentation registered against the API (an import map gives every bare
// `@opentelemetry/api` import one copy), driven by the test through window.app.
import { trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { flush, init, traceAsync } from '/dist/min/core.js';
import { registerOpenTelemetry } from '/dist/min/otel.js';

window.app = {
  async init(endpoint, serviceName) {
    await init({ endpoint, serviceName });
    registerOpenTelemetry();
    registerInstrumentations({ instrumentations: [new FetchInstrumentation()] });
  },
  /** A span of ours around a library's span (through the API) and a fetch traced by the contrib instrumentation. */
  async run() {
    const ids = await traceAsync('checkout', async (checkout) => {
      const library = trace.getTracer('shop-lib', '2.0.0').startActiveSpan('lib.price', (span) => {
        span.setAttribute('lib.items', 3);
        span.addEvent('priced', { 'lib.total': 42.5 });
        span.end();
        return span.spanContext().spanId;
      });
      const response = await fetch('/api/product/1');
      const body = await response.json();
      return { checkout: checkout.spanContext(), library, echoed: body.traceparent };
    });
    // The contrib instrumentation ends its span after the resource timing arrives.
    await new Promise((r) => setTimeout(r, 500));
    flush();
    return ids;
  },
};
