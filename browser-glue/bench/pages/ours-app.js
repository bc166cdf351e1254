// What an app ships with ours: the minified SDK (dist/min/index.js), init + startSpan.
// Our instrumentations are not written yet: this is core + exporter.
import { init, startSpan } from '../../dist/min/index.js';

export const start = (endpoint) => init({ endpoint, serviceName: 'bench-app' });
export { startSpan };
