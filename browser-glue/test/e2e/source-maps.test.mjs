// A minified app's uncaught error, mapped by the collector (`--source-maps`): the app of
// minified-app/ (three modules) is bundled and minified by esbuild with a source map, its
// map deployed where the collector looks for it; Chromium runs the app, a click throws,
// and the SDK's exception span and log record arrive with `exception.stacktrace` naming
// the original files, lines, columns and functions, the minified trace kept beside it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { attributes, openBuiltPage, startStack } from './harness.mjs';

const SOURCES = new URL('./minified-app/', import.meta.url);
const HTML = `<!doctype html>
<meta charset="utf-8">
<button id="pay">pay</button>
<script type="module" src="./app.js"></script>
`;

let stack;
let out; // src/ (the sources), shop/ (app.js and app.js.map: the page's /shop/), the source-map directory
before(async () => {
  out = mkdtempSync(join(tmpdir(), 'wasm-otlp-e2e-source-maps-'));
  // As an app's repository and build: the map names its sources `../src/<file>`.
  mkdirSync(join(out, 'src'));
  for (const file of ['app.js', 'checkout.js', 'cart.js']) copyFileSync(new URL(file, SOURCES), join(out, 'src', file));
  await build({
    entryPoints: [join(out, 'src/app.js')],
    outdir: join(out, 'shop'),
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'esm',
    target: 'es2022',
    external: ['/dist/*'],
    logLevel: 'warning',
  });
  stack = await startStack({ collectorArgs: ['--source-maps', out] });
}, { timeout: 30_000 });
after(async () => {
  await stack?.stop();
  if (out) rmSync(out, { recursive: true, force: true });
}, { timeout: 30_000 });

/** `file:line:column` (from 1) of where `text` starts in the app's source `file`, as a URL of the page's origin. */
function sourcePosition(file, text) {
  const lines = readFileSync(new URL(file, SOURCES), 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  assert.ok(line >= 0, `${text} in ${file}`);
  return `${stack.demo.url}/src/${file}:${line + 1}:${lines[line].indexOf(text) + 1}`;
}

/** The log record on `span`, once it has arrived. */
async function logRecordOf(span) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answer = await fetch(`${stack.collector.url}/api/traces/${span.traceId}`).then((r) => r.json());
    const records = (answer.resourceLogs ?? []).flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
    const record = records.find((r) => r.spanId === span.spanId);
    if (record) return record;
    assert.ok(Date.now() < deadline, `no log record on the exception span: ${JSON.stringify(answer).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

test('a minified stack trace arrives mapped to its sources, with the minified one beside it', { timeout: 30_000 }, async () => {
  const { page } = await openBuiltPage(stack, 'shop', join(out, 'shop'), HTML);
  await page.evaluate(([endpoint]) => window.app.init(endpoint, 'minified-shop'), [stack.collector.url]);
  await page.click('#pay');
  await page.evaluate(() => window.app.flush());
  const span = await stack.api.waitFor((spans) => spans.find((s) => s.service === 'minified-shop' && s.name === 'exception'), { what: 'the exception span' });
  const event = span.events.find((e) => e.name === 'exception').attrs;
  const minified = event['exception.minified_stacktrace'];
  assert.match(minified, new RegExp(`^RangeError: unknown discount code BOGUS\n    at \\w+ \\(${stack.demo.url}/shop/app\\.js:1:\\d+\\)\n`), minified);

  const mapped = event['exception.stacktrace'].split('\n');
  assert.deepEqual(mapped.slice(0, 3), [
    'RangeError: unknown discount code BOGUS',
    // The throw (V8 points at `new`), named by the call in checkout.
    `    at applyDiscount (${sourcePosition('cart.js', 'new RangeError')})`,
    `    at checkout (${sourcePosition('checkout.js', 'applyDiscount(cart, code)')})`,
  ], mapped.join('\n'));
  // The click listener (an arrow function: V8 names it by its element), mapped too.
  assert.match(mapped[3], new RegExp(`^    at HTMLButtonElement\\.<anonymous> \\(${sourcePosition('app.js', 'checkout({')}\\)$`));
  // Whatever follows the app's frames stays as received.
  assert.deepEqual(mapped.slice(4), minified.split('\n').slice(4));

  // The SDK's log record of the same error, on the exception span.
  const record = attributes((await logRecordOf(span)).attributes);
  assert.equal(record['exception.stacktrace'], event['exception.stacktrace']);
  assert.equal(record['exception.minified_stacktrace'], minified);
});
