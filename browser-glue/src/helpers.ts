/**
 * Run code inside a span and end it with the right status: `measure` for synchronous
 * functions, `traceAsync` for async ones (the seed's `measure` / `trace_async`).
 */

import { withSpan, withSpanAsync } from './core/context.js';
import { type Span, StatusCode } from './core/span.js';
import type { StartSpanOptions, Tracer } from './core/tracer.js';

/** Marks `span` failed by `error`: an exception event and an error status. */
export function fail(span: Span, error: unknown): void {
  span.recordException(error);
  span.setStatus({ code: StatusCode.Error, message: error instanceof Error ? error.message : String(error) });
}

/** Runs `fn` in a new active span; ends it, with an error status if `fn` throws. */
export function measure<T>(tracer: Tracer, name: string, fn: (span: Span) => T, options?: StartSpanOptions): T {
  const span = tracer.startSpan(name, options);
  try {
    return withSpan(span, () => fn(span));
  } catch (error) {
    fail(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Runs async `fn` in a new span, active while `fn` runs and across its `await`s (see
 * `core/context.ts` for when overlapping flows leave that ambiguous), and ends it when the
 * promise settles: error status if it rejects.
 */
export async function traceAsync<T>(tracer: Tracer, name: string, fn: (span: Span) => Promise<T>, options?: StartSpanOptions): Promise<T> {
  const span = tracer.startSpan(name, options);
  try {
    return await withSpanAsync(span, () => fn(span));
  } catch (error) {
    fail(span, error);
    throw error;
  } finally {
    span.end();
  }
}
