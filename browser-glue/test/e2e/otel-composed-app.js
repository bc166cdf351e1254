// The page of otel-composed.test.mjs: the wasi:otel example guest composed with the
// tracing component (`just compose`, transpiled by jco into gen/otel-composed/ by
// `just transpile-composed`), given the SDK's own clock and randomness, jco's browser
// shim of the WASI wall clock (which the guest's SDK stamps its spans with), and a
// transport that POSTs each payload to the collector. Bundled by the test with esbuild.
import { wallClock } from '@bytecodealliance/preview2-shim/clocks';
import { instantiate } from '../../gen/otel-composed/composed.js';
import { hostImports } from '../../src/host/imports.ts';
import { config, fetchSender, getCoreModule, outcome } from './composition-page.js';

let composed;
let transport;

window.app = {
  /** Instantiates the composition and configures its tracing component. */
  async init(endpoint, serviceName) {
    transport = fetchSender(endpoint);
    composed = await instantiate(getCoreModule, {
      ...hostImports(transport.sender),
      // `wasi:otel/types` carries types only: jco asks for nothing.
      'wasi:clocks/wall-clock': wallClock,
    });
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
