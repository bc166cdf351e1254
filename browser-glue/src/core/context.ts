/**
 * The active span: the parent a new span gets when none is given. Scopes are entered
 * synchronously (`withSpan`) or across tasks (`enterSpan`, for an event dispatch or a
 * navigation that ends later); the active span is that of the innermost scope still
 * open. A scope that closes while a later one is open is removed where it stands, so
 * scopes that overlap in time (a click whose handler navigates) never leave an ended
 * span active.
 */

import type { Span } from './span.js';

/** One open scope; compared by identity. */
interface Scope {
  readonly span: Span | undefined;
}

const open: Scope[] = [];

/** The span new spans hang under by default, if any. */
export function activeSpan(): Span | undefined {
  return open.length ? open[open.length - 1].span : undefined;
}

/** Opens a scope for `span`; the returned function closes it (once). */
export function enterSpan(span: Span | undefined): () => void {
  const scope: Scope = { span };
  open.push(scope);
  return () => {
    const at = open.lastIndexOf(scope);
    if (at >= 0) open.splice(at, 1);
  };
}

/** Runs `fn` with `span` active (`undefined`: with no active span), then closes the scope. */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  const leave = enterSpan(span);
  try {
    return fn();
  } finally {
    leave();
  }
}
