/** Loads the jco-transpiled component (`gen/`, built by `just build-browser`). */

import { SMALL_MODULES } from '../../gen/small-modules.js';
import { instantiate } from '../../gen/tracing.js';
import type { TracingComponent } from '../core/component.js';
import { type Sender, hostImports } from './imports.js';

/** Compiles one of the component's core modules, given its file name (`tracing.core.wasm`, ...). */
export type CoreModuleLoader = (file: string) => Promise<WebAssembly.Module>;

/** Fetches core modules from `base` (default: beside the bundle, where `just build-browser` puts them). */
export function fetchCoreModules(base: string | URL = new URL('./', import.meta.url)): CoreModuleLoader {
  return (file) => WebAssembly.compileStreaming(fetch(new URL(file, base)));
}

/**
 * Instantiates the component with the browser's clock, randomness and `sender`. `load`
 * is asked only for the main core module: jco's tiny ones ship inside the bundle.
 */
export async function loadComponent(sender: Sender, load: CoreModuleLoader = fetchCoreModules()): Promise<TracingComponent> {
  const getCoreModule = (file: string) => {
    const bytes = SMALL_MODULES[file];
    return bytes ? WebAssembly.compile(bytes) : load(file);
  };
  // jco's generated types describe the same exports in more detail.
  return (await instantiate(getCoreModule, hostImports(sender) as never)) as unknown as TracingComponent;
}
