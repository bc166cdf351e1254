// What composed.test.mjs and otel-composed.test.mjs share: a page running a composition
// that jco transpiled into gen/<dir>/ (`just transpile-composed`), bundled with esbuild
// from its app script (which imports it as `composition`), served beside the core modules
// jco extracted, in the test stack (collector, demo server, Chromium).
import { existsSync, copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { openBuiltPage, startStack } from './harness.mjs';

const HTML = `<!doctype html>
<meta charset="utf-8">
<script type="module" src="./app.js"></script>
`;

/**
 * Builds the page of `app` (a script beside this file) for the composition in gen/`dir`/,
 * which `app` imports as `composition`, and starts the stack. `open()` loads a page and runs `window.app.init(collector URL,
 * service)`; `stop()` ends it all.
 */
export async function startComposition({ dir, app, service }) {
  const gen = fileURLToPath(new URL(`../../gen/${dir}/`, import.meta.url));
  if (!existsSync(join(gen, 'composed.js'))) {
    throw new Error(`no transpiled composition in ${gen}: run \`just transpile-composed\``);
  }
  const out = mkdtempSync(join(tmpdir(), `wasm-otlp-e2e-${dir}-`));
  let stack;
  try {
    await build({
      entryPoints: { app: fileURLToPath(new URL(app, import.meta.url)) },
      outdir: out,
      bundle: true,
      alias: { composition: join(gen, 'composed.js') },
      format: 'esm',
      target: 'es2022',
      logLevel: 'warning',
    });
    for (const file of readdirSync(gen).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(gen, file), join(out, file));
    stack = await startStack();
  } catch (error) {
    rmSync(out, { recursive: true, force: true });
    throw error;
  }
  return {
    stack,
    /** A page running the composition, configured to export to the stack's collector. */
    async open() {
      const { page, errors } = await openBuiltPage(stack, dir, out, HTML);
      await page.evaluate(([endpoint, name]) => window.app.init(endpoint, name), [stack.collector.url, service]);
      return { page, errors };
    },
    async stop() {
      await stack.stop();
      rmSync(out, { recursive: true, force: true });
    },
  };
}

/** The log records the collector serves with trace `traceId`, once there are `count`. */
export async function logRecords(stack, traceId, count = 1) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await fetch(`${stack.collector.url}/api/traces/${traceId}`);
    const doc = response.ok ? await response.json() : {};
    const records = (doc.resourceLogs ?? []).flatMap((rl) => rl.scopeLogs ?? []).flatMap((sl) => sl.logRecords ?? []);
    if (records.length >= count) return records;
    if (Date.now() > deadline) throw new Error(`fewer than ${count} log records in trace ${traceId}: ${JSON.stringify(doc).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
