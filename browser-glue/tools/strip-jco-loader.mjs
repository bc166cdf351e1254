// Removes the fallback core-module loader from jco's generated `gen/tracing.js`:
//   if (!getCoreModule) getCoreModule = (name) => fetchCompile(new URL(`./${name}`, import.meta.url));
// The SDK always passes its own loader (src/host/load.ts, with the one literal wasm URL
// that bundlers understand), so the fallback never runs; but bundlers read its computed
// `new URL(`./${name}`, import.meta.url)` as a glob over the whole folder: Rollup's
// import-meta-assets plugin refuses to build, Vite's dev server imports every file beside
// the pre-bundled SDK as a module and the page never starts, webpack and Vite's production
// build copy every chunk as an asset. Fails if jco's output changed shape, so that an
// upgrade cannot bring the fallback back unnoticed. Run by `just transpile` after jco.
//
//   node tools/strip-jco-loader.mjs gen/tracing.js
import { readFile, writeFile } from 'node:fs/promises';

const file = process.argv[2] ?? 'gen/tracing.js';
const LOADER = /^ *const fetchCompile = url => fetch\(url\)\.then\(WebAssembly\.compileStreaming\);\n/m;
const FALLBACK = /^( *)if \(!getCoreModule\) getCoreModule = \(name\) => fetchCompile\(new URL\(`\.\/\$\{name\}`, import\.meta\.url\)\);$/m;

let source = await readFile(file, 'utf8');
if (!LOADER.test(source) || !FALLBACK.test(source)) {
  console.error(`${file}: jco's fallback core-module loader is not where it was; check the output for other \`import.meta.url\` uses`);
  process.exit(1);
}
source = source.replace(LOADER, '').replace(FALLBACK, "$1if (!getCoreModule) throw new TypeError('wasm-otlp: getCoreModule is required');");
if (source.includes('import.meta.url')) {
  console.error(`${file}: still refers to import.meta.url`);
  process.exit(1);
}
await writeFile(file, source);
console.log(`removed jco's fallback core-module loader from ${file}`);
