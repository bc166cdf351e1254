/**
 * React integration, in its own entry so that apps without React do not pay for it:
 * `useOtlpTrace(componentName)` records a `component.render.<name>` span for the
 * component's life (from its first render to its unmount, with a `mounted` event) and
 * returns it, so work the component does can hang under it
 * (`startSpan(name, { parent: span })`). A new name starts a new life, and a new span.
 * The span is recorded only once the component mounts (`deferred`), with the first
 * render's start time: a render React throws away (it suspended, or was interrupted)
 * leaves nothing behind.
 *
 * ```jsx
 * import { useOtlpTrace } from '@wasm-otlp/browser/react';
 * function Cart() { const span = useOtlpTrace('Cart'); ... }
 * ```
 */

import { useEffect, useRef } from 'react';
import type { Span } from './core/span.js';
import { startSpan } from './api.js';

/** One component life. */
interface Life {
  name: string;
  span: Span;
  /** The effect was cleaned up and not re-run (yet). */
  cleanedUp?: boolean;
}

/** Traces the calling component's life; returns its span (non-recording before `init`). */
export function useOtlpTrace(componentName: string): Span {
  const ref = useRef<Life | undefined>(undefined);
  // Started at the first render under this name.
  if (ref.current?.name !== componentName) {
    const attributes = { 'react.component': componentName };
    ref.current = { name: componentName, span: startSpan(`component.render.${componentName}`, { attributes, deferred: true }) };
  }
  const life = ref.current;
  useEffect(() => {
    // StrictMode (development) runs mount -> cleanup -> mount synchronously, so the end
    // waits for a microtask: a mount right after a cleanup (that re-mount) cancels it.
    if (life.cleanedUp) life.cleanedUp = false;
    else life.span.begin().addEvent('mounted');
    return () => {
      life.cleanedUp = true;
      queueMicrotask(() => life.cleanedUp && life.span.end());
    };
  }, [life]);
  return life.span;
}
