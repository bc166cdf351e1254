/** Traces `XMLHttpRequest`: a client span per `send`, `traceparent` where allowed, status and errors. */

import type { Span } from '../core/span.js';
import type { Tracer } from '../core/tracer.js';
import { type HttpSettings, absoluteUrl, endWithError, endWithStatus, isIgnored, mayPropagate, startClientSpan, traceHeaders } from './http.js';

/** What `open` saw, kept per request. */
const opened = new WeakMap<XMLHttpRequest, { method: string; url: URL | undefined }>();

/** Wraps `XMLHttpRequest.prototype.open` and `send`; returns the function that restores them. */
export function instrumentXhr(tracer: Tracer, settings: HttpSettings): () => void {
  if (typeof XMLHttpRequest === 'undefined') return () => {};
  const proto = XMLHttpRequest.prototype;
  const { open, send } = proto;
  proto.open = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) {
    opened.set(this, { method: method.toUpperCase(), url: absoluteUrl(url) });
    return (open as (...args: unknown[]) => void).call(this, method, url, ...rest);
  } as typeof proto.open;
  proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    const request = opened.get(this);
    if (request?.url && !isIgnored(request.url, settings)) {
      const span = startClientSpan(tracer, request.method, request.url, settings.scope);
      if (mayPropagate(request.url, settings)) {
        for (const [name, value] of Object.entries(traceHeaders(span))) this.setRequestHeader(name, value);
      }
      watch(this, span);
    }
    return send.call(this, body as XMLHttpRequestBodyInit | null | undefined);
  };
  return () => {
    proto.open = open;
    proto.send = send;
  };
}

/** Ends `span` when the request settles. */
function watch(xhr: XMLHttpRequest, span: Span): void {
  let failure: string | undefined;
  for (const type of ['error', 'timeout', 'abort'] as const) {
    xhr.addEventListener(type, () => (failure = type), { once: true });
  }
  xhr.addEventListener(
    'loadend',
    () => {
      if (failure) endWithError(span, new Error(`XMLHttpRequest ${failure}`), failure);
      else endWithStatus(span, xhr.status);
    },
    { once: true },
  );
}
