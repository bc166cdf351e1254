// The package as users install it: `npm pack`'s tarball, unpacked into a fresh app's
// node_modules, built by each common bundler through its JavaScript API (or served by its
// dev server), opened in headless Chromium; the app's span must reach the real collector.
//
// The app (app/main.js) is the same everywhere; configs/ holds the bundler configs a new
// user would write (none for Vite). Apps live in .work/<case>/ (gitignored) so that their
// configs resolve the bundlers and plugins from browser-glue/node_modules.
//
// Needs the built package (`just build-browser`), the collector binary (`just
// collector-bin`) and Chromium; `just test-bundlers` does all three. Environment as for
// test/e2e/harness.mjs (COLLECTOR_BIN, CHROMIUM_BIN), and SDK_DIST_DIR: pack another
// build's dist/ (with browser-glue's package.json) instead of browser-glue/dist/, e.g. to
// try a fix.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, launchBrowser, queryApi, startCollector } from '../e2e/harness.mjs';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const BROWSER_GLUE = resolve(HERE, '../..');
const WORK = join(HERE, '.work');
const PACKAGE = '@wasm-otlp/browser';
/** The built package's dist/, or SDK_DIST_DIR's (another build, e.g. to try a fix, packed with browser-glue's package.json). */
const DIST = process.env.SDK_DIST_DIR ? resolve(process.env.SDK_DIST_DIR) : join(BROWSER_GLUE, 'dist');

let collector;
let browser;
let api;
let tarball;
/** Servers and dev servers to close after the test that started them failed. */
const running = new Set();

before(async () => {
  const built = join(DIST, 'min/index.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: build the package first with \`just build-browser\``);
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  let packDir = BROWSER_GLUE;
  if (process.env.SDK_DIST_DIR) {
    // The package as it would be with that dist/: package.json and README beside it.
    packDir = join(WORK, 'package-source');
    cpSync(DIST, join(packDir, 'dist'), { recursive: true });
    for (const file of ['package.json', 'README.md']) copyFileSync(join(BROWSER_GLUE, file), join(packDir, file));
  }
  const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', WORK], { cwd: packDir, encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`npm pack failed (${pack.status}):\n${pack.stderr}`);
  tarball = join(WORK, JSON.parse(pack.stdout)[0].filename);
  collector = await startCollector();
  browser = await launchBrowser();
  api = queryApi(collector.url);
}, { timeout: 60_000 });

after(async () => {
  for (const close of running) await close().catch(() => {});
  await browser?.close();
  await collector?.stop();
}, { timeout: 30_000 });

/** A fresh app in .work/<name>/: app/*, the bundler's config, and the tarball unpacked as node_modules/@wasm-otlp/browser. */
function makeApp(name, config) {
  const dir = join(WORK, name);
  cpSync(join(HERE, 'app'), dir, { recursive: true });
  if (config) copyFileSync(join(HERE, 'configs', config), join(dir, config));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `bundler-app-${name}`, private: true, type: 'module' }, null, 2));
  const installed = join(dir, 'node_modules', PACKAGE);
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  return dir;
}

/** Runs `fn` with the app's folder as the working directory, as the bundler's CLI would be run. */
async function inDir(dir, fn) {
  const previous = process.cwd();
  process.chdir(dir);
  try {
    return await fn();
  } finally {
    process.chdir(previous);
  }
}

