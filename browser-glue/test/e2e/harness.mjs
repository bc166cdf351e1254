// Shared by the end-to-end tests: the real collector binary, the demo server and Debian's
// Chromium (through playwright-core), all on loopback, and span look-ups through the
// collector's query API.
//
// Environment:
//   COLLECTOR_BIN  the collector binary (default debug/collector in Cargo's target directory:
//                  $CARGO_TARGET_DIR, else ../target from browser-glue/)
//   CHROMIUM_BIN   the browser (default /usr/bin/chromium: `apt-get install -y chromium`)
//   SDK_DIST_DIR   serve another build of the SDK instead of dist/ (e.g. to try a fix)

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startDemoServer } from '../../demo/server.mjs';
import { CHROMIUM_ARGS, CHROMIUM_BIN } from '../../tools/chromium.mjs';

const BROWSER_GLUE = fileURLToPath(new URL('../../', import.meta.url));

/** Cargo's target directory: CARGO_TARGET_DIR (relative to the repository root, where `just` runs) or target/. */
const TARGET_DIR = resolve(BROWSER_GLUE, '..', process.env.CARGO_TARGET_DIR || 'target');
export const COLLECTOR_BIN = process.env.COLLECTOR_BIN ? resolve(process.env.COLLECTOR_BIN) : resolve(TARGET_DIR, 'debug/collector');
/** The shared launch flags, plus: only loopback (every host name fails to resolve; the tests use 127.0.0.1 literals). */
const E2E_ARGS = [...CHROMIUM_ARGS, '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Processes and directories to remove even if the test process dies on an exception. */
const leftovers = new Set();
process.once('exit', () => {
  for (const cleanup of leftovers) cleanup();
});

/** A port free on 127.0.0.1 right now. */
export async function freePort() {
  const server = createServer();
  await new Promise((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

/**
 * Starts the collector on a free port with a fresh data directory (`args`: more flags);
 * resolves once /healthz answers.
 */
export async function startCollector({ timeoutMs = 15_000, args = [] } = {}) {
  if (!existsSync(COLLECTOR_BIN)) {
    throw new Error(`no collector binary at ${COLLECTOR_BIN}: run \`cargo build -p collector\` (or set COLLECTOR_BIN)`);
  }
  for (let attempt = 1; ; attempt++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'wasm-otlp-e2e-data-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(COLLECTOR_BIN, ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...args], {
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let exited = null;
    const exit = new Promise((r) => child.once('exit', (code, signal) => r((exited = { code, signal }))));
    const kill = () => {
      if (exited === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    };
    leftovers.add(kill);
    const stop = async () => {
      if (exited === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
      leftovers.delete(kill);
    };
    const deadline = Date.now() + timeoutMs;
    let healthy = false;
    while (!healthy && exited === null && Date.now() < deadline) {
      healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
      if (!healthy) await sleep(50);
    }
    if (healthy) return { url, dataDir, output: () => output, stop };
    await stop();
    if (exited && /address already in use/i.test(output) && attempt < 3) continue; // lost the port race
    throw new Error(`collector did not become healthy at ${url} (${exited ? `exited ${JSON.stringify(exited)}` : 'timed out'}):\n${output}`);
  }
}

/** Chromium with a fresh profile. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM_BIN)) {
    throw new Error(`no browser at ${CHROMIUM_BIN}: run \`apt-get update && apt-get install -y chromium\` (or set CHROMIUM_BIN)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'wasm-otlp-e2e-profile-'));
  const remove = () => rmSync(profile, { recursive: true, force: true });
  leftovers.add(remove);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: E2E_ARGS,
    timeout: 20_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      remove();
      leftovers.delete(remove);
    },
  };
}

/** `{key: value}` of OTLP JSON attributes (ints as numbers, arrays as arrays, maps as objects). */
export function attributes(list = []) {
  const value = (v) =>
    'stringValue' in v ? v.stringValue
    : 'intValue' in v ? Number(v.intValue)
    : 'doubleValue' in v ? v.doubleValue
    : 'boolValue' in v ? v.boolValue
    : 'arrayValue' in v ? (v.arrayValue.values ?? []).map(value)
    : 'kvlistValue' in v ? attributes(v.kvlistValue.values)
    : v;
  return Object.fromEntries(list.map((a) => [a.key, value(a.value ?? {})]));
}

/** The spans of a `GET /api/traces/{id}` answer, flattened, with resource and scope. */
export function flatten(doc) {
  const out = [];
  for (const rs of doc.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        out.push({
          ...span,
          parentSpanId: span.parentSpanId ?? '',
          attrs: attributes(span.attributes),
          events: (span.events ?? []).map((e) => ({ ...e, attrs: attributes(e.attributes) })),
          resource,
          service: resource['service.name'],
          scope: ss.scope?.name ?? '',
        });
      }
    }
  }
  return out;
}

/** The collector's query API. */
export function queryApi(baseUrl) {
  const get = async (path) => {
    const response = await fetch(baseUrl + path, { signal: AbortSignal.timeout(5000) });
    const body = await response.json();
    if (!response.ok) throw Object.assign(new Error(`GET ${path}: ${response.status} ${JSON.stringify(body)}`), { status: response.status });
    return body;
  };
  const api = {
    /** `GET /api/traces` (query: service, error, limit, ...). */
    traces: (query = {}) => get(`/api/traces?${new URLSearchParams({ limit: '1000', ...query })}`).then((b) => b.traces),
    /** Every span of one trace (empty if none stored yet). */
    async trace(traceId) {
      try {
        return flatten(await get(`/api/traces/${traceId}`));
      } catch (error) {
        if (error.status === 404) return [];
        throw error;
      }
    },
    /** Every stored span. */
    async allSpans() {
      const spans = [];
      for (const t of await api.traces()) spans.push(...(await api.trace(t.traceId)));
      return spans;
    },
    /**
     * Polls until `check(spans)` returns something truthy (and returns it); `traceId`
     * limits the poll to one trace. Fails after `timeoutMs` listing what was stored.
     */
    async waitFor(check, { traceId, timeoutMs = 15_000, what = 'spans' } = {}) {
      const deadline = Date.now() + timeoutMs;
      let spans = [];
      for (;;) {
        spans = traceId ? await api.trace(traceId) : await api.allSpans();
        const found = check(spans);
        if (found) return found;
        if (Date.now() > deadline) {
          const seen = spans.map((s) => `${s.service}/${s.name} ${s.traceId.slice(0, 8)} ${s.spanId} <- ${s.parentSpanId || '(root)'}`);
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the collector has ${spans.length} spans${traceId ? ` in trace ${traceId}` : ''}:\n  ${seen.join('\n  ')}`);
        }
        await sleep(150);
      }
    },
  };
  return api;
}

/** Parses a `traceparent` header. */
export function parseTraceparent(header) {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(header ?? '');
  return m ? { traceId: m[1], spanId: m[2], flags: m[3] } : undefined;
}

/**
 * Opens a page made of `html` whose scripts and wasm modules, at
 * `${demoUrl}/${path}/<file>.js` (or `.wasm`), are the files in `dir` (built by the
 * test), and waits for its `window.app`. The document is a
 * real loopback response first (the demo server's 404), then replaced by `html`: a page
 * fulfilled by page.route counts as public, and Chromium then refuses its requests to the
 * collector (Private Network Access). Returns the page and the errors it reports.
 */
export async function openBuiltPage(stack, path, dir, html) {
  const page = await stack.browser.context.newPage();
  await page.route(`${stack.demo.url}/${path}/*.{js,wasm}`, (route) => route.fulfill({ path: join(dir, new URL(route.request().url()).pathname.split('/').pop()) }));
  await page.goto(`${stack.demo.url}/${path}/`, { timeout: 10_000 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.setContent(html, { timeout: 10_000 });
  await page.waitForFunction(() => window.app, null, { timeout: 10_000 });
  return { page, errors };
}

/** In a demo page: ends a root span named `name` tagged `test.id` = `id`, and flushes. */
export const endTaggedSpan = (page, name, id) =>
  page.evaluate(([name, id]) => {
    window.demo.api.startSpan(name, { parent: null, attributes: { 'test.id': id } }).end();
    window.demo.api.flush();
  }, [name, id]);

/**
 * Everything a test file needs: a collector (started with `collectorArgs`), the demo
 * server pointed at it and a browser. `open(query)` loads the demo page and waits until
 * the SDK is initialised.
 */
export async function startStack({ collectorArgs = [] } = {}) {
  const started = [];
  try {
    const collector = await startCollector({ args: collectorArgs });
    started.push(() => collector.stop());
    const demo = await startDemoServer({ collector: collector.url, distDir: process.env.SDK_DIST_DIR || undefined });
    started.push(() => demo.close());
    const browser = await launchBrowser();
    started.push(() => browser.close());
    const pages = [];
    return {
      collector,
      demo,
      browser,
      api: queryApi(collector.url),
      /**
       * Opens the demo page (`query` like `?sdk=min`; `init`, a function run in the page
       * before its scripts); resolves with the page and what the server rendered.
       */
      async open(query = '', { init } = {}) {
        const page = await browser.context.newPage();
        if (init) await page.addInitScript(init);
        const errors = [];
        page.on('pageerror', (e) => errors.push(e));
        pages.push(page);
        const rendered = demo.pages.length;
        await page.goto(`${demo.url}/${query}`, { timeout: 10_000 });
        await page.waitForSelector('html[data-ready]', { timeout: 10_000 });
        const server = demo.pages[rendered];
        return { page, server, errors };
      },
      async stop() {
        for (const page of pages) await page.close().catch(() => {});
        for (const stop of started.reverse()) await stop().catch(() => {});
      },
    };
  } catch (error) {
    for (const stop of started.reverse()) await stop().catch(() => {});
    throw error;
  }
}
