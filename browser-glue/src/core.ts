/**
 * @wasm-otlp/browser/core: the SDK without automatic instrumentation (spans, the
 * component, the transport). Add instrumentations one by one from
 * `@wasm-otlp/browser/instrumentations`; only those end up in the bundle.
 *
 * ```js
 * import { init } from '@wasm-otlp/browser/core';
 * import { fetchInstrumentation } from '@wasm-otlp/browser/instrumentations';
 * await init({ endpoint, serviceName: 'shop-web', instrumentations: [fetchInstrumentation()] });
 * ```
 */

export { extractContext, flush, getActiveSpan, getSdk, getSessionId, init, injectContext, log, measure, setUser, shutdown, startSpan, traceAsync } from './api.js';
export { FLOW_LIMIT_MS, activeSpan, withSpan } from './core/context.js';
export type { LogOptions, Severity } from './core/log.js';
export type { Attributes, AttributeValue } from './core/ops.js';
export { type SpanStatus, StatusCode, Span } from './core/span.js';
export { type SpanContext, traceparent } from './core/span-context.js';
export { SpanKind, type StartSpanOptions, Tracer } from './core/tracer.js';
export type { TimeInput } from './core/time.js';
export type { CoreModuleLoader } from './host/load.js';
export type { Instrumentation, InstrumentationContext, UrlMatcher } from './instrument/instrumentation.js';
export type { UrlSanitizer } from './instrument/url.js';
export { createSdk, type SamplerOption, type Sdk, type SdkOptions, type User } from './sdk.js';
export { type Session, type SessionOptions, pageSessions } from './core/session.js';
export { Outbox, type OutboxOptions } from './transport/outbox.js';
