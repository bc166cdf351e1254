/** Loads the jco-transpiled component (`gen/`, built by `just build-browser`). */

import { SMALL_MODULES } from '../../gen/small-modules.js';
import { instantiate } from '../../gen/tracing.js';
import type { TracingComponent } from '../core/component.js';
import { type Sender, hostImports } from './imports.js';

/** Compiles one of the component's core modules, given its file name (`tracing.core.wasm`). */
export type CoreModuleLoader = (file: string) => Promise<WebAssembly.Module>;

/**
 * The default loader: fetches `tracing.core.wasm` from beside the SDK's module. The URL is
 * written as the literal `new URL('./tracing.core.wasm', import.meta.url)` because that is
 * the one form that Vite, webpack and Rollup's import-meta-assets plugin all recognise:
 * they emit the file as an asset and rewrite the URL (a computed or directory URL they
 * leave alone or turn into a `data:` URL).
 */
export const fetchCoreModule: CoreModuleLoader = async () => {
  const url = new URL('./tracing.core.wasm', import.meta.url);
  const response = await fetch(url);
  const type = response.headers.get('content-type') ?? '';
  if (!response.ok || type.startsWith('text/html')) {
    throw new Error(`wasm-otlp: ${url.href} answered ${response.status} ${type}: serve tracing.core.wasm beside the SDK, or pass loadCoreModule to init`);
  }
  // Streaming compilation needs the wasm MIME type; some static servers send another.
  return type.startsWith('application/wasm') ? WebAssembly.compileStreaming(response) : WebAssembly.compile(await response.arrayBuffer());
};

/**
 * Instantiates the component with the browser's clock, randomness and `sender`. `load`
 * is asked only for the main core module: jco's tiny ones ship inside the bundle.
 */
export async function loadComponent(sender: Sender, load: CoreModuleLoader = fetchCoreModule): Promise<TracingComponent> {
  const getCoreModule = (file: string) => {
    const bytes = SMALL_MODULES[file];
    return bytes ? WebAssembly.compile(bytes) : load(file);
  };
  // jco's generated types describe the same exports in more detail.
  return (await instantiate(getCoreModule, hostImports(sender) as never)) as unknown as TracingComponent;
}
