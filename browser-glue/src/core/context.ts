/**
 * The active span: the parent a new span gets when none is given, kept across `await`
 * without zone.js.
 *
 * A scope makes a span active. While the code that opened it runs synchronously (inside
 * `withSpan`, the synchronous part of `traceAsync`, the dispatch of a traced click, the
 * task of a navigation) the scope is *exact*: the innermost exact scope is the answer.
 * Afterwards a scope can stay open as a *flow* (an async function awaiting, a click's
 * follow-up work) until it settles. A flow counts only from the end of the synchronous run
 * that started it: until then the code running is its caller's, not its own. Code that
 * runs later, outside every exact scope, is a continuation of one of the open flows, and
 * JavaScript cannot tell which (native `await` resumes without a hook; `AsyncContext` is
 * not shipped yet). So:
 * - if every open flow belongs to one trace, the innermost flow is the answer (the common
 *   case: one user action and its awaits, whose fetches become its children);
 * - if open flows belong to different traces, there is no answer (a new trace) rather
 *   than a guess that could join work to someone else's trace.
 * A flow that has not settled after `FLOW_LIMIT_MS` (a polling loop, a promise that
 * never settles) stops being anyone's implicit parent, so that it cannot adopt the rest of
 * the page's life. A scope that closes while a later one is open is removed where it
 * stands, so scopes that overlap in time never leave an ended span active.
 */

import type { Span } from './span.js';
import { now } from './time.js';

/** How long an unsettled flow stays an implicit parent, in milliseconds. */
export const FLOW_LIMIT_MS = 30_000;

/** One open scope; compared by identity. */
interface Scope {
  readonly span: Span | undefined;
  /** Whether the code that opened it is still running synchronously. */
  exact(): boolean;
  /** Whether the synchronous run that opened it has ended (it may act as a flow). */
  awake: boolean;
  /** When it opened (`performance.now()`), for `FLOW_LIMIT_MS`. */
  readonly opened: number;
}

const open: Scope[] = [];

/** The span new spans hang under by default, if any. */
export function activeSpan(): Span | undefined {
  for (let i = open.length - 1; i >= 0; i--) if (open[i].exact()) return open[i].span;
  if (!open.length) return undefined;
  // Outside every exact scope: a continuation of one of the live flows, if any.
  const since = now() - FLOW_LIMIT_MS;
  let flow: Scope | undefined;
  for (const scope of open) {
    if (!scope.awake || scope.opened < since) continue;
    if (flow && !sameTrace(scope.span, flow.span)) return undefined;
    flow = scope;
  }
  return flow?.span;
}

/**
 * Opens a scope for `span`, exact while `exact()` says so and a flow after that; the
 * returned function closes it (once).
 */
export function enterSpan(span: Span | undefined, exact: () => boolean): () => void {
  const scope: Scope = { span, exact, awake: false, opened: now() };
  queueMicrotask(() => (scope.awake = true));
  return push(scope);
}

function push(scope: Scope): () => void {
  open.push(scope);
  return () => {
    const at = open.lastIndexOf(scope);
    if (at >= 0) open.splice(at, 1);
  };
}

/** Runs `fn` with `span` active (`undefined`: with no active span), then closes the scope. */
export function withSpan<T>(span: Span | undefined, fn: () => T): T {
  // Never a flow: closed before its synchronous run ends.
  const leave = push({ span, exact: always, awake: false, opened: 0 });
  try {
    return fn();
  } finally {
    leave();
  }
}

/**
 * Runs async `fn` with `span` active: exactly while `fn` runs synchronously, then as a
 * flow until its promise settles.
 */
export async function withSpanAsync<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  let running = true;
  const leave = enterSpan(span, () => running);
  try {
    const promise = fn();
    running = false;
    return await promise;
  } finally {
    running = false;
    leave();
  }
}

/** An `exact` for scopes that live only while their opener runs. */
const always = () => true;

/** An `exact` that holds until the current synchronous run ends (the next microtask checkpoint). */
export function untilThisTaskYields(): () => boolean {
  let running = true;
  queueMicrotask(() => (running = false));
  return () => running;
}

function sameTrace(a: Span | undefined, b: Span | undefined): boolean {
  return a === b || (!!a && !!b && a.t0 === b.t0 && a.t1 === b.t1 && a.t2 === b.t2 && a.t3 === b.t3);
}
