/**
 * The page view's span (`documentLoad`), once the page-load instrumentation recorded it,
 * and the latest interactions: what later page-level records join (web vitals the page
 * view, a long frame the interaction or page load it delayed), so that they share a trace.
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

/** The latest interaction spans, oldest first. */
const interactions: Span[] = [];

/** Notes an interaction span (the interaction instrumentation does). */
export function noteInteraction(span: Span): void {
  if (interactions.push(span) > 20) interactions.shift();
}

/**
 * The page-level span that `[start, end]` (page clock, ms) overlaps: the latest such
 * interaction, else the page view; none if neither.
 */
export function spanDuring(start: number, end: number): Span | undefined {
  const overlaps = (span: Span) => span.startMs < end && span.startMs + (span.duration ?? Infinity) > start;
  for (let i = interactions.length - 1; i >= 0; i--) if (overlaps(interactions[i])) return interactions[i];
  return page && overlaps(page) ? page : undefined;
}