/** Registers `close` to run even if the test fails; returns the function that runs and deregisters it. */
function closing(close) {
  running.add(close);
  return async () => {
    running.delete(close);
    await close();
  };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** A static file server for `root` (what hosting a production build does): 404 for what is not there, no fallback page. */
async function serveStatic(root) {
  root = resolve(root);
  const server = createServer(async (req, res) => {
    let file = resolve(root, `.${decodeURIComponent(new URL(req.url, 'http://x').pathname)}`);
    if (file !== root && !file.startsWith(root + sep)) return res.writeHead(403).end();
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const close = closing(() => new Promise((ok) => {
    server.close(ok);
    server.closeAllConnections(); // the browser's keep-alive connections
  }));
  return { url: `http://127.0.0.1:${server.address().port}`, close };
}

/** The files under `dir`, relative, for failure messages. */
function listing(dir) {
  return readdirSync(dir, { recursive: true }).filter((f) => !String(f).startsWith('node_modules')).sort().join(', ');
}

/**
 * Opens `url` (the app's page) with `?collector=...&case=<name>`, waits for the app to
 * report, and checks: no page error, console error or failed request, the app says ok, a
 * .wasm came from the app's own server, and the collector holds the span
 * `bundler-span-<name>` of service `bundler-<name>`. `built`: the build's output folder,
 * listed in failure messages.
 */
async function checkApp(t, url, name, built) {
  const page = await browser.context.newPage();
  const problems = [];
  const responses = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.stack ?? error}`));
  page.on('console', (message) => message.type() === 'error' && problems.push(`console error: ${message.text()}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on('response', (response) => responses.push({ url: response.url(), status: response.status(), type: response.headers()['content-type'] ?? '' }));
  let report;
  let seen;
  try {
    const target = new URL(url);
    target.searchParams.set('collector', collector.url);
    target.searchParams.set('case', name);
    await page.goto(target.href, { timeout: 20_000 });
    await page.waitForSelector('#status:not([data-state="loading"])', { timeout: 20_000 }).catch(() => {});
    report = await page.$eval('#status', (el) => ({ state: el.dataset.state, text: el.textContent }));
  } finally {
    // What happened up to the report (closing the page may abort the SDK's flush on page hide).
    report ??= { state: 'not loaded', text: '' };
    report.problems = [...problems];
    seen = `responses:\n${responses.map((r) => `  ${r.status} ${r.url} (${r.type})`).join('\n')}${built ? `\nbuilt: ${listing(built)}` : ''}`;
    await page.close().catch(() => {});
  }
  assert.equal(report.state, 'ok', `${name}: the page reports ${report.state}: ${report.text}\n${report.problems.join('\n')}\n${seen}`);
  assert.deepEqual(report.problems, [], `${name}: the page logged errors\n${seen}`);

  const origin = new URL(url).origin;
  const wasm = responses.filter((r) => new URL(r.url).pathname.endsWith('.wasm'));
  assert.ok(wasm.some((r) => r.status === 200 && new URL(r.url).origin === origin), `${name}: no .wasm loaded from ${origin}\n${seen}`);
  for (const r of wasm) t.diagnostic(`wasm: ${r.status} ${new URL(r.url).pathname} (${r.type})`);

  const span = await api.waitFor((spans) => spans.find((s) => s.name === `bundler-span-${name}`), { what: `span bundler-span-${name}` });
  assert.equal(span.service, `bundler-${name}`);
  assert.equal(span.attrs['bundler.case'], name);
}

test('Vite: production build', { timeout: 90_000 }, async (t) => {
  const { build } = await import('vite');
  const dir = makeApp('vite-build');
  await build({ root: dir, logLevel: 'warn' });
  const server = await serveStatic(join(dir, 'dist'));
  await checkApp(t, `${server.url}/`, 'vite-build', join(dir, 'dist'));
  await server.close();
});

test('Vite: dev server', { timeout: 90_000 }, async (t) => {
  const { createServer: createViteServer } = await import('vite');
  const dir = makeApp('vite-dev');
  const port = await freePort();
  const vite = await createViteServer({ root: dir, logLevel: 'warn', server: { host: '127.0.0.1', port, strictPort: true } });
  const close = closing(() => vite.close());
  await vite.listen();
  await checkApp(t, `http://127.0.0.1:${port}/`, 'vite-dev');
  await close();
});

/** The webpack config in `dir` with the CLI's defaults for `mode`, compiled there. */
async function webpackCompiler(dir, mode) {
  const { default: webpack } = await import('webpack');
  const { default: config } = await import(pathToFileURL(join(dir, 'webpack.config.js')).href);
  const quiet = { stats: 'errors-warnings', infrastructureLogging: { level: 'warn' } };
  return inDir(dir, () => webpack({ ...config, mode, ...quiet }));
}

test('webpack: production build', { timeout: 90_000 }, async (t) => {
  const dir = makeApp('webpack-build', 'webpack.config.js');
  const compiler = await webpackCompiler(dir, 'production');
  const stats = await new Promise((ok, fail) => compiler.run((error, stats) => (error ? fail(error) : ok(stats))));
  await new Promise((ok) => compiler.close(ok));
  const info = stats.toJson({ all: false, errors: true, warnings: true });
  assert.ok(!stats.hasErrors(), `webpack errors:\n${info.errors.map((e) => e.message).join('\n')}`);
  for (const w of info.warnings) t.diagnostic(`webpack warning: ${w.message.split('\n')[0]}`);
  copyFileSync(join(dir, 'index.html'), join(dir, 'dist/index.html')); // the page, as any static copy step puts it
  const server = await serveStatic(join(dir, 'dist'));
  await checkApp(t, `${server.url}/`, 'webpack-build', join(dir, 'dist'));
  await server.close();
});

test('webpack: webpack-dev-server', { timeout: 90_000 }, async (t) => {
  const { default: WebpackDevServer } = await import('webpack-dev-server');
  const dir = makeApp('webpack-dev', 'webpack.config.js');
  const compiler = await webpackCompiler(dir, 'development');
  const port = await freePort();
  const server = await inDir(dir, async () => {
    const server = new WebpackDevServer({ ...compiler.options.devServer, host: '127.0.0.1', port }, compiler);
    await server.start();
    return server;
  });
  const close = closing(() => server.stop());
  await checkApp(t, `http://127.0.0.1:${port}/`, 'webpack-dev');
  await close();
});

test('Rollup: production build (node-resolve, import-meta-assets)', { timeout: 90_000 }, async (t) => {
  const { rollup } = await import('rollup');
  const dir = makeApp('rollup-build', 'rollup.config.js');
  const { default: config } = await import(pathToFileURL(join(dir, 'rollup.config.js')).href);
  await inDir(dir, async () => {
    const bundle = await rollup({ ...config, onwarn: (w) => t.diagnostic(`rollup warning: ${w.message}`) });
    await bundle.write(config.output);
    await bundle.close();
  });
  copyFileSync(join(dir, 'index.html'), join(dir, 'dist/index.html'));
  const server = await serveStatic(join(dir, 'dist'));
  await checkApp(t, `${server.url}/`, 'rollup-build', join(dir, 'dist'));
  await server.close();
});

/** The esbuild app's own steps besides bundling: the page and the SDK's wasm into dist/. */
function copyPageAndWasm(dir) {
  const dist = join(dir, 'dist');
  mkdirSync(dist, { recursive: true });
  copyFileSync(join(dir, 'index.html'), join(dist, 'index.html'));
  const sdk = join(dir, 'node_modules', PACKAGE, 'dist/min');
  for (const file of readdirSync(sdk).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(sdk, file), join(dist, file));
}

test('esbuild: production bundle (wasm copied beside it)', { timeout: 90_000 }, async (t) => {
  const esbuild = await import('esbuild');
  const dir = makeApp('esbuild-build', 'esbuild.config.js');
  const { default: options } = await import(pathToFileURL(join(dir, 'esbuild.config.js')).href);
  await esbuild.build({ ...options, absWorkingDir: dir, minify: true, logLevel: 'warning' });
  copyPageAndWasm(dir);
  const server = await serveStatic(join(dir, 'dist'));
  await checkApp(t, `${server.url}/`, 'esbuild-build', join(dir, 'dist'));
  await server.close();
});

test('esbuild: serve mode', { timeout: 90_000 }, async (t) => {
  const esbuild = await import('esbuild');
  const dir = makeApp('esbuild-serve', 'esbuild.config.js');
  const { default: options } = await import(pathToFileURL(join(dir, 'esbuild.config.js')).href);
  copyPageAndWasm(dir);
  const context = await esbuild.context({ ...options, absWorkingDir: dir, logLevel: 'warning' });
  const close = closing(() => context.dispose());
  const { port } = await context.serve({ servedir: join(dir, 'dist'), host: '127.0.0.1', port: await freePort() });
  await checkApp(t, `http://127.0.0.1:${port}/`, 'esbuild-serve');
  await close();
});

test('no bundler: <script type="module"> and an import map to dist/min/index.js', { timeout: 60_000 }, async (t) => {
  const dir = makeApp('no-bundler');
  const server = await serveStatic(dir);
  await checkApp(t, `${server.url}/no-bundler.html`, 'no-bundler');
  await server.close();
});

test('publint finds no error in the packed package', { timeout: 60_000 }, async (t) => {
  const { publint } = await import('publint');
  const { formatMessage } = await import('publint/utils');
  const dir = makeApp('publint');
  const installed = join(dir, 'node_modules', PACKAGE);
  // `pack: false`: the folder holds exactly the tarball's files.
  const { messages, pkg } = await publint({ pkgDir: installed, pack: false, level: 'suggestion' });
  const text = (m) => `${m.type}: ${formatMessage(m, pkg, { color: false }) ?? m.code}`;
  for (const m of messages) t.diagnostic(text(m));
  assert.deepEqual(messages.filter((m) => m.type === 'error').map(text), []);
});

test('the package refers to files beside it only as a literal new URL(\'./file\', import.meta.url)', async () => {
  // Vite, webpack and Rollup's import-meta-assets emit and rewrite only that form; given a
  // computed one (jco's default loader writes new URL(`./${name}`, import.meta.url)) they
  // glob the module's folder: Rollup's plugin refuses to build, Vite's dev server serves
  // the pre-bundled dependency's folder (.map, _metadata.json) as modules, webpack and
  // Vite's build emit every file of dist/min/ as an asset.
  const dir = makeApp('literal-urls');
  const sdk = join(dir, 'node_modules', PACKAGE, 'dist');
  const wrong = [];
  for (const file of readdirSync(sdk, { recursive: true }).filter((f) => /\.m?js$/.test(f))) {
    const code = await readFile(join(sdk, file), 'utf8');
    for (const m of code.matchAll(/import\.meta\.url/g)) {
      const before = code.slice(Math.max(0, m.index - 120), m.index);
      const literal = /new URL\((["'])\.\/([\w.-]+)\1,\s*$/.exec(before);
      if (!literal) wrong.push(`dist/${file}: ...${before.slice(-60)}import.meta.url`);
      else if (!existsSync(join(sdk, dirname(file), literal[2]))) wrong.push(`dist/${file}: ${literal[2]} is not in the package beside it`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('arethetypeswrong: the types resolve for ESM consumers (node16 from ESM, bundler)', { timeout: 60_000 }, () => {
  // Offline: attw reads the tarball. The package is ESM only, so node10 and require() are out of scope.
  const attw = spawnSync(join(BROWSER_GLUE, 'node_modules/.bin/attw'), ['--profile', 'esm-only', '--no-color', tarball], { encoding: 'utf8' });
  assert.equal(attw.status, 0, `attw found problems:\n${attw.stdout}${attw.stderr}`);
});
