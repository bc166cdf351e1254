/**
 * React integration, in its own entry so that apps without React do not pay for it:
 * `useOtlpTrace(componentName)` records a `component.render.<name>` span for the
 * component's life on screen (mount to unmount) and returns it, so work the component
 * does can hang under it (`startSpan(name, { parent: span })`).
 *
 * ```jsx
 * import { useOtlpTrace } from '@wasm-otlp/browser/react';
 * function Cart() { const span = useOtlpTrace('Cart'); ... }
 * ```
 */

import { useEffect, useRef } from 'react';
import type { Span } from './core/span.js';
import { startSpan } from './index.js';

/** Traces the calling component's life; returns its span (non-recording before `init`). */
export function useOtlpTrace(componentName: string): Span {
  const state = useRef<{ name: string; span: Span } | undefined>(undefined);
  // Started at the first render under this name; a new name is a new component life.
  if (state.current?.name !== componentName) {
    const span = startSpan(`component.render.${componentName}`, { attributes: { 'react.component': componentName } });
    state.current = { name: componentName, span };
  }
  const span = state.current.span;
  useEffect(() => {
    span.addEvent('mounted');
    return () => span.end();
  }, [span]);
  return span;
}
