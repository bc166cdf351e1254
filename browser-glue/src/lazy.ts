/**
 * The lazy entry: a few hundred bytes that load the SDK and its WebAssembly only when the
 * app asks, so the first paint never waits for tracing.
 *
 * ```js
 * import { ensureOtlpLoaded } from '@wasm-otlp/browser/lazy';
 * requestIdleCallback(() => ensureOtlpLoaded({ endpoint, serviceName }));
 * ```
 */

import type { InitOptions } from './index.js';

type Api = typeof import('./index.js');

let loading: Promise<Api> | undefined;

/** Loads the SDK (once) and initialises it; resolves to the full API. */
export function ensureOtlpLoaded(options: InitOptions): Promise<Api> {
  loading ??= import('./index.js').then(async (api) => {
    await api.init(options);
    return api;
  });
  return loading;
}
