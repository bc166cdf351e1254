/**
 * What an automatic instrumentation is: a value the app passes to `init` (each made by a
 * factory such as `fetchInstrumentation()`), installed when the SDK starts and removed at
 * `shutdown`. Apps import only the factories they use, so bundlers leave the rest out.
 */

import type { Tracer } from '../core/tracer.js';
import type { UrlSanitizer } from './url.js';

/** A URL pattern: a prefix string or a regular expression. */
export type UrlMatcher = string | RegExp;

/** What the SDK gives an instrumentation when it installs it. */
export interface InstrumentationContext {
  readonly tracer: Tracer;
  /** Registers the instrumentation scope `name` (once per name); returns its index for `startSpan({ scope })`. */
  scope(name: string): number;
  /** The exporter's base URL: requests under it (its `/v1/traces`, `/v1/logs`) are never traced. */
  readonly exporterUrl: string;
  /** Cross-origin URLs whose requests get `traceparent` (`InitOptions.propagateTraceHeaderCorsUrls`). */
  readonly propagateTraceHeaderCorsUrls: readonly UrlMatcher[];
  /** URLs whose requests are not traced (`InitOptions.ignoreUrls`). */
  readonly ignoreUrls: readonly UrlMatcher[];
  /** The app's URL rewrite before recording (`InitOptions.sanitizeUrl`). */
  readonly sanitizeUrl?: UrlSanitizer;
}

/** An automatic instrumentation. */
export interface Instrumentation {
  /** What it instruments (`fetch`, `xhr`, ...). */
  readonly name: string;
  /** Installs it; returns the function that removes it. */
  install(context: InstrumentationContext): () => void;
}
