/**
 * The module-level API both entries share (`@wasm-otlp/browser` and its `core`): one SDK
 * per page, started by `init`, and the calls that use it, which are safe before `init`
 * finished (they run the work, recording nothing).
 */

import { activeSpan } from './core/context.js';
import { Span } from './core/span.js';
import { type SpanContext, extract, traceparent } from './core/span-context.js';
import type { LogOptions, Severity } from './core/log.js';
import type { StartSpanOptions } from './core/tracer.js';
import { measure as measureIn, traceAsync as traceAsyncIn } from './helpers.js';
import { type Sdk, type SdkOptions, type User, createSdk } from './sdk.js';

let sdk: Sdk | undefined;
/** The last `setUser` call, applied by `init` when it came before. */
let user: Parameters<Sdk['setUser']> | undefined;

/** A span for calls made before `init` finished: carries nothing, records nothing. */
const NOT_STARTED = new Span({ writer: undefined as never, spanEnded() {} }, 0, 0, 0, 0, 0, 0, 0, '', 0);

/** Starts the SDK (once; later calls return the running one). */
export async function init(options: SdkOptions): Promise<Sdk> {
  if (!sdk) {
    sdk = await createSdk(options);
    if (user) await sdk.setUser(...user);
  }
  return sdk;
}

/** Names the user on every later span (see `Sdk.setUser`); before `init`, once it finished. */
export async function setUser(who: User | null, options?: { hash?: boolean }): Promise<void> {
  user = [who, options];
  await sdk?.setUser(who, options);
}

/** The current session's ID, once `init` finished and if sessions are on. */
export function getSessionId(): string | undefined {
  return sdk?.sessionId();
}

/** The running SDK, if `init` finished. */
export function getSdk(): Sdk | undefined {
  return sdk;
}

/** Starts a span (a non-recording one before `init` finished). */
export function startSpan(name: string, options?: StartSpanOptions): Span {
  return sdk ? sdk.tracer.startSpan(name, options) : NOT_STARTED;
}

/** Runs `fn` inside a new span and ends it (error status if it throws). */
export function measure<T>(name: string, fn: (span: Span) => T, options?: StartSpanOptions): T {
  return sdk ? measureIn(sdk.tracer, name, fn, options) : fn(NOT_STARTED);
}

/** Runs async `fn` inside a new span, ended when its promise settles. */
export function traceAsync<T>(name: string, fn: (span: Span) => Promise<T>, options?: StartSpanOptions): Promise<T> {
  return sdk ? traceAsyncIn(sdk.tracer, name, fn, options) : fn(NOT_STARTED);
}

/**
 * Records a log record (`severity` `trace` ... `fatal`) in the active span's trace, with
 * the session's ID; sent to the collector's `/v1/logs`. Nothing before `init` finished.
 */
export function log(severity: Severity, body: string, options?: LogOptions): void {
  sdk?.tracer.log(severity, body, options);
}

/** Applies recorded spans and exports everything queued. */
export function flush(): void {
  sdk?.flush();
}

/** Flushes and stops the SDK. */
export function shutdown(): void {
  sdk?.shutdown();
  sdk = undefined;
}

/**
 * W3C headers for `span`, to carry its context to another process or a worker
 * (`worker.postMessage({ trace: injectContext(span), ... })`).
 */
export function injectContext(span: Span): { traceparent: string; tracestate?: string } {
  const ctx = span.spanContext();
  return ctx.traceState ? { traceparent: traceparent(ctx), tracestate: ctx.traceState } : { traceparent: traceparent(ctx) };
}

/** The remote context in a carrier made by `injectContext` or in W3C headers (undefined if invalid). */
export function extractContext(carrier: { traceparent?: string; tracestate?: string } | undefined): SpanContext | undefined {
  return carrier?.traceparent ? extract(carrier.traceparent, carrier.tracestate) : undefined;
}

/** The active span, if any (alias of `activeSpan`, OpenTelemetry's name). */
export const getActiveSpan = activeSpan;
