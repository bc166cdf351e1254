/**
 * Console calls as log records: `console.error` and `console.warn` by default (others on
 * request), each in the trace of the span active when it was called, with its arguments
 * as the body (an `Error` among them also as `exception.*` attributes). The page's own
 * call runs first, with its own arguments, whatever happens here.
 */

import type { Severity } from '../core/log.js';
import { exceptionAttributes } from '../core/span.js';
import type { Tracer } from '../core/tracer.js';
import type { Instrumentation } from './instrumentation.js';

/** Console methods that can be recorded, and the severity each gets. */
const LEVELS = { error: 'error', warn: 'warn', info: 'info', log: 'info', debug: 'debug' } as const satisfies Record<string, Severity>;

/** A console method `consoleInstrumentation` can record. */
export type ConsoleLevel = keyof typeof LEVELS;

/** Longest body recorded from one call (the component also cuts at its value length). */
const MAX_BODY = 4096;

/** Wraps the `levels` methods of `console`; returns the function that restores them. */
export function instrumentConsole(tracer: Tracer, scope: number, levels: readonly ConsoleLevel[]): () => void {
  if (typeof console === 'undefined') return () => {};
  const restores = levels.map((level) => {
    const original = console[level];
    if (typeof original !== 'function') return () => {};
    let inside = false;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const result = original.apply(this, args);
      // The SDK's own warnings (and anything logging from inside recording) are not recorded again.
      if (!inside) {
        inside = true;
        tracer.safely(() => {
          const error = args.find((arg): arg is Error => arg instanceof Error);
          tracer.log(LEVELS[level], body(args), { scope, attributes: error ? exceptionAttributes(error) : undefined });
        }, undefined);
        inside = false;
      }
      return result;
    };
    console[level] = wrapped;
    return () => {
      if (console[level] === wrapped) console[level] = original;
    };
  });
  return () => restores.forEach((restore) => restore());
}

/** The arguments as one line, as a console shows them (objects as JSON where they can be). */
function body(args: unknown[]): string {
  let text = '';
  for (const arg of args) {
    if (text.length >= MAX_BODY) break;
    text += (text ? ' ' : '') + describe(arg);
  }
  return text.slice(0, MAX_BODY);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value)?.slice(0, MAX_BODY) ?? String(value);
    } catch {
      // Cycles, BigInts, throwing getters.
    }
  }
  try {
    return String(value);
  } catch {
    return '';
  }
}

/** Records `console.error` and `console.warn` (or the `levels` given) as log records. */
export function consoleInstrumentation(options: { levels?: ConsoleLevel[] } = {}): Instrumentation {
  return {
    name: 'console',
    install: (context) => instrumentConsole(context.tracer, context.scope('@wasm-otlp/instrumentation-console'), options.levels ?? ['error', 'warn']),
  };
}
