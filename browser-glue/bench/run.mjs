// Side-by-side benchmark: wasm-otlp's browser SDK beside OpenTelemetry JS 2.x in headless
// Chromium. Prints (1) per-span cost, to-bytes and hot, (2) bundle size, (3) time to
// initialise, each with ratios ours/OTel.
//
//   just build-browser && cd browser-glue && node bench/run.mjs [--spans 200000] [--rounds 5] [--loads 7] [--profile]
//
// Builds its pages into bench/out/ (esbuild), serves them from 127.0.0.1 with COOP/COEP,
// launches /usr/bin/chromium once. Nothing leaves the machine.
import { readFile, stat } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { buildPages, measureSizes } from './lib/build.mjs';
import { cpuProfile, summarise } from './lib/profile.mjs';
import { startServer } from './lib/server.mjs';
import { CHROMIUM_ARGS, CHROMIUM_BIN } from '../tools/chromium.mjs';
import { kib, median, ratio, spread, table } from './lib/stats.mjs';

const GLUE = dirname(dirname(fileURLToPath(import.meta.url)));
const COMMAND = 'just build-browser && cd browser-glue && node bench/run.mjs';
const BENCH_ARGS = [
  ...CHROMIUM_ARGS,
  // gc() between runs, so that one SDK's garbage is not collected during the other's run.
  '--js-flags=--expose-gc',
];

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
    loads: { type: 'string', default: '7' },
    profile: { type: 'boolean', default: false },
  },
});
const SPANS = Number(args.spans);
const ROUNDS = Number(args.rounds);
const LOADS = Number(args.loads);

async function main() {
  const loadBefore = loadavg()[0];
  await requireBuild();
  const stamp = await buildStamp(); // others may rebuild ours meanwhile: say what was bundled
  const built = await buildPages(GLUE);
  const sizes = await measureSizes(built.init);
  const server = await startServer(built.out);
  const browser = await chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: BENCH_ARGS });
  try {
    const perSpan = await measurePerSpan(browser, server.origin, built.modules);
    const init = await measureInit(browser, server.origin);
    console.log(await header(browser, stamp));
    console.log(reportPerSpan(perSpan));
    const instrumented = await oursHasInstrumentations(built.init);
    console.log(reportSizes(sizes, instrumented));
    console.log(reportInit(init, instrumented));
    console.log(caveats(perSpan.info, [loadBefore, loadavg()[0]]));
  } finally {
    await browser.close();
    await server.close();
  }
}

/** The SDK must be built (dist/min, gen/) first. */
async function requireBuild() {
  for (const path of ['dist/min/index.js', 'dist/min/tracing.core.wasm', 'gen/tracing.js']) {
    if (!(await stat(join(GLUE, path)).catch(() => undefined))) {
      throw new Error(`${path} is missing: run \`just build-browser\` first`);
    }
  }
}

/** Opens `url` in a page of `context` and waits for `ready` (a page expression); page errors fail fast. */
async function openPage(context, url, ready) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  const value = await page.waitForFunction(ready, null, { timeout: 60_000 }).catch((e) => {
    throw new Error(`${url}: ${errors.join('; ') || e.message}`);
  });
  return { page, value: await value.jsonValue() };
}

// ---------------------------------------------------------------------------------------
// 1. Per-span cost (pages/per-span.ts): one page, ours and OTel alternating, medians.

