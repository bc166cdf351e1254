// The app of source-maps.test.mjs, bundled and minified by it with esbuild (with a
// source map): clicking #pay throws in applyDiscount (cart.js), called by checkout
// (checkout.js). The SDK comes from the demo server's /dist/min/.
import { flush, init } from '/dist/min/index.js';
import { checkout } from './checkout.js';

window.app = {
  async init(endpoint, serviceName) {
    await init({ endpoint, serviceName });
    document.querySelector('#pay').addEventListener('click', () => checkout({ total: 10 }, 'BOGUS'));
  },
  flush,
};
