// webpack: bundle main.js (its default entry is ./src/index.js) into dist/; the dev server
// serves index.html from the app's folder. Nothing for the SDK's wasm: webpack 5 emits it
// as an asset from `new URL('./tracing.core.wasm', import.meta.url)` by itself.
export default {
  entry: './main.js',
  devServer: { static: '.' },
};
