// useOtlpTrace (the ./react entry) in a React 19 app, with React's development build
// (StrictMode mounts, unmounts and re-mounts every effect once) and its production build:
// one component.render.<name> span per component life, ended at the real unmount.
// The app (react-app.jsx) is bundled here with esbuild, React included, and served from
// the demo server's origin; it loads the built SDK from the demo server's /dist/min/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { openBuiltPage, startStack } from './harness.mjs';

const require = createRequire(import.meta.url);
const MODES = ['development', 'production'];
// The import map gives the SDK's bare `react` import the bundle's React (react.js).
const HTML = `<!doctype html>
<meta charset="utf-8">
<script type="importmap">{ "imports": { "react": "./react.js" } }</script>
<div id="root"></div>
<script type="module" src="./app.js"></script>
`;

let stack;
let out; // out/<mode>/: app.js, react.js and their shared chunks
before(async () => {
  out = mkdtempSync(join(tmpdir(), 'wasm-otlp-e2e-react-'));
  // React is CommonJS: an ES module re-exporting it must list its names (esbuild cannot `export *` them).
  const shim = join(out, 'react-shim.js');
  writeFileSync(shim, `import React from ${JSON.stringify(require.resolve('react'))};
export default React;
export const { ${Object.keys(require('react')).join(', ')} } = React;
`);
  for (const mode of MODES) {
    await build({
      entryPoints: { app: fileURLToPath(new URL('./react-app.jsx', import.meta.url)), react: shim },
      outdir: join(out, mode),
      bundle: true,
      splitting: true,
      format: 'esm',
      target: 'es2022',
      jsx: 'automatic',
      external: ['/dist/*'],
      define: { 'process.env.NODE_ENV': JSON.stringify(mode) },
      logLevel: 'warning',
    });
  }
  stack = await startStack();
}, { timeout: 30_000 });
after(async () => {
  await stack?.stop();
  if (out) rmSync(out, { recursive: true, force: true });
}, { timeout: 30_000 });

/** Opens the app built with React's `mode` build, its SDK sending as `service`. */
async function openApp(mode, service) {
  const { page, errors } = await openBuiltPage(stack, `react/${mode}`, join(out, mode), HTML);
  await page.evaluate(([endpoint, service]) => window.app.init(endpoint, service), [stack.collector.url, service]);
  return { page, errors };
}

/** Every span `service` sent, once `count` arrived. */
const spansOf = (service, count) =>
  stack.api.waitFor((spans) => (spans = spans.filter((s) => s.service === service)).length >= count && spans, { what: `${count} spans from ${service}` });

const t = (span, edge) => BigInt(span[`${edge}TimeUnixNano`]);
const mountedEvents = (span) => span.events.filter((e) => e.name === 'mounted').length;

for (const mode of MODES) {
  test(`React ${mode} build in StrictMode: one component span, the parent of the work under it, ended at the unmount`, { timeout: 30_000 }, async () => {
    const service = `react-${mode}`;
    const { page, errors } = await openApp(mode, service);
    const rendered = await page.evaluate(() => window.app.render('Cart'));
    const work = await page.evaluate(() => window.app.work('cart.load'));
    await page.evaluate(() => window.app.unmount());
    const stats = await page.evaluate(() => window.app.flush());
    const spans = await spansOf(service, 2);
    await page.close();
    const carts = spans.filter((s) => s.name === 'component.render.Cart');
    assert.equal(carts.length, 1, 'exactly one component.render.Cart span');
    const [cart] = carts;
    const child = spans.find((s) => s.name === 'cart.load');
    assert.equal(cart.spanId, rendered.spanId, 'the span the hook returned');
    assert.equal(cart.traceId, rendered.traceId);
    assert.equal(cart.parentSpanId, '');
    assert.equal(cart.attrs['react.component'], 'Cart');
    assert.equal(mountedEvents(cart), 1, 'one mounted event');

    assert.equal(child.spanId, work.spanId);
    assert.equal(child.traceId, cart.traceId);
    assert.equal(child.parentSpanId, cart.spanId);
    assert.ok(t(cart, 'start') <= t(child, 'start'), 'the component span starts before the work');
    assert.ok(t(child, 'end') < t(cart, 'end'), 'the component span ends at the unmount, after the work');

    assert.equal(spans.length, 2, spans.map((s) => s.name).join(', '));
    assert.equal(stats.spansStarted, 2, 'no other span started (none left open)');
    assert.equal(stats.spansEnded, 2);
    assert.deepEqual(errors, []);
  });
}

test('a new name is a new component life: the old span ends, a new one starts', { timeout: 30_000 }, async () => {
  const service = 'react-rename';
  const { page, errors } = await openApp('development', service);
  await page.evaluate(() => window.app.render('Cart'));
  await page.evaluate(() => window.app.render('Basket'));
  await page.evaluate(() => window.app.unmount());
  const stats = await page.evaluate(() => window.app.flush());
  const spans = await spansOf(service, 2);
  await page.close();
  assert.deepEqual(spans.map((s) => s.name).sort(), ['component.render.Basket', 'component.render.Cart']);
  const cart = spans.find((s) => s.attrs['react.component'] === 'Cart');
  const basket = spans.find((s) => s.attrs['react.component'] === 'Basket');
  for (const s of [cart, basket]) assert.equal(mountedEvents(s), 1, `${s.name} has one mounted event`);
  assert.ok(t(basket, 'start') <= t(cart, 'end'), 'Cart ended at the rename (once Basket rendered), not before');
  assert.ok(t(cart, 'end') < t(basket, 'end'), 'Basket ended at the unmount');
  assert.equal(stats.spansStarted, 2);
  assert.equal(stats.spansEnded, 2);
  assert.deepEqual(errors, []);
});

for (const mode of MODES) {
  test(`React ${mode} build: a render React throws away (it suspended) leaves no span behind`, { timeout: 30_000 }, async () => {
    const service = `react-suspense-${mode}`;
    const { page, errors } = await openApp(mode, service);
    const mounted = await page.evaluate(() => window.app.renderSuspending('Profile'));
    await page.evaluate(() => window.app.unmount());
    const stats = await page.evaluate(() => window.app.flush());
    const spans = await spansOf(service, 1);
    await page.close();
    assert.deepEqual(spans.map((s) => s.name), ['component.render.Profile']);
    assert.equal(spans[0].spanId, mounted.spanId, 'the span of the render that mounted');
    assert.equal(mountedEvents(spans[0]), 1);
    assert.equal(stats.spansStarted, stats.spansEnded, 'no span left open by the discarded render');
    assert.equal(stats.spansStarted, 1);
    assert.deepEqual(errors, []);
  });
}
