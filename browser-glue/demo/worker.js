// The demo's module worker: runs jobs for the page inside the page's trace.
//
// The page posts `{ trace: injectContext(span), job }`; the worker starts its span with
// `parent: extractContext(data.trace)`, so it is a child of the page's span. The SDK runs
// here with no document: no page-load or interaction instrumentation; fetch is still
// traced, and the SDK flushes when the page says it is hidden. Settings come in the
// worker's URL (collector, SDK path, delay, ingest key).

const params = new URL(import.meta.url).searchParams;
// The SDK from ../dist (the page passes /dist/min/index.js for the minified build).
const sdkUrl = new URL(params.get('sdk') ?? '../dist/index.js', import.meta.url);

// Listen at once, and answer each message once the SDK is up: spans started before
// `init` has finished record nothing.
const ready = import(sdkUrl.href).then(async (api) => {
  await api.init({
    endpoint: params.get('collector') ?? 'http://127.0.0.1:4318',
    serviceName: 'demo-shop-worker',
    serviceVersion: '0.1.0',
    batch: { delayMs: Number(params.get('batchDelay')) || 1000 },
    key: params.get('key') ?? undefined,
  });
  return api;
});

/** The job: a deterministic "price index" that takes a few milliseconds. */
function priceIndex(size) {
  let x = 0x9e3779b9;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    sum = (sum + (x >>> 0) % 1000) % 1_000_003;
  }
  return sum;
}

self.onmessage = async ({ data }) => {
  const { job } = data;
  try {
    const { startSpan, extractContext } = await ready;
    const span = startSpan('worker.process', {
      parent: extractContext(data.trace),
      kind: 4, // SpanKind.Consumer: the worker consumes the page's message
      attributes: { 'job.id': job.id, 'job.name': job.name, 'job.size': job.size, 'thread.kind': 'worker' },
    });
    const result = priceIndex(job.size);
    span.setAttribute('result', result);
    span.end(); // exported after the batch delay, or at once when the page is hidden
    postMessage({ id: job.id, result, span: span.spanContext() });
  } catch (error) {
    postMessage({ id: job.id, error: String(error?.message ?? error) });
  }
};
