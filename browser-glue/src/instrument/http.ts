/**
 * What HTTP client instrumentations share: which URLs are ignored, which get trace
 * headers, and the stable semantic-convention attributes of a client span.
 */

import type { Span } from '../core/span.js';
import { StatusCode } from '../core/span.js';
import { SpanKind, type Tracer } from '../core/tracer.js';
import { isValidContext, traceparent } from '../core/span-context.js';
import type { InstrumentationContext, UrlMatcher } from './instrumentation.js';
import { type UrlSanitizer, recordedUrl } from './url.js';

/** Settings shared by the fetch and XHR instrumentations. */
export interface HttpSettings {
  /** Cross-origin URLs that may receive `traceparent` (same-origin ones always do). */
  propagateTraceHeaderCorsUrls: readonly UrlMatcher[];
  /** URLs never traced (the exporter's own endpoint is always ignored). */
  ignoreUrls: readonly UrlMatcher[];
  /** The exporter's endpoint. */
  exporterUrl: string;
  /** Scope of HTTP client spans. */
  scope: number;
  /** The app's URL rewrite before recording (`InitOptions.sanitizeUrl`). */
  sanitizeUrl?: UrlSanitizer;
}

/** The HTTP settings of an instrumentation being installed (fetch and XHR share one scope). */
export function httpSettings(context: InstrumentationContext): HttpSettings {
  return {
    propagateTraceHeaderCorsUrls: context.propagateTraceHeaderCorsUrls,
    ignoreUrls: context.ignoreUrls,
    exporterUrl: context.exporterUrl,
    scope: context.scope('@wasm-otlp/instrumentation-http'),
    sanitizeUrl: context.sanitizeUrl,
  };
}

function matches(url: string, matcher: UrlMatcher): boolean {
  return typeof matcher === 'string' ? url.startsWith(matcher) : matcher.test(url);
}

/** The absolute URL of a request target, or undefined when it cannot be parsed. */
export function absoluteUrl(target: string | URL): URL | undefined {
  try {
    return new URL(target, globalThis.location?.href);
  } catch {
    return undefined;
  }
}

/** Whether requests to `url` are not traced. */
export function isIgnored(url: URL, settings: HttpSettings): boolean {
  const href = url.href;
  return href.startsWith(settings.exporterUrl) || settings.ignoreUrls.some((m) => matches(href, m));
}

/** Whether `url` may receive trace headers: same origin, or allowed cross-origin. */
export function mayPropagate(url: URL, settings: HttpSettings): boolean {
  return url.origin === globalThis.location?.origin || settings.propagateTraceHeaderCorsUrls.some((m) => matches(url.href, m));
}

/** The methods the HTTP conventions know; any other is recorded as `_OTHER` (span names stay few). */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);

/** Starts a client span for `method url` with the stable HTTP client attributes. */
export function startClientSpan(tracer: Tracer, method: unknown, url: URL, settings: HttpSettings): Span {
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const upper = String(method).toUpperCase();
  const known = KNOWN_METHODS.has(upper) ? upper : '_OTHER';
  return tracer.startSpan(known, {
    kind: SpanKind.Client,
    scope: settings.scope,
    attributes: {
      'http.request.method': known,
      'http.request.method_original': known === upper ? undefined : String(method),
      'url.full': recordedUrl(url, settings.sanitizeUrl),
      'server.address': url.hostname,
      'server.port': port,
    },
  });
}

/** The headers to add to a request for `span` (none for a span with no valid context: tracing is off). */
export function traceHeaders(span: Span): Record<string, string> {
  const ctx = span.spanContext();
  if (!isValidContext(ctx)) return {};
  const headers: Record<string, string> = { traceparent: traceparent(ctx) };
  if (ctx.traceState) headers.tracestate = ctx.traceState;
  return headers;
}

/** Ends a client span with the response status (error from 400 up, as the conventions say for clients). */
export function endWithStatus(span: Span, status: number): void {
  span.setAttribute('http.response.status_code', status);
  if (status >= 400 || status === 0) {
    span.setAttribute('error.type', String(status));
    span.setStatus({ code: StatusCode.Error });
  }
  span.end();
}

/** Ends a client span that failed without a response. */
export function endWithError(span: Span, error: unknown, type: string): void {
  span.setAttribute('error.type', type);
  span.recordException(error);
  span.setStatus({ code: StatusCode.Error, message: error instanceof Error ? error.message : String(error) });
  span.end();
}
