// What the pages of otel-composed.test.mjs share: `window.app` over a composition of the
// wasi:otel example guest with the tracing component (transpiled by jco with
// `--instantiation async`), given the tracing component's host services (the SDK's own
// clock and randomness, and a transport that POSTs each payload to the collector) and the
// WASI imports of the guest's build. Bundled into each page by esbuild.
import { hostImports } from '../../src/host/imports.ts';
import { config, fetchSender, getCoreModule, outcome } from './composition-page.js';

/** Defines `window.app` for the composition that `instantiate` makes, with `wasiImports`. */
export function otelGuestApp(instantiate, wasiImports) {
  let composed;
  let transport;

  window.app = {
    /** Instantiates the composition and configures its tracing component. */
    async init(endpoint, serviceName) {
      transport = fetchSender(endpoint);
      // `wasi:otel/types` carries types only: jco asks for nothing.
      composed = await instantiate(getCoreModule, { ...hostImports(transport.sender), ...wasiImports });
      composed.setup.configure(config(serviceName, { name: 'page', version: '1.0.0' }));
    },

    /**
     * Calls the guest's `inventory.reserve`, inside a span of the page's own (started through
     * the composition's `tracer`) when `pageSpan` is true: `{ reservation }` or `{ error }`
     * with its reason.
     */
    reserve(sku, quantity, pageSpan) {
      const handle = pageSpan
        ? composed.tracer.startSpan('click reserve', { kind: 'internal', parent: { tag: 'none' }, attributes: [], links: [], startTime: undefined, scope: 0 })
        : undefined;
      try {
        const { value: reservation, error } = outcome(() => composed.inventory.reserve(sku, quantity));
        return error === undefined ? { reservation } : { error };
      } finally {
        if (handle !== undefined) composed.tracer.endSpan(handle, undefined);
      }
    },

    /** Exports everything queued and waits until the collector has answered. */
    async flush() {
      composed.pipeline.forceFlush();
      await transport.settled();
    },
  };
}
