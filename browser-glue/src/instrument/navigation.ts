/**
 * Single-page-app navigations: a `navigation` span per `history.pushState`,
 * `replaceState` (when the URL changes) and `popstate`, from the change until the next
 * frame is painted, with the old and new URL.
 */

import { enterSpan, untilThisTaskYields } from '../core/context.js';
import type { Tracer } from '../core/tracer.js';

/** Wraps the History API and listens for `popstate`; returns the function that restores them. */
export function instrumentNavigation(tracer: Tracer, scope: number): () => void {
  if (typeof history === 'undefined' || typeof location === 'undefined') return () => {};
  let current = location.href;
  const navigated = (trigger: string) => {
    if (location.href === current) return;
    const span = tracer.startSpan('navigation', {
      scope,
      attributes: { 'url.full': location.href, 'navigation.from': current, 'navigation.trigger': trigger },
    });
    current = location.href;
    // The route's own work (rendering, data fetches it starts) happens now and in the
    // following frame: parent it here.
    const leave = enterSpan(span, untilThisTaskYields());
    const done = () => {
      leave();
      span.end();
    };
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => setTimeout(done));
    else setTimeout(done);
  };
  const { pushState, replaceState } = history;
  history.pushState = function (...args: Parameters<History['pushState']>) {
    pushState.apply(this, args);
    navigated('pushState');
  };
  history.replaceState = function (...args: Parameters<History['replaceState']>) {
    replaceState.apply(this, args);
    navigated('replaceState');
  };
  const onPop = () => navigated('popstate');
  addEventListener('popstate', onPop);
  return () => {
    history.pushState = pushState;
    history.replaceState = replaceState;
    removeEventListener('popstate', onPop);
  };
}
