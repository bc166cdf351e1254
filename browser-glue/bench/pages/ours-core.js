// What an app ships with ours, core only (no automatic instrumentation): the minified SDK's
// core entry (dist/min/core.js), init + startSpan.
import { init, startSpan } from '../../dist/min/core.js';

export const start = (endpoint) => init({ endpoint, serviceName: 'bench-app' });
export { startSpan };
