/**
 * The page view's span (`documentLoad`), once the page-load instrumentation recorded it:
 * what later page-level records (web vitals) join, so that a page view is one trace.
 */

import type { Span } from '../core/span.js';

let page: Span | undefined;

/** Sets the page view's span (the page-load instrumentation does). */
export function setPageSpan(span: Span): void {
  page = span;
}

/** The page view's span, if recorded. */
export function pageSpan(): Span | undefined {
  return page;
}
