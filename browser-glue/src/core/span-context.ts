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

// W3C Trace Context, as the component's `propagation` export parses it (world `tracing`;
// the browser world leaves it out to keep its glue off pages): optional surrounding
// spaces or tabs, lowercase hex, version ff invalid, version 00 exactly 55 characters,
// later versions with more fields after a '-'.
const TRACEPARENT = /^[ \t]*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const TRACESTATE_MEMBER =
  /^([a-z0-9][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const ZEROS = /^0+$/;

/** The remote context in W3C headers; undefined when `traceparent` is invalid. An invalid `tracestate` is dropped. */
export function extract(traceparent: string, tracestate?: string): SpanContext | undefined {
  const m = TRACEPARENT.exec(traceparent.replace(/[ \t]+$/, ''));
  if (!m || m[1] === 'ff' || (m[1] === '00' && m[5] !== undefined) || ZEROS.test(m[2]) || ZEROS.test(m[3])) return undefined;
  return { traceId: m[2], spanId: m[3], traceFlags: parseInt(m[4], 16), traceState: validTraceState(tracestate), isRemote: true };
}

/** `header` without empty members if it is a valid `tracestate` (at most 32 members, keys unique). */
function validTraceState(header: string | undefined): string | undefined {
  const members = (header ?? '')
    .split(',')
    .map((m) => m.replace(/^[ \t]+|[ \t]+$/g, ''))
    .filter(Boolean);
  const keys = new Set(members.map((m) => m.slice(0, m.indexOf('='))));
  const valid = members.length <= 32 && keys.size === members.length && members.every((m) => TRACESTATE_MEMBER.test(m));
  return valid && members.length ? members.join(',') : undefined;
}
