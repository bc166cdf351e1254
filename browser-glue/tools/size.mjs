// What an app ships, per way of importing the SDK: each scenario is bundled from the
// built package (dist/min/, resolved through package.json's `exports`, as a bundler
// would) with esbuild --bundle --minify, then gzip -9, the core wasm counted. The budgets
// live in one place, the table in the root README between the size-table markers; this
// script measures, prints the table, and with `--check` fails when a scenario is over its
// budget, with `--write` puts the measured figures into README.
//
//   node tools/size.mjs [--check] [--write]
import * as esbuild from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const GLUE = fileURLToPath(new URL('../', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const START = '<!-- size-table:start -->';
const END = '<!-- size-table:end -->';

const init = "({ endpoint: 'http://localhost:4318', serviceName: 'app', instrumentations })";
/** Scenario name (the table's first column) -> the app's code. */
const SCENARIOS = {
  'core: `init`, spans, transport': `import { init, startSpan } from '@wasm-otlp/browser/core'; const instrumentations = []; await init${init}; startSpan('s').end();`,
  ...Object.fromEntries(
    ['fetch', 'xhr', 'pageLoad', 'interaction', 'error', 'console', 'navigation', 'webVitals', 'longFrames'].map((name) => [
      `core + \`${name}Instrumentation\``,
      `import { init } from '@wasm-otlp/browser/core'; import { ${name}Instrumentation } from '@wasm-otlp/browser/instrumentations'; const instrumentations = [${name}Instrumentation()]; await init${init};`,
    ]),
  ),
  'core + `registerOpenTelemetry` (`@opentelemetry/api` included)': `import { init } from '@wasm-otlp/browser/core'; import { registerOpenTelemetry } from '@wasm-otlp/browser/otel'; const instrumentations = []; await init${init}; registerOpenTelemetry();`,
  'default: `init` with every default instrumentation': `import { init, startSpan } from '@wasm-otlp/browser'; const instrumentations = undefined; await init${init}; startSpan('s').end();`,
};

/** Resolves `@wasm-otlp/browser[/sub]` through package.json's exports, to dist/min/. */
function thisPackage() {
  const { name, exports } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return {
    name: 'this-package',
    setup(build) {
      build.onResolve({ filter: /^@wasm-otlp\/browser(\/.*)?$/ }, (args) => {
        const target = exports['.' + args.path.slice(name.length)]?.default;
        return target ? { path: fileURLToPath(new URL(target, `file://${GLUE}`)) } : { errors: [{ text: `${args.path} is not exported` }] };
      });
    },
  };
}

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;

/** Gzip sizes in bytes of each scenario: { js, wasm, total }. */
export async function measure() {
  const wasm = gzip(readFileSync(new URL('../dist/min/tracing.core.wasm', import.meta.url)));
  const sizes = {};
  for (const [scenario, code] of Object.entries(SCENARIOS)) {
    const result = await esbuild.build({
      stdin: { contents: code, resolveDir: GLUE, loader: 'js' },
      bundle: true,
      minify: true,
      format: 'esm',
      target: 'es2022',
      platform: 'browser',
      write: false,
      plugins: [thisPackage()],
      logLevel: 'error',
    });
    const js = gzip(result.outputFiles[0].contents);
    sizes[scenario] = { js, wasm, total: js + wasm };
  }
  return sizes;
}

const kb = (bytes) => (bytes / 1000).toFixed(1);

/** The README table: | scenario | budget | target | measured (JS + wasm) |. */
function parseTable(readme) {
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from < 0 || to < 0) throw new Error(`README.md has no ${START} ... ${END} table`);
  const rows = readme
    .slice(from + START.length, to)
    .split('\n')
    .filter((line) => line.startsWith('|') && !line.startsWith('|--') && !line.startsWith('| what'));
  return {
    from,
    to,
    rows: rows.map((line) => {
      const [scenario, budget, target] = line.split('|').slice(1, -1).map((c) => c.trim());
      return { scenario, budget: Number.parseFloat(budget), target };
    }),
  };
}

async function main() {
  const check = process.argv.includes('--check');
  const write = process.argv.includes('--write');
  const readme = readFileSync(README, 'utf8');
  const table = parseTable(readme);
  const sizes = await measure();
  const missing = Object.keys(sizes).filter((s) => !table.rows.some((r) => r.scenario === s));
  const stale = table.rows.filter((r) => !(r.scenario in sizes)).map((r) => r.scenario);
  const over = [];
  const lines = ['| what the app imports | budget, kB gzip | target | measured: total (JS + wasm) |', '|---|---|---|---|'];
  for (const row of table.rows.filter((r) => r.scenario in sizes)) {
    const { js, wasm, total } = sizes[row.scenario];
    if (total / 1000 > row.budget) over.push(`${row.scenario}: ${kb(total)} kB > budget ${row.budget} kB`);
    lines.push(`| ${row.scenario} | ${row.budget} | ${row.target} | ${kb(total)} (${kb(js)} + ${kb(wasm)}) |`);
  }
  console.log(lines.join('\n'));
  if (write) {
    const dated = `${START}\n${lines.join('\n')}\n\nMeasured ${new Date().toISOString().slice(0, 10)} by \`just size\`.\n`;
    writeFileSync(README, readme.slice(0, table.from) + dated + readme.slice(table.to));
  }
  const problems = [...over, ...missing.map((s) => `no budget row for "${s}"`), ...stale.map((s) => `budget row "${s}" measures nothing`)];
  if (problems.length) {
    console.error(problems.join('\n'));
    if (check) process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
