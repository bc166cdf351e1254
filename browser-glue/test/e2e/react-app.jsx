// The page of react.test.mjs, bundled by it with esbuild (React included): the built SDK
// from the demo server's /dist/min/ (an import map gives its `react` import this bundle's
// React), and a component traced with useOtlpTrace, driven by the test through window.app.
import { StrictMode, Suspense } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import { flush, getSdk, init, startSpan } from '/dist/min/index.js';
import { useOtlpTrace } from '/dist/min/react.js';

let span; // what the rendered component's hook returned

function Traced({ name }) {
  span = useOtlpTrace(name);
  return <p>{name}</p>;
}

/** Data that is not there at the first render: the component suspends until it is. */
let data;
let loading;

function Suspending({ name }) {
  span = useOtlpTrace(name);
  if (!data) throw (loading ??= new Promise((resolve) => setTimeout(() => resolve((data = name)), 50)));
  return <p>{data}</p>;
}

const root = createRoot(document.getElementById('root'));
const tick = () => new Promise((r) => setTimeout(r, 20));

window.app = {
  async init(endpoint, serviceName) {
    await init({ endpoint, serviceName, instrumentations: { pageLoad: false, interactions: false, longFrames: false } });
  },
  /** Renders <Traced name> in StrictMode (effects included); returns its span's context. */
  async render(name) {
    flushSync(() => root.render(<StrictMode><Traced name={name} /></StrictMode>));
    await tick();
    return span.spanContext();
  },
  /**
   * Renders <Suspending name> under <Suspense>: its first render suspends and React throws
   * it away (hooks included); the retry after the data arrived mounts it.
   */
  async renderSuspending(name) {
    flushSync(() => root.render(<Suspense fallback={<p>loading</p>}><Suspending name={name} /></Suspense>));
    await loading;
    for (let i = 0; i < 50 && !document.getElementById('root').textContent.includes(name); i++) await tick();
    await tick();
    return span.spanContext();
  },
  /** Work under the component's span, as an event handler of it would do. */
  async work(name) {
    const child = startSpan(name, { parent: span });
    await tick();
    child.end();
    await tick();
    return child.spanContext();
  },
  async unmount() {
    root.unmount();
    await tick();
  },
  /** Exports everything; returns the SDK's counters (as numbers). */
  flush() {
    flush();
    return Object.fromEntries(Object.entries(getSdk().stats()).map(([k, v]) => [k, Number(v)]));
  },
};
