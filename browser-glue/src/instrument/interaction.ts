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
  const onEvent = (event: Event) => {
    const element = event.target instanceof Element ? event.target.closest(settings.selector) : null;
    if (!element) return;
    const span = tracer.startSpan(`user.${event.type}`, { scope: settings.scope, parent: null, attributes: attributesOf(event, element) });
    activate(span, event);
  };
  for (const type of settings.events) addEventListener(type, onEvent, { capture: true });
  return () => {
    for (const type of settings.events) removeEventListener(type, onEvent, { capture: true });
  };
}

/** Makes `span` the active span: exactly while `event` is dispatched, as a flow until the task ends; then ends it. */
function activate(span: Span, event: Event): void {
  const leave = enterSpan(span, () => event.eventPhase !== Event.NONE);
  setTimeout(() => {
    leave();
    span.end();
  });
}

function attributesOf(event: Event, element: Element): Attributes {
  const attributes: Attributes = { 'event.type': event.type, 'element.tag': element.tagName.toLowerCase() };
  if (element.id) attributes['element.id'] = element.id;
  const name = element.getAttribute('data-otlp') || element.getAttribute('aria-label') || element.textContent?.trim().slice(0, 64);
  if (name) attributes['element.name'] = name;
  if (event instanceof MouseEvent) {
    attributes['mouse.x'] = event.clientX;
    attributes['mouse.y'] = event.clientY;
  }
  if (event instanceof KeyboardEvent) {
    // Printable keys typed into a text field are what the user writes: never record them.
    const typing = event.key.length === 1 && isTextEntry(element);
    attributes.key = typing ? '(redacted)' : event.key;
    if (!typing) attributes.code = event.code;
    attributes.ctrl = event.ctrlKey;
    attributes.shift = event.shiftKey;
    attributes.alt = event.altKey;
    attributes.meta = event.metaKey;
  }
  return attributes;
}

/** Fields whose keystrokes are private text. */
function isTextEntry(element: Element): boolean {
  return element instanceof HTMLTextAreaElement || (element instanceof HTMLElement && element.isContentEditable) || (element instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'submit', 'reset'].includes(element.type));
}
