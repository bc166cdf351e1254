// Builds the benchmark pages into bench/out/ with esbuild and measures what apps ship.
import * as esbuild from 'esbuild';
import { copyFile, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * Bundles every page into `out`:
 * - out/per-span/: per-span.ts (ours from src/ with the dropping transport, and OTel),
 *   not minified (readable CPU profiles; minifying does not change speed), with gen/'s wasm.
 * - out/init/: the three app bundles, minified, with dist/min/'s wasm beside ours.
 * Returns the paths and the per-span bundle's module line ranges (for profiles).
 */
export async function buildPages(glue) {
  const bench = join(glue, 'bench');
  const out = join(bench, 'out');
  await rm(out, { recursive: true, force: true });
  const common = { absWorkingDir: glue, bundle: true, format: 'esm', target: 'es2022', platform: 'browser', logLevel: 'warning' };

  const perSpan = join(out, 'per-span');
  await esbuild.build({
    ...common,
    entryPoints: { page: join(bench, 'pages/per-span.ts') },
    outdir: perSpan,
    plugins: [swapTransport(join(bench, 'pages/drop-transport.ts'))],
  });
  await copyFile(join(bench, 'pages/per-span.html'), join(perSpan, 'index.html'));
  await copyWasm(join(glue, 'gen'), perSpan);

  const init = join(out, 'init');
  await esbuild.build({
    ...common,
    minify: true,
    entryPoints: {
      ours: join(bench, 'pages/ours-app.js'),
      'ours-core': join(bench, 'pages/ours-core.js'),
      'otel-core': join(bench, 'pages/otel-core.js'),
      'otel-full': join(bench, 'pages/otel-full.js'),
    },
    outdir: init,
  });
  await copyFile(join(bench, 'pages/init.html'), join(init, 'index.html'));
  await copyWasm(join(glue, 'dist/min'), init);

  const pageJs = await readFile(join(perSpan, 'page.js'), 'utf8');
  return { out, perSpan, init, modules: moduleRanges(pageJs) };
}

/** Bundle-time swap: src/sdk.ts gets `stand-in` instead of its fetch transport. */
function swapTransport(standIn) {
  return {
    name: 'swap-fetch-transport',
    setup(build) {
      build.onResolve({ filter: /\/fetch-transport\.js$/ }, (args) =>
        args.importer.endsWith(join('src', 'sdk.ts')) ? { path: standIn } : undefined,
      );
    },
  };
}

async function copyWasm(from, to) {
  for (const file of await readdir(from)) if (file.endsWith('.wasm')) await copyFile(join(from, file), join(to, file));
}

/** esbuild marks each module of an unminified bundle with a `// path` line: [{ module, from, to }] (0-based lines). */
function moduleRanges(code) {
  const ranges = [];
  code.split('\n').forEach((line, i) => {
    const m = /^\/\/ (\S+\.[cm]?[jt]s)$/.exec(line);
    if (!m) return;
    if (ranges.length) ranges.at(-1).to = i;
    ranges.push({ module: m[1], from: i, to: Infinity });
  });
  return ranges;
}

/** Raw and gzip -9 sizes of what apps ship: ours (JS, each core wasm), OTel core + exporter, OTel + instrumentations. */
export async function measureSizes(initDir) {
  const size = async (file) => {
    const bytes = await readFile(join(initDir, file));
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  };
  const wasm = (await readdir(initDir)).filter((f) => f.endsWith('.wasm')).sort();
  return {
    oursJs: await size('ours.js'),
    oursWasm: await Promise.all(wasm.map(size)),
    otelCore: await size('otel-core.js'),
    otelFull: await size('otel-full.js'),
  };
}
