/**
 * Uncaught errors and unhandled promise rejections as error spans: an `exception` event
 * with type, message and stack, and the error status. Parented to the active span, if any.
 */

import type { Tracer } from '../core/tracer.js';
import { fail } from '../helpers.js';

/** Listens for `error` and `unhandledrejection`; returns the function that stops it. */
export function instrumentErrors(tracer: Tracer, scope: number): () => void {
  if (typeof addEventListener === 'undefined') return () => {};
  const onError = (event: ErrorEvent) => {
    // Resource load errors (img, script) reach window only in the capture phase; skip them here.
    if (!(event instanceof ErrorEvent)) return;
    const span = tracer.startSpan('exception', {
      scope,
      attributes: { 'error.type': 'javascript', 'code.filepath': event.filename, 'code.lineno': event.lineno, 'code.column': event.colno },
    });
    fail(span, event.error ?? event.message);
    span.end();
  };
  const onRejection = (event: PromiseRejectionEvent) => {
    const span = tracer.startSpan('unhandledrejection', { scope, attributes: { 'error.type': 'promise' } });
    fail(span, event.reason);
    span.end();
  };
  addEventListener('error', onError);
  addEventListener('unhandledrejection', onRejection);
  return () => {
    removeEventListener('error', onError);
    removeEventListener('unhandledrejection', onRejection);
  };
}
