/**
 * The slice of the jco-transpiled component that the SDK drives, typed by hand so the
 * rest of the SDK does not depend on generated files.
 */

/** `recorder.apply`'s outcome. */
export interface ApplyOutcome {
  applied: number;
  refused: number;
  /** Why the first refused operation was refused. */
  firstRefusal?: string;
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
    forceFlush(): void;
    /** Unix nanoseconds at which `tick` would export, if anything is queued. */
    nextDeadline(): bigint | undefined;
    tick(): void;
    shutdown(): void;
    readStats(): Record<string, bigint>;
  };
}
