/**
 * Traces `fetch`: a client span per request, `traceparent` where allowed, status and
 * errors. Fail-open: the page's call reaches the original `fetch` whatever tracing does,
 * and gets back exactly what the original returns, resolves to or rejects with.
 */

import type { Span } from '../core/span.js';
import type { Tracer } from '../core/tracer.js';
import { type HttpSettings, absoluteUrl, endWithError, endWithStatus, httpSettings, isIgnored, mayPropagate, startClientSpan, traceHeaders } from './http.js';
import type { Instrumentation } from './instrumentation.js';

/** Wraps `globalThis.fetch`; returns the function that restores it. */
export function instrumentFetch(tracer: Tracer, settings: HttpSettings): () => void {
  const original = globalThis.fetch;
  if (typeof original !== 'function') return () => {};
  const traced = function (this: unknown, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    let span: Span | undefined;
    let sent = init;
    tracer.safely(() => {
      const request = input instanceof Request ? input : undefined;
      const url = absoluteUrl(request ? request.url : input instanceof URL ? input : String(input));
      if (!url || isIgnored(url, settings)) return;
      span = startClientSpan(tracer, init?.method ?? request?.method ?? 'GET', url, settings);
      const trace = traceHeaders(span);
      if (mayPropagate(url, settings) && trace.traceparent) {
        // Throws on headers the page got wrong: then the original call goes out unchanged
        // and rejects as it would have.
        const headers = new Headers(init?.headers ?? request?.headers);
        for (const [name, value] of Object.entries(trace)) headers.set(name, value);
        sent = { ...init, headers };
      }
    }, undefined);
    let result: Promise<Response>;
    try {
      result = original.call(this, input, sent);
    } catch (error) {
      if (span) tracer.safely(() => endWithError(span!, error, errorType(error)), undefined);
      throw error;
    }
    if (!span || typeof result?.then !== 'function') return result;
    const ended = span;
    return result.then(
      (response) => {
        tracer.safely(() => endWithStatus(ended, response.status), undefined);
        return response;
      },
      (error: unknown) => {
        tracer.safely(() => endWithError(ended, error, errorType(error)), undefined);
        throw error;
      },
    );
  } as typeof fetch;
  globalThis.fetch = traced;
  return () => {
    if (globalThis.fetch === traced) globalThis.fetch = original;
  };
}

function errorType(error: unknown): string {
  if (error instanceof DOMException && error.name === 'AbortError') return 'AbortError';
  return error instanceof Error ? error.name : 'Error';
}

/** Traces `fetch` (see the module comment). */
export function fetchInstrumentation(): Instrumentation {
  return { name: 'fetch', install: (context) => instrumentFetch(context.tracer, httpSettings(context)) };
}
