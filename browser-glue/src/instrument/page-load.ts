/**
 * The page-load span, from Navigation Timing Level 2 (`PerformanceNavigationTiming`, not
 * the deprecated `performance.timing`): a `documentLoad` span from navigation start to
 * the end of `load`, its phases as events, a `documentFetch` child for the document
 * request and a `resourceFetch` child per resource. It continues the server's trace when
 * the page carries `<meta name="traceparent">`.
 */

import type { Span } from '../core/span.js';
import { type SpanContext, extract } from '../core/span-context.js';
import { SpanKind, type Tracer } from '../core/tracer.js';
import { type UrlSanitizer, recordedUrl } from './url.js';
import type { Instrumentation } from './instrumentation.js';
import { setPageSpan } from './page-view.js';

/** Navigation Timing phases recorded as events on the page-load span, in order. */
const PHASES = [
  'fetchStart',
  'domainLookupStart',
  'domainLookupEnd',
  'connectStart',
  'secureConnectionStart',
  'connectEnd',
  'requestStart',
  'responseStart',
  'responseEnd',
  'domInteractive',
  'domContentLoadedEventStart',
  'domContentLoadedEventEnd',
  'domComplete',
  'loadEventStart',
  'loadEventEnd',
] as const;

/** Records the page load once `load` has finished; `parentFromMeta` reads the server's context. */
export function instrumentPageLoad(tracer: Tracer, scope: number, parentFromMeta: () => SpanContext | undefined, sanitizeUrl?: UrlSanitizer): () => void {
  if (typeof document === 'undefined' || typeof performance.getEntriesByType !== 'function') return () => {};
  let cancelled = false;
  const record = () => {
    // loadEventEnd is set after the load handlers return: wait one task.
    setTimeout(() => {
      if (!cancelled) tracer.safely(() => recordPageLoad(tracer, scope, parentFromMeta(), sanitizeUrl), undefined);
    });
  };
  if (document.readyState === 'complete') record();
  else addEventListener('load', record, { once: true });
  return () => {
    cancelled = true;
    removeEventListener('load', record);
  };
}

function recordPageLoad(tracer: Tracer, scope: number, parent: SpanContext | undefined, sanitizeUrl?: UrlSanitizer): void {
  const [nav] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
  if (!nav) return;
  const url = recordedUrl(location.href, sanitizeUrl);
  const page = tracer.startSpan('documentLoad', {
    scope,
    parent: parent ?? null,
    startTime: nav.startTime,
    attributes: {
      'url.full': url,
      'user_agent.original': navigator.userAgent,
      'navigation.type': nav.type,
    },
  });
  setPageSpan(page);
  for (const phase of PHASES) {
    const t = nav[phase];
    if (t > 0) page.addEvent(phase, undefined, t);
  }
  const fetchSpan = tracer.startSpan('documentFetch', { scope, parent: page, kind: SpanKind.Client, startTime: nav.fetchStart });
  addTransferAttributes(fetchSpan, nav);
  fetchSpan.setAttribute('url.full', url);
  if (nav.responseStatus) fetchSpan.setAttribute('http.response.status_code', nav.responseStatus);
  fetchSpan.end(nav.responseEnd);
  for (const resource of performance.getEntriesByType('resource') as PerformanceResourceTiming[]) {
    if (resource.startTime > nav.loadEventEnd) continue;
    const span = tracer.startSpan('resourceFetch', {
      scope,
      parent: page,
      kind: SpanKind.Client,
      startTime: resource.startTime,
      attributes: { 'url.full': recordedUrl(resource.name, sanitizeUrl), 'resource.initiator_type': resource.initiatorType },
    });
    addTransferAttributes(span, resource);
    span.end(resource.responseEnd || resource.startTime + resource.duration);
  }
  page.end(nav.loadEventEnd || performance.now());
}

function addTransferAttributes(span: Span, entry: PerformanceResourceTiming): void {
  if (entry.transferSize) span.setAttribute('http.response.size', entry.transferSize);
  if (entry.encodedBodySize) span.setAttribute('http.response.body.size', entry.encodedBodySize);
  if (entry.nextHopProtocol) span.setAttribute('network.protocol.name', entry.nextHopProtocol);
}

/** Records the page load (see the module comment), continuing `<meta name="traceparent">`. */
export function pageLoadInstrumentation(): Instrumentation {
  return {
    name: 'pageLoad',
    install: (context) => instrumentPageLoad(context.tracer, context.scope('@wasm-otlp/instrumentation-page-load'), traceFromMeta, context.sanitizeUrl),
  };
}

/** The server's trace context from `<meta name="traceparent">` (and `tracestate`), if any. */
export function traceFromMeta(): SpanContext | undefined {
  const meta = (name: string) => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content;
  const traceparent = meta('traceparent');
  return traceparent ? extract(traceparent, meta('tracestate')) : undefined;
}