async function measurePerSpan(browser, origin, modules) {
  const context = await browser.newContext();
  const { page } = await openPage(context, `${origin}/per-span/`, () => globalThis.perSpan);
  const info = await page.evaluate(() => globalThis.perSpan.setup());
  const call = (name, ...a) => page.evaluate(([n, a]) => globalThis.perSpan[n](...a), [name, a]);
  // Pairs (ours, OTel), then ours' breakdown run.
  const measures = ['oursToBytes', 'otelToBytes', 'oursToBytesSteady', 'otelToBytesSteady', 'oursRecordOnly', 'otelRecordOnly', 'oursApplyOnly', 'oursPublicToBytes'];

  for (const name of measures) await call(name, Math.ceil(SPANS / 10)); // warm-up (JIT, tier-up)
  const us = Object.fromEntries(measures.map((m) => [m, []]));
  const last = {};
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate who goes first, so drift and GC debt do not favour one side.
    const order = round % 2 ? [1, 0, 7, 3, 2, 5, 4, 6] : [0, 7, 1, 2, 3, 4, 5, 6];
    for (const name of order.map((i) => measures[i])) {
      await call('gc');
      const run = await call(name, SPANS);
      if (name.includes('ToBytes') && run.spans !== SPANS) throw new Error(`${name}: ${run.spans} of ${SPANS} spans reached bytes`);
      us[name].push((run.ms * 1000) / SPANS);
      last[name] = run;
    }
  }
  const stats = await call('oursStats');
  const { payloads, bytes } = last.oursToBytes;
  const copyMs = [];
  for (let i = 0; i < 3; i++) copyMs.push(await call('copyOutMs', payloads, Math.round(bytes / payloads)));
  const copy = { us: (median(copyMs) * 1000) / SPANS, payloadBytes: bytes / payloads };
  const bytesPerSpan = { ours: bytes / SPANS, otel: last.otelToBytes.bytes / SPANS };
  const profile = args.profile ? await profileOurs(page, call, modules) : undefined;
  await context.close();
  return { info, us, bytes: bytesPerSpan, stats, copy, profile };
}

/** CPU profiles of one ours to-bytes round and one ours hot round. */
async function profileOurs(page, call, modules) {
  const toBytes = summarise(await cpuProfile(page, () => call('oursToBytes', SPANS)), modules);
  const hot = summarise(await cpuProfile(page, () => call('oursRecordOnly', SPANS)), modules);
  return { 'to-bytes': toBytes, hot };
}

function reportPerSpan({ us, bytes, stats, copy, profile }) {
  const m = (k) => median(us[k]);
  const target = (ours, otel) => `${(m(ours) / m(otel)).toFixed(2)}x  (target <= 0.33: ${m(ours) / m(otel) <= 0.33 ? 'met' : 'NOT met'})`;
  const publicTarget = () => `${(m('oursPublicToBytes') / m('otelToBytes')).toFixed(2)}x  (target <= 0.25: ${m('oursPublicToBytes') / m('otelToBytes') <= 0.25 ? 'met' : 'NOT met'})`;
  const rows = [
    ['µs per span, median (min-max)', 'ours', 'OpenTelemetry JS', 'ours/OTel'],
    ['to-bytes, one burst, swapped transport', spread(us.oursToBytes), spread(us.otelToBytes), target('oursToBytes', 'otelToBytes')],
    ['to-bytes, one burst, public API + real transport', spread(us.oursPublicToBytes), spread(us.otelToBytes), publicTarget()],
    ['to-bytes, steady (512-span chunks)', spread(us.oursToBytesSteady), spread(us.otelToBytesSteady), target('oursToBytesSteady', 'otelToBytesSteady')],
    ['hot (recording only)', spread(us.oursRecordOnly), spread(us.otelRecordOnly), ratio(m('oursRecordOnly'), m('otelRecordOnly'))],
    ['OTLP/JSON bytes per span', bytes.ours.toFixed(0), bytes.otel.toFixed(0), ratio(bytes.ours, bytes.otel)],
  ];
  const record = m('oursRecordOnly');
  const apply = m('oursApplyOnly') - record;
  const encode = m('oursToBytes') - m('oursApplyOnly');
  const lines = [
    `1. Per-span cost: ${SPANS.toLocaleString('en')} spans (start, one unique string attribute, end), ${ROUNDS} alternating rounds`,
    table(rows),
    `  ours: createSdk() from src/ (batch 512), payload bytes counted and dropped by a stand-in transport;`,
    `        public: the built package's createSdk (dist/min/core.js), its real FetchTransport, fetch stubbed`,
    `        (counts the body, answers 200 at once), until every span was handed to fetch;`,
    `        to-bytes includes the final flush(); hot = the tracer's batches discarded instead of applied.`,
    `  OTel: WebTracerProvider + BatchSpanProcessor(512) + exporter running JsonTraceSerializer.serializeRequest,`,
    `        forceFlush() included; hot = the same spans under a NoopSpanProcessor.`,
    `  one burst: all spans in one synchronous loop, then the flush (OTel queues the whole round and serialises it`,
    `        in forceFlush, with the GC cost of that backlog). steady: a task yield after every 512 spans (the yields'`,
    `        own cost subtracted), so each SDK exports batch by batch as in an app; flush at the end.`,
    `  ours to-bytes by difference of medians (µs per span): record ${record.toFixed(2)} + apply ops in the component ${apply.toFixed(2)}` +
      ` (transport busy: spans built, then dropped; ${spread(us.oursApplyOnly)} in all)`,
    `        + encode and lift the payload out ${encode.toFixed(2)}, of which copying the ${(copy.payloadBytes / 1024).toFixed(0)} KB payloads` +
      ` out of linear memory (ArrayBuffer.slice, measured alone) ~${copy.us.toFixed(2)}`,
    `  component counters of the to-bytes instance (warm-up included): exported ${stats.spansExported}, dropped (queue full) ${stats.spansDroppedQueueFull}, rejected ops ${stats.rejectedOperations}`,
  ];
  if (profile) for (const [name, summary] of Object.entries(profile)) lines.push(reportProfile(name, summary));
  return `${lines.join('\n')}\n`;
}

