/**
 * Traces `XMLHttpRequest`: a client span per `send`, `traceparent` where allowed, status
 * and errors. Fail-open: `open` and `send` always run the originals with the page's own
 * arguments and return or throw what they do.
 */

import type { Span } from '../core/span.js';
import type { Tracer } from '../core/tracer.js';
import { type HttpSettings, absoluteUrl, endWithError, endWithStatus, httpSettings, isIgnored, mayPropagate, startClientSpan, traceHeaders } from './http.js';
import type { Instrumentation } from './instrumentation.js';

/** What `open` saw, kept per request. */
const opened = new WeakMap<XMLHttpRequest, { method: string; url: URL | undefined }>();
/** Requests whose span is open (a second `send` on one of them starts none). */
const watched = new WeakSet<XMLHttpRequest>();

/** Wraps `XMLHttpRequest.prototype.open` and `send`; returns the function that restores them. */
export function instrumentXhr(tracer: Tracer, settings: HttpSettings): () => void {
  if (typeof XMLHttpRequest === 'undefined') return () => {};
  const proto = XMLHttpRequest.prototype;
  const { open, send } = proto;
  proto.open = function (this: XMLHttpRequest, method: string, url: string | URL) {
    // eslint-disable-next-line prefer-rest-params
    const result = (open as (...args: unknown[]) => void).apply(this, arguments as unknown as unknown[]);
    tracer.safely(() => opened.set(this, { method, url: absoluteUrl(url) }), undefined);
    return result;
  } as typeof proto.open;
  proto.send = function (this: XMLHttpRequest) {
    tracer.safely(() => {
      const request = opened.get(this);
      if (!request?.url || watched.has(this) || this.readyState !== XMLHttpRequest.OPENED || isIgnored(request.url, settings)) return;
      const span = startClientSpan(tracer, request.method, request.url, settings);
      watch(tracer, this, span);
      if (mayPropagate(request.url, settings)) {
        for (const [name, value] of Object.entries(traceHeaders(span))) this.setRequestHeader(name, value);
      }
    }, undefined);
    // eslint-disable-next-line prefer-rest-params
    return (send as (...args: unknown[]) => void).apply(this, arguments as unknown as unknown[]);
  };
  return () => {
    proto.open = open;
    proto.send = send;
  };
}

/** Ends `span` when the request settles. */
function watch(tracer: Tracer, xhr: XMLHttpRequest, span: Span): void {
  watched.add(xhr);
  let failure: string | undefined;
  for (const type of ['error', 'timeout', 'abort'] as const) {
    xhr.addEventListener(type, () => (failure = type), { once: true });
  }
  xhr.addEventListener(
    'loadend',
    () => {
      watched.delete(xhr);
      tracer.safely(() => (failure ? endWithError(span, new Error(`XMLHttpRequest ${failure}`), failure) : endWithStatus(span, xhr.status)), undefined);
    },
    { once: true },
  );
}

/** Traces `XMLHttpRequest` (see the module comment). */
export function xhrInstrumentation(): Instrumentation {
  return { name: 'xhr', install: (context) => instrumentXhr(context.tracer, httpSettings(context)) };
}
