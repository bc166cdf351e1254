// The OpenTelemetry API bridge (the ./otel entry) in a real page: a library recording
// through `@opentelemetry/api` and OpenTelemetry's contrib fetch instrumentation both
// record through this SDK, parented under its active span, and the contrib
// instrumentation's traceparent (through the bridge's propagator) names its span.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { openBuiltPage, parseTraceparent, startStack } from './harness.mjs';

const require = createRequire(import.meta.url);
const HTML = `<!doctype html>
<meta charset="utf-8">
<script type="importmap">{ "imports": { "@opentelemetry/api": "./otel-api.js" } }</script>
<script type="module" src="./app.js"></script>
`;

let stack;
let out;
before(async () => {
  out = mkdtempSync(join(tmpdir(), 'wasm-otlp-e2e-otel-'));
  const api = join(out, 'otel-api-entry.js');
  // The API's ES module build (its `main` is CommonJS, whose names `export *` cannot list).
  const main = require.resolve('@opentelemetry/api');
  const esm = join(main.slice(0, main.lastIndexOf('/build/')), 'build/esm/index.js');
  writeFileSync(api, `export * from ${JSON.stringify(esm)};\n`);
  await build({
    entryPoints: { app: fileURLToPath(new URL('./otel-app.js', import.meta.url)), 'otel-api': api },
    outdir: out,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    external: ['/dist/*', '@opentelemetry/api'],
    logLevel: 'warning',
  });
  stack = await startStack();
}, { timeout: 30_000 });
after(async () => {
  await stack?.stop();
  if (out) rmSync(out, { recursive: true, force: true });
}, { timeout: 30_000 });

test('a library and a contrib instrumentation record through the bridge, under our span', { timeout: 30_000 }, async () => {
  const { page, errors } = await openBuiltPage(stack, 'otel', out, HTML);
  await page.evaluate(([endpoint]) => window.app.init(endpoint, 'otel-bridge'), [stack.collector.url]);
  const ids = await page.evaluate(() => window.app.run());
  const header = parseTraceparent(ids.echoed);
  assert.ok(header, `the backend got a traceparent: ${ids.echoed}`);
  assert.equal(header.traceId, ids.checkout.traceId, 'in our trace');
  const { checkout, library, fetchSpan } = await stack.api.waitFor(
    (spans) => {
      const checkout = spans.find((s) => s.name === 'checkout');
      const library = spans.find((s) => s.spanId === ids.library);
      const fetchSpan = spans.find((s) => s.spanId === header.spanId);
      return checkout && library && fetchSpan && { checkout, library, fetchSpan };
    },
    { traceId: ids.checkout.traceId, what: 'checkout, the library span and the contrib fetch span' },
  );
  assert.equal(library.scope, 'shop-lib');
  assert.equal(library.parentSpanId, checkout.spanId);
  assert.equal(library.attrs['lib.items'], 3);
  assert.equal(library.events[0].name, 'priced');
  assert.equal(fetchSpan.scope, '@opentelemetry/instrumentation-fetch');
  assert.equal(fetchSpan.parentSpanId, checkout.spanId, 'the contrib span hangs under our active span');
  assert.equal(fetchSpan.kind, 3);
  assert.equal(fetchSpan.service, 'otel-bridge');
  assert.deepEqual(errors, []);
  await page.close();
});