function reportProfile(name, { categories, functions }) {
  const total = categories.reduce((s, [, ms]) => s + ms, 0);
  const pct = (ms) => `${((100 * ms) / total).toFixed(0)}%`;
  return [
    `  CPU profile of one ours ${name} round (${total.toFixed(0)} ms sampled), self time:`,
    table([['where', 'ms', 'share'], ...categories.map(([k, ms]) => [k, ms.toFixed(1), pct(ms)])], '    '),
    '    top functions:',
    table([['function [module]', 'ms', 'share'], ...functions.slice(0, 12).map(([k, ms]) => [k, ms.toFixed(1), pct(ms)])], '    '),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------
// 2. Bundle size (lib/build.mjs): minified app bundles and the core wasm, gzip -9.

/** Whether the built SDK (dist/min, as bundled into the app) already carries automatic instrumentation. */
async function oursHasInstrumentations(initDir) {
  return (await readFile(join(initDir, 'ours.js'), 'utf8')).includes('@wasm-otlp/instrumentation-');
}

function reportSizes({ oursJs, oursWasm, otelCore, otelFull }, instrumented) {
  const wasmGzip = oursWasm.reduce((s, f) => s + f.gzip, 0);
  const wasmRaw = oursWasm.reduce((s, f) => s + f.raw, 0);
  const total = oursJs.gzip + wasmGzip;
  const what = instrumented ? 'core + exporter + its instrumentations (as built in dist/min)' : 'core + exporter (our instrumentations are not written yet)';
  const rows = [
    ['what an app ships (esbuild --minify)', 'raw', 'gzip -9', 'ours total / this'],
    ['ours: JS (dist/min/index.js through the app entry)', kib(oursJs.raw), kib(oursJs.gzip), ''],
    ...oursWasm.map((f) => [`ours: ${f.file}`, kib(f.raw), kib(f.gzip), '']),
    [`ours total: ${what}`, kib(oursJs.raw + wasmRaw), kib(total), ''],
    ['OTel: WebTracerProvider + BatchSpanProcessor + OTLP/HTTP JSON exporter', kib(otelCore.raw), kib(otelCore.gzip), ratio(total, otelCore.gzip)],
    ['OTel: the same + fetch, XHR, document-load, user-interaction instrumentations', kib(otelFull.raw), kib(otelFull.gzip), ratio(total, otelFull.gzip)],
  ];
  return [
    '2. Bundle size: an app entry importing init + startSpan from dist/min/index.js, vs the same OTel set-ups (KB = 1024 bytes)',
    table(rows),
    `  ours JS alone is ${ratio(oursJs.gzip, (instrumented ? otelFull : otelCore).gzip)} of the matching OTel set-up;` +
      ` the core wasm (${kib(wasmGzip)} gzip) is fetched beside it.`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------
// 3. Time to initialise (pages/init.html): fresh browser context per load, medians.

const APPS = ['ours-core', 'otel-core', 'ours', 'otel-full'];

async function measureInit(browser, origin) {
  const results = Object.fromEntries(APPS.map((a) => [a, []]));
  for (let load = -1; load < LOADS; load++) {
    for (let i = 0; i < APPS.length; i++) {
      const app = APPS[(i + load + 1) % APPS.length]; // rotate who loads first
      const context = await browser.newContext(); // fresh cache: fetch + compile every time
      const { value } = await openPage(context, `${origin}/init/?app=${app}`, () => globalThis.initResult);
      await context.close();
      if (load >= 0) results[app].push(value); // load -1 warms the browser up
    }
  }
  return results;
}

function reportInit(results, instrumented) {
  const col = (app, key) => results[app].map((r) => (key ? r[key] : r.importMs + r.setupMs + r.firstSpanMs));
  const total = (app) => median(col(app));
  const row = (label, app, versus) => [
    label,
    spread(col(app, 'importMs')),
    spread(col(app, 'jsFetchMs')),
    spread(col(app, 'setupMs')),
    spread(col(app, 'firstSpanMs')),
    spread(col(app)),
    versus ? ratio(total(app), total(versus)) : '',
  ];
  const ours = (key) => spread(col('ours', key));
  return [
    `3. Start-up: import() of the app bundle, its set-up resolved, a first span started and ended; ${LOADS} fresh page loads, ms median (min-max)`,
    table([
      ['', 'import()', 'of which fetch', 'set-up', 'first span', 'total', 'ours/OTel'],
      row('ours core: init() (createSdk, no instrumentation)', 'ours-core', 'otel-core'),
      row('OTel: provider + processor + exporter, register()', 'otel-core'),
      row(`ours: init() (createSdk${instrumented ? ' + default instrumentations' : ''})`, 'ours', 'otel-full'),
      row('OTel: the same + registerInstrumentations(4)', 'otel-full'),
    ]),
    `  "of which fetch": import() start to the bundle's last byte (Resource Timing); the rest is parse + evaluate.`,
    `  ours' set-up (with instrumentations): core wasm's last byte after ${ours('wasmFetchMs')}; WebAssembly.compileStreaming (fetch + compile)` +
      ` ${ours('compileMs')}; instantiate ${ours('instantiateMs')}; the rest is configure${instrumented ? ' + instrumentations' : ''}.`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------

async function header(browser, stamp) {
  const version = async (pkg) => JSON.parse(await readFile(join(GLUE, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  return [
    `wasm-otlp browser SDK vs OpenTelemetry JS: Chromium ${browser.version()}, @opentelemetry/sdk-trace-web ${await version('@opentelemetry/sdk-trace-web')},`,
    `exporter-trace-otlp-http ${await version('@opentelemetry/exporter-trace-otlp-http')}, jco ${await version('@bytecodealliance/jco')}, Node ${process.version}`,
    `ours as measured: ${stamp}`,
    `reproduce: ${COMMAND}`,
    '',
  ].join('\n');
}

/** When and how big ours was built (other work rebuilds it): gen/ feeds part 1, dist/min parts 2 and 3. */
async function buildStamp() {
  const at = async (path) => {
    const { mtime, size } = await stat(join(GLUE, path));
    return `${path} ${mtime.toISOString().slice(11, 19)} UTC, ${size} bytes`;
  };
  return `${await at('gen/tracing.core.wasm')}; ${await at('dist/min/tracing.core.wasm')}`;
}

function caveats(info, load) {
  return [
    'Caveats:',
    `- One noisy shared VM: compare the ratios within one run, not absolute numbers across runs or machines.`,
    `  ${cpus().length} cores; 1-minute load average ${load[0].toFixed(2)} at the start, ${load[1].toFixed(2)} at the end (other work shares the CPUs).`,
    `  Timer: crossOriginIsolated=${info.isolated}, performance.now() step ${info.resolutionUs.toFixed(1)} µs.`,
    '- Per-span: gc() runs between runs; the breakdown of ours subtracts medians of separate runs (approximate).',
    '  The one-burst figure favours ours (OTel pays GC for a queued backlog); the steady figure is closer to an app.',
    '- Init: served uncompressed from 127.0.0.1 (no network latency, no HTTP cache, no wasm code cache); on a',
    '  real network the transfer sizes of part 2 add to it.',
  ].join('\n');
}

await main();
