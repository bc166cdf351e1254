/**
 * The host side of the component in a browser (or worker, or Node): clock, randomness and
 * transport, shaped as jco's import object.
 */

import { timeOriginUnixNanos } from '../core/time.js';

/** What a payload carries (the WIT `transport.signal`, as jco passes it). */
export type Signal = 'traces' | 'logs';

/** What the component's `transport.send` is wired to. */
export interface Sender {
  send(signal: Signal, body: Uint8Array, count: number): boolean;
}

/** The import object for jco's `instantiate`. */
export function hostImports(sender: Sender) {
  const origin = timeOriginUnixNanos();
  return {
    'wasm-otlp:tracing/clock': {
      /** Unix nanoseconds, monotonic within the page: the origin plus `performance.now()`. */
      nowUnixNanos: (): bigint => origin + BigInt(Math.round(performance.now() * 1e6)),
    },
    'wasm-otlp:tracing/random': {
      /** Cryptographic randomness (seeds the component's ID generator). */
      randomBytes: (len: number): Uint8Array => crypto.getRandomValues(new Uint8Array(len)),
    },
    'wasm-otlp:tracing/transport': {
      send: (signal: Signal, body: Uint8Array, count: number): boolean => sender.send(signal, body, count),
    },
    'wasm-otlp:tracing/types': {},
  };
}
