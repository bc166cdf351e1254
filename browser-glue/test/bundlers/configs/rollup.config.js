// Rollup: resolve packages from node_modules and emit the files that modules reference
// with `new URL('./file', import.meta.url)` (the SDK's wasm), the standard two plugins.
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { importMetaAssets } from '@web/rollup-plugin-import-meta-assets';

export default {
  input: 'main.js',
  output: { dir: 'dist', format: 'es' },
  plugins: [nodeResolve(), importMetaAssets()],
};
