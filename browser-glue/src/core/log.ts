/**
 * Log records: what `log()`, the console and uncaught errors become, as OTLP logs in the
 * trace of the span active when they were made (the component batches them apart from
 * spans and sends them to `/v1/logs`).
 */

import type { Span } from './span.js';
import type { Attributes } from './ops.js';
import type { TimeInput } from './time.js';

/** Log levels, as consoles name them. */
export type Severity = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** OTLP `SeverityNumber` of each level (the first of its four steps). */
export const SEVERITY_NUMBER: Record<Severity, number> = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 };

/** Options of `log`. */
export interface LogOptions {
  attributes?: Attributes;
  /** When it happened (default: now). */
  time?: TimeInput;
  /** The span it belongs to (default: the active span; `null`: none). */
  span?: Span | null;
  /** A scope registered with `registerScope` (default: the SDK's own). */
  scope?: number;
}
