/**
 * The slice of the jco-transpiled component that the SDK drives, typed by hand so the
 * rest of the SDK does not depend on generated files.
 */

/** `wasm-otlp:tracing/types.span-context` as jco lifts it. */
export interface WitSpanContext {
  traceId: { hi: bigint; lo: bigint };
  spanId: bigint;
  traceFlags: number;
  traceState: string;
  isRemote: boolean;
}

/** `recorder.apply`'s outcome. */
export interface ApplyOutcome {
  applied: number;
  refused: number;
  malformed?: string;
}

/** The component's exports used by the SDK. */
export interface TracingComponent {
  recorder: {
    apply(batch: { words: Uint32Array; numbers: Float64Array; text: string; timeOriginUnixNanos: bigint }): ApplyOutcome;
    reserveRoots(count: number): Uint32Array;
    reserveSpanIds(count: number): Uint32Array;
  };
  pipeline: {
    configure(config: WitConfig): void;
    registerScope(scope: { name: string; version: string; attributes: WitKeyValue[] }): number;
    forceFlush(): void;
    tick(): void;
    shutdown(): void;
    readStats(): Record<string, bigint>;
  };
  propagation: {
    /** Throws (jco maps `result` errors to exceptions) when the header is invalid. */
    extract(traceparent: string, tracestate: string | undefined): WitSpanContext;
  };
}

/** `types.key-value`. */
export interface WitKeyValue {
  key: string;
  value: { tag: 'string'; val: string } | { tag: 'bool'; val: boolean } | { tag: 's64'; val: bigint } | { tag: 'f64'; val: number };
}

/** `types.config`. */
export interface WitConfig {
  resource: WitKeyValue[];
  defaultScope: { name: string; version: string; attributes: WitKeyValue[] };
  sampler: { tag: 'always-on' } | { tag: 'always-off' } | { tag: 'trace-id-ratio'; val: number } | { tag: 'parent-based-ratio'; val: number };
  limits: { maxAttributes: number; maxValueLength: number; maxEvents: number; maxLinks: number; maxAttributesPerItem: number };
  batch: { maxExportBatchSize: number; maxQueueSize: number; scheduledDelayMs: number; maxOpenSpans: number };
}
