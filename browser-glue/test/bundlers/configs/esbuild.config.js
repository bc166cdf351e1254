// esbuild: `esbuild main.js --bundle --format=esm --outdir=dist` (with --minify for
// production, --servedir=dist to serve). esbuild does not emit files referenced by
// `new URL(..., import.meta.url)`, so the app also copies the SDK's wasm beside its
// bundle: `cp node_modules/@wasm-otlp/browser/dist/min/*.wasm dist/`.
export default {
  entryPoints: ['main.js'],
  bundle: true,
  format: 'esm',
  outdir: 'dist',
};
