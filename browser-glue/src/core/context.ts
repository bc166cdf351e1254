/**
 * The active span: the parent a new span gets when none is given. Set for the synchronous
 * extent of `withSpan` (and of the helpers built on it); instrumentations restore it
 * around the callbacks they wrap.
 */

import type { Span } from './span.js';

let active: Span | undefined;

/** The span new spans hang under by default, if any. */
export function activeSpan(): Span | undefined {
  return active;
}

/** Runs `fn` with `span` active, restoring the previous active span afterwards. */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  const previous = active;
  active = span;
  try {
    return fn();
  } finally {
    active = previous;
  }
}

/**
 * Makes `span` active until the returned function is called, for scopes that outlast the
 * current call (an event dispatch that ends in a later task).
 */
export function enterSpan(span: Span): () => void {
  const previous = active;
  active = span;
  return () => {
    if (active === span) active = previous;
  };
}
