/** Traces `fetch`: a client span per request, `traceparent` where allowed, status and errors. */

import type { Tracer } from '../core/tracer.js';
import { type HttpSettings, absoluteUrl, endWithError, endWithStatus, isIgnored, mayPropagate, startClientSpan, traceHeaders } from './http.js';

/** Wraps `globalThis.fetch`; returns the function that restores it. */
export function instrumentFetch(tracer: Tracer, settings: HttpSettings): () => void {
  const original = globalThis.fetch;
  if (typeof original !== 'function') return () => {};
  const traced: typeof fetch = (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const url = absoluteUrl(request ? request.url : input instanceof URL ? input : String(input));
    if (!url || isIgnored(url, settings)) return original(input, init);
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const span = startClientSpan(tracer, method, url, settings.scope);
    if (mayPropagate(url, settings)) {
      const headers = new Headers(init?.headers ?? request?.headers);
      for (const [name, value] of Object.entries(traceHeaders(span))) headers.set(name, value);
      init = { ...init, headers };
    }
    return original(input, init).then(
      (response) => {
        endWithStatus(span, response.status);
        return response;
      },
      (error: unknown) => {
        const aborted = error instanceof DOMException && error.name === 'AbortError';
        endWithError(span, error, aborted ? 'AbortError' : error instanceof Error ? error.name : 'Error');
        throw error;
      },
    );
  };
  globalThis.fetch = traced;
  return () => {
    if (globalThis.fetch === traced) globalThis.fetch = original;
  };
}
