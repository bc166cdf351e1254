// What the pages of the composition tests share (composed-app.js, otel-composed-app.js):
// a transport that POSTs each payload to the collector, the loader of jco's core modules,
// and the tracing component's configuration. Bundled into each page by esbuild.

/** A `transport.send` to `endpoint`, and `settled()`, which waits for what is in flight. */
export function fetchSender(endpoint) {
  const inFlight = new Set();
  return {
    sender: {
      send(signal, body, count) {
        const request = fetch(`${endpoint}/v1/${signal}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
          .then((response) => {
            if (!response.ok) throw new Error(`${signal}: ${response.status} for ${count} items`);
          })
          .finally(() => inFlight.delete(request));
        inFlight.add(request);
        return true;
      },
    },
    settled: () => Promise.all([...inFlight]),
  };
}

/** jco's `getCoreModule`: the core modules are served beside the page. */
export const getCoreModule = (file) => fetch(new URL(file, location.href)).then((r) => r.arrayBuffer()).then((bytes) => WebAssembly.compile(bytes));

/** `setup.configure`'s argument: `service` as `service.name`, `scope` as the default scope. */
export function config(service, scope) {
  return {
    resource: [{ key: 'service.name', value: { tag: 'string', val: service } }],
    defaultScope: { name: scope.name, version: scope.version, attributes: [] },
    sampler: { tag: 'always-on' },
    limits: { maxAttributes: 128, maxValueLength: 4096, maxEvents: 128, maxLinks: 128, maxAttributesPerItem: 128 },
    batch: { maxExportBatchSize: 512, maxExportBatchBytes: 0, maxQueueSize: 2048, scheduledDelayMs: 5000, maxOpenSpans: 1024 },
  };
}

/** Runs `call`: `{ value }`, or `{ error }` with a WIT `result`'s error. */
export function outcome(call) {
  try {
    return { value: call() };
  } catch (error) {
    // jco throws a result's error as a ComponentError carrying it as `payload`.
    if (error?.payload === undefined) throw error;
    return { error: error.payload };
  }
}
