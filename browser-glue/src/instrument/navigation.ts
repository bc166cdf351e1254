/**
 * Single-page-app navigations: a `navigation` span per `history.pushState`,
 * `replaceState` (when the URL changes) and `popstate`, from the change until the next
 * frame is painted, with the old and new URL.
 */

import { enterSpan, untilThisTaskYields } from '../core/context.js';
import type { Tracer } from '../core/tracer.js';
import { type UrlSanitizer, recordedUrl } from './url.js';
import type { Instrumentation } from './instrumentation.js';

/** Wraps the History API and listens for `popstate`; returns the function that restores them. */
export function instrumentNavigation(tracer: Tracer, scope: number, sanitizeUrl?: UrlSanitizer): () => void {
  if (typeof history === 'undefined' || typeof location === 'undefined') return () => {};
  let current = location.href;
  const navigated = (trigger: string) => {
    if (location.href === current) return;
    const span = tracer.startSpan('navigation', {
      scope,
      attributes: { 'url.full': recordedUrl(location.href, sanitizeUrl), 'navigation.from': recordedUrl(current, sanitizeUrl), 'navigation.trigger': trigger },
    });
    current = location.href;
    // The route's own work (rendering, data fetches it starts) happens now and in the
    // following frame: parent it here.
    const leave = enterSpan(span, untilThisTaskYields());
    const done = () =>
      tracer.safely(() => {
        leave();
        span.end();
      }, undefined);
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => setTimeout(done));
    else setTimeout(done);
  };
  // Fail-open: the page's call runs first, and its result (or exception) is what it gets.
  const { pushState, replaceState } = history;
  history.pushState = function (this: History, ...args: Parameters<History['pushState']>) {
    const result = pushState.apply(this, args);
    tracer.safely(() => navigated('pushState'), undefined);
    return result;
  };
  history.replaceState = function (this: History, ...args: Parameters<History['replaceState']>) {
    const result = replaceState.apply(this, args);
    tracer.safely(() => navigated('replaceState'), undefined);
    return result;
  };
  const onPop = () => tracer.safely(() => navigated('popstate'), undefined);
  addEventListener('popstate', onPop);
  return () => {
    history.pushState = pushState;
    history.replaceState = replaceState;
    removeEventListener('popstate', onPop);
  };
}

/** Traces single-page-app navigations (see the module comment). */
export function navigationInstrumentation(): Instrumentation {
  return {
    name: 'navigation',
    install: (context) => instrumentNavigation(context.tracer, context.scope('@wasm-otlp/instrumentation-navigation'), context.sanitizeUrl),
  };
}
