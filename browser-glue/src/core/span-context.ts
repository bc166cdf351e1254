/** Span contexts as the JavaScript API shows them (OpenTelemetry's shape), and W3C headers. */

/** A span's identity across processes. */
export interface SpanContext {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  /** W3C trace flags; bit 0 = sampled. */
  traceFlags: number;
  /** W3C `tracestate`, if any. */
  traceState?: string;
  /** True when the context came from another process (header, meta tag, worker message). */
  isRemote?: boolean;
}

/** `traceFlags` bit: the trace is sampled. */
export const SAMPLED = 1;

const HEX = /^[0-9a-f]+$/;

/** Eight lowercase hex digits of a 32-bit word. */
export function hex8(word: number): string {
  return (word >>> 0).toString(16).padStart(8, '0');
}

/** Words of a lowercase hex string of 8·k digits (no validation). */
export function words(hex: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hex.length; i += 8) out.push(parseInt(hex.slice(i, i + 8), 16) >>> 0);
  return out;
}

/** Whether `ctx` has well-formed, non-zero IDs. */
export function isValidContext(ctx: SpanContext | undefined): ctx is SpanContext {
  return (
    !!ctx &&
    ctx.traceId.length === 32 &&
    ctx.spanId.length === 16 &&
    HEX.test(ctx.traceId) &&
    HEX.test(ctx.spanId) &&
    !/^0+$/.test(ctx.traceId) &&
    !/^0+$/.test(ctx.spanId)
  );
}

/** The `traceparent` header for a context (version 00). */
export function traceparent(ctx: SpanContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** 16 hex digits of a 64-bit value. */
export function hex16(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16).padStart(16, '0');
}

/** 32 hex digits of a trace ID given as two 64-bit halves. */
export function hex32(hi: bigint, lo: bigint): string {
  return hex16(hi) + hex16(lo);
}
