/**
 * Uncaught errors and unhandled promise rejections as error spans (an `exception` event
 * with type, message and stack, and the error status; parented to the active span, if
 * any) and as `error` log records on those spans.
 */

import type { Tracer } from '../core/tracer.js';
import { exceptionAttributes } from '../core/span.js';
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
      const error = event.error ?? event.message;
      fail(span, error);
      tracer.log('error', message(error), { span, scope, attributes: exceptionAttributes(error) });
      span.end();
    }, undefined);
  const onRejection = (event: PromiseRejectionEvent) =>
    tracer.safely(() => {
      const span = tracer.startSpan('unhandledrejection', { scope, attributes: { 'error.type': 'promise' } });
      fail(span, event.reason);
      tracer.log('error', message(event.reason), { span, scope, attributes: exceptionAttributes(event.reason) });
      span.end();
    }, undefined);
  addEventListener('error', onError);
  addEventListener('unhandledrejection', onRejection);
  return () => {
    removeEventListener('error', onError);
    removeEventListener('unhandledrejection', onRejection);
  };
}

/** What a console would print for an uncaught `error`. */
function message(error: unknown): string {
  return error instanceof Error ? `Uncaught ${error.name}: ${error.message}` : `Uncaught ${String(error)}`;
}

/** Records uncaught errors and unhandled rejections (see the module comment). */
export function errorInstrumentation(): Instrumentation {
  return {
    name: 'errors',
    install: (context) => instrumentErrors(context.tracer, context.scope('@wasm-otlp/instrumentation-errors'), context.sanitizeUrl),
  };
}
