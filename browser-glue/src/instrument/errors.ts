/**
 * Uncaught errors and unhandled promise rejections as error spans: an `exception` event
 * with type, message and stack, and the error status. Parented to the active span, if any.
 */

import type { Tracer } from '../core/tracer.js';
import { fail } from '../helpers.js';
import { type UrlSanitizer, recordedUrl } from './url.js';
import type { Instrumentation } from './instrumentation.js';

/** Listens for `error` and `unhandledrejection`; returns the function that stops it. */
export function instrumentErrors(tracer: Tracer, scope: number, sanitizeUrl?: UrlSanitizer): () => void {
  if (typeof addEventListener === 'undefined') return () => {};
  const onError = (event: ErrorEvent) =>
    tracer.safely(() => {
      // Resource load errors (img, script) reach window only in the capture phase; skip them here.
      if (!(event instanceof ErrorEvent)) return;
      const span = tracer.startSpan('exception', {
        scope,
        attributes: { 'error.type': 'javascript', 'code.filepath': recordedUrl(event.filename, sanitizeUrl), 'code.lineno': event.lineno, 'code.column': event.colno },
      });
      fail(span, event.error ?? event.message);
      span.end();
    }, undefined);
  const onRejection = (event: PromiseRejectionEvent) =>
    tracer.safely(() => {
      const span = tracer.startSpan('unhandledrejection', { scope, attributes: { 'error.type': 'promise' } });
      fail(span, event.reason);
      span.end();
    }, undefined);
  addEventListener('error', onError);
  addEventListener('unhandledrejection', onRejection);
  return () => {
    removeEventListener('error', onError);
    removeEventListener('unhandledrejection', onRejection);
  };
}

/** Records uncaught errors and unhandled rejections (see the module comment). */
export function errorInstrumentation(): Instrumentation {
  return {
    name: 'errors',
    install: (context) => instrumentErrors(context.tracer, context.scope('@wasm-otlp/instrumentation-errors'), context.sanitizeUrl),
  };
}
