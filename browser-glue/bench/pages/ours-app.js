// What an app ships with ours, with every default instrumentation: the minified SDK
// (dist/min/index.js), init + startSpan.
import { init, startSpan } from '../../dist/min/index.js';

export const start = (endpoint) => init({ endpoint, serviceName: 'bench-app' });
export { startSpan };
