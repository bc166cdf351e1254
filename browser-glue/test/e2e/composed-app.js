// The page of composed.test.mjs: the example guest composed with the tracing component
// (`just compose`, transpiled by jco into gen/composed/ by `just transpile-composed`),
// given the SDK's own clock and randomness and a transport that POSTs each payload to the
// collector. Bundled by the test with esbuild.
import { instantiate } from 'composition';
import { hostImports } from '../../src/host/imports.ts';
import { config, fetchSender, getCoreModule, outcome } from './composition-page.js';

let composed;
let transport;

window.app = {
  /** Instantiates the composition and configures its tracing component. */
  async init(endpoint, serviceName) {
    transport = fetchSender(endpoint);
    composed = await instantiate(getCoreModule, hostImports(transport.sender));
    composed.setup.configure(config(serviceName, { name: 'traced-guest', version: '0.1.0' }));
  },

  /** Calls the guest: `{ quote }` (amounts as numbers) or `{ error }` with its reason. */
  priceCart(lines, coupon, traceparent) {
    const { value: quote, error } = outcome(() => composed.checkout.priceCart(lines, coupon, traceparent));
    if (error !== undefined) return { error };
    return {
      quote: {
        subtotalCents: Number(quote.subtotalCents),
        discountCents: Number(quote.discountCents),
        totalCents: Number(quote.totalCents),
        traceparent: quote.traceparent,
      },
    };
  },

  /** Exports everything queued and waits until the collector has answered. */
  async flush() {
    composed.pipeline.forceFlush();
    await transport.settled();
  },
};
