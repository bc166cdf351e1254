/**
 * User interaction: a span per `click` / `keydown` on chosen elements, with element and
 * key attributes (printable keys typed into text fields are redacted). Each is the root of
 * a new trace (a user action starts one). The span is active while the page's own
 * handlers for that event run, and after that as a flow until the task ends (see
 * `core/context.ts`), so the fetches they start, also after an `await`, are its children.
 */

import { enterSpan } from '../core/context.js';
import type { Span } from '../core/span.js';
import type { Tracer } from '../core/tracer.js';
import type { Attributes } from '../core/ops.js';
import type { Instrumentation } from './instrumentation.js';
import { noteInteraction } from './page-view.js';

/** Which events on which elements are traced. */
export interface InteractionSettings {
  /** DOM events (default `click` and `keydown`). */
  events: string[];
  /** A CSS selector the target (or an ancestor) must match (default: interactive elements and `[data-otlp]`). */
  selector: string;
  /** Scope of interaction spans. */
  scope: number;
}

/** The default `selector`. */
export const INTERACTIVE = 'button, a, input, select, textarea, [role=button], [data-otlp]';

/** Listens (capture phase, before the page's handlers); returns the function that stops it. */
export function instrumentInteractions(tracer: Tracer, settings: InteractionSettings): () => void {
  if (typeof document === 'undefined') return () => {};
  const onEvent = (event: Event) =>
    tracer.safely(() => {
      const element = event.target instanceof Element ? event.target.closest(settings.selector) : null;
      if (!element) return;
      const span = tracer.startSpan(`user.${event.type}`, { scope: settings.scope, parent: null, attributes: attributesOf(event, element) });
      noteInteraction(span);
      activate(tracer, span, event);
    }, undefined);
  for (const type of settings.events) addEventListener(type, onEvent, { capture: true });
  return () => {
    for (const type of settings.events) removeEventListener(type, onEvent, { capture: true });
  };
}

/** Makes `span` the active span: exactly while `event` is dispatched, as a flow until the task ends; then ends it. */
function activate(tracer: Tracer, span: Span, event: Event): void {
  const leave = enterSpan(span, () => event.eventPhase !== Event.NONE);
  setTimeout(() =>
    tracer.safely(() => {
      leave();
      span.end();
    }, undefined),
  );
}

function attributesOf(event: Event, element: Element): Attributes {
  const attributes: Attributes = { 'event.type': event.type, 'element.tag': element.tagName.toLowerCase() };
  if (element.id) attributes['element.id'] = element.id;
  // Privacy is decided on the element the event really targets: inside a shadow root
  // `event.target` is the host, and the matched element may be a link around an editor.
  const target = event.composedPath()[0];
  // A closed shadow root hides its inputs (the path stops at its host): a custom element
  // or a shadow host counts as a text entry, to be safe.
  const typedInto = target instanceof Element && (isTextEntry(target) || target.shadowRoot !== null || target.localName.includes('-'));
  // An element holding what the user types is never named by its text.
  const text = typedInto || element.querySelector(EDITABLE) ? undefined : element.textContent?.trim().slice(0, 64);
  const name = element.getAttribute('data-otlp') || element.getAttribute('aria-label') || text;
  if (name) attributes['element.name'] = name;
  if (event instanceof MouseEvent) {
    attributes['mouse.x'] = event.clientX;
    attributes['mouse.y'] = event.clientY;
  }
  if (event instanceof KeyboardEvent) {
    // Printable keys typed into a text field are what the user writes: never record them.
    const typing = event.key.length === 1 && (typedInto || isTextEntry(element));
    attributes.key = typing ? '(redacted)' : event.key;
    if (!typing) attributes.code = event.code;
    attributes.ctrl = event.ctrlKey;
    attributes.shift = event.shiftKey;
    attributes.alt = event.altKey;
    attributes.meta = event.metaKey;
  }
  return attributes;
}

/** Elements inside which the user may have typed. */
const EDITABLE = 'input, textarea, [contenteditable]:not([contenteditable=false])';

/** Fields whose keystrokes are private text. */
function isTextEntry(element: Element): boolean {
  return element instanceof HTMLTextAreaElement || (element instanceof HTMLElement && element.isContentEditable) || (element instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'submit', 'reset'].includes(element.type));
}

/** Traces clicks and key presses on interactive elements (see the module comment). */
export function interactionInstrumentation(options: { events?: string[]; selector?: string } = {}): Instrumentation {
  return {
    name: 'interactions',
    install: (context) =>
      instrumentInteractions(context.tracer, {
        events: options.events ?? ['click', 'keydown'],
        selector: options.selector ?? INTERACTIVE,
        scope: context.scope('@wasm-otlp/instrumentation-user-interaction'),
      }),
  };
}
