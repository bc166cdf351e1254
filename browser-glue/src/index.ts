/**
 * @wasm-otlp/browser: tracing for web apps through the wasm-otlp component, with the
 * default automatic instrumentations (page load, fetch, XHR, interactions, errors,
 * navigations). `@wasm-otlp/browser/core` is the same without them.
 *
 * ```js
 * import { init, startSpan, traceAsync } from '@wasm-otlp/browser';
 * await init({ endpoint: 'http://localhost:4318', serviceName: 'shop-web' });
 * await traceAsync('checkout', async (span) => { span.setAttribute('cart.items', 3); ... });
 * ```
 */

import { init as initCore } from './api.js';
import type { Instrumentation } from './instrument/instrumentation.js';
import { type DefaultInstrumentations, defaultInstrumentations } from './instrumentations.js';
import { type Sdk, type SdkOptions, createSdk as createCoreSdk } from './sdk.js';
import { type SessionOptions, pageSessions } from './core/session.js';
import { Outbox, type OutboxOptions } from './transport/outbox.js';

export * from './core.js';
export * from './instrumentations.js';

/**
 * Everything `init` accepts: `instrumentations` turns defaults off (`{ xhr: false }`) or
 * lists exactly those to install; `session` sets how long sessions last (15 minutes idle,
 * 4 hours at most), or `false` for none; `persist` bounds the bodies kept in IndexedDB
 * until they arrive (2 MB, 24 hours), or `false` to keep none.
 */
export interface InitOptions extends Omit<SdkOptions, 'instrumentations' | 'session' | 'persist'> {
  instrumentations?: DefaultInstrumentations | Instrumentation[];
  session?: SessionOptions | false;
  persist?: OutboxOptions | false;
}

function withDefaults(options: InitOptions): SdkOptions {
  const { instrumentations: chosen, session, persist } = options;
  return {
    ...options,
    instrumentations: Array.isArray(chosen) ? chosen : defaultInstrumentations(chosen),
    session: session === false ? undefined : pageSessions(session),
    persist: persist === false ? undefined : new Outbox(persist),
  };
}

/** Starts the SDK with the default instrumentations (once; later calls return the running one). */
export function init(options: InitOptions): Promise<Sdk> {
  return initCore(withDefaults(options));
}

/** Loads and starts an independent SDK instance with the default instrumentations. */
export function createSdk(options: InitOptions): Promise<Sdk> {
  return createCoreSdk(withDefaults(options));
}
