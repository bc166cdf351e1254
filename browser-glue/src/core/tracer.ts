/**
 * The tracer: starts spans with IDs from the component's blocks, records their
 * operations into the current batch, and hands the batch to the component when a batch of
 * spans ended, when the component's export deadline comes, or when asked to flush. The
 * component owns batch timing: the one timer here is armed at its `next-deadline`.
 *
 * Fail-open: every call into the component is guarded. If one throws (a trap), tracing is
 * off for the page from then on: spans become non-recording, recorded operations are
 * dropped, one console warning says why, and `stats()` counts it; the app goes on.
 */

import { activeSpan } from './context.js';
import type { TracingComponent } from './component.js';
import { IdPool } from './ids.js';
import { type LogOptions, SEVERITY_NUMBER, type Severity } from './log.js';
import { type Attributes, Op, OpWriter, type Settings } from './ops.js';
import { Span, type SpanSink } from './span.js';
import { SAMPLED, type SpanContext, isValidContext, words } from './span-context.js';
import { type TimeInput, now, timeOriginUnixNanos, toMs } from './time.js';

/** Span kinds (the recorder's numbering). */
export const enum SpanKind {
  Internal = 0,
  Server = 1,
  Client = 2,
  Producer = 3,
  Consumer = 4,
}

/** Options of `startSpan`. */
export interface StartSpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: { context: SpanContext; attributes?: Attributes }[];
  /** The parent: a span, a context (e.g. from another process), or `null` for a new trace. Default: the active span. */
  parent?: Span | SpanContext | null;
  startTime?: TimeInput;
  /** A scope registered with `registerScope` (default: the SDK's own). */
  scope?: number;
  /**
   * Record the span only once it is used (`begin()`, an attribute, an event, a status, or
   * `end()`), keeping its start time. A span never used is never recorded: for work that
   * may be abandoned before it counts, such as a React render that React throws away.
   */
  deferred?: boolean;
}

/** How the tracer batches. */
export interface TracerOptions {
  /** Ended spans per applied batch (the component's export batch size). */
  batchSize: number;
}

/** Counters the JavaScript side keeps (beside the component's `read-stats`). */
export interface TracerCounters {
  /** 1 once the component failed and tracing turned off for the page. */
  tracingOff: number;
  /** Errors inside instrumentation code, caught so that the page's own call went on. */
  instrumentationErrors: number;
}

/** While the transport is busy past the deadline, how often the timer looks again (ms). */
const BUSY_RECHECK_MS = 1000;

/** Starts spans and feeds the component. */
export class Tracer implements SpanSink {
  readonly writer = new OpWriter(timeOriginUnixNanos());
  readonly counters: TracerCounters = { tracingOff: 0, instrumentationErrors: 0 };
  private readonly ids: IdPool;
  private readonly origin = timeOriginUnixNanos();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private scopes = 0;
  private off = false;
  /** The page's session, whose ID every span carries as `session.id`. */
  session: { id(): string } | undefined;
  /** With sessions, the share of them whose new traces are kept (the `session` sampler). */
  sessionRatio: number | undefined;
  /** `user.*` attributes every span carries (`setUser`). */
  user: Attributes | undefined;
  /** Milliseconds the component adds to every time it encodes (`correctClock`). */
  clockCorrectionMs = 0;

  constructor(
    private readonly component: TracingComponent,
    private readonly options: TracerOptions,
  ) {
    this.ids = new IdPool(component.recorder);
  }

  /** Starts a span under `options.parent`, or the active span, or in a new trace. */
  startSpan(name: string, options: StartSpanOptions = {}): Span {
    const startMs = toMs(options.startTime);
    if (this.off) return this.inert(startMs);
    try {
      return this.begin(name, options, startMs);
    } catch (error) {
      this.fail(error);
      return this.inert(startMs);
    }
  }

  /** A span that records nothing and propagates nothing (tracing is off). */
  private inert(startMs: number): Span {
    return new Span(this, 0, 0, 0, 0, 0, 0, 0, '', startMs);
  }

  private begin(name: string, options: StartSpanOptions, startMs: number): Span {
    const parent = options.parent === undefined ? activeSpan() : options.parent;
    let span: Span;
    let parentHi = 0;
    let parentLo = 0;
    let remote = 0;
    if (parent instanceof Span && (parent.hi | parent.lo) !== 0) {
      const at = this.ids.nextSpanId();
      const ids = this.ids.spanIds;
      span = new Span(this, parent.t0, parent.t1, parent.t2, parent.t3, ids[at], ids[at + 1], parent.flags, parent.traceState, startMs);
      parentHi = parent.hi;
      parentLo = parent.lo;
    } else if (parent && !(parent instanceof Span) && isValidContext(parent)) {
      const [t0, t1, t2, t3, hi, lo] = words(parent.traceId + parent.spanId);
      const at = this.ids.nextSpanId();
      const ids = this.ids.spanIds;
      span = new Span(this, t0, t1, t2, t3, ids[at], ids[at + 1], this.sessionFlags(parent.traceFlags & 0xff), parent.traceState ?? '', startMs);
      parentHi = hi;
      parentLo = lo;
      remote = parent.isRemote ? 0x100 : 0;
    } else {
      const at = this.ids.nextRoot();
      const r = this.ids.roots;
      span = new Span(this, r[at], r[at + 1], r[at + 2], r[at + 3], r[at + 4], r[at + 5], this.sessionFlags(r[at + 6]), '', startMs);
    }
    if (span.flags & SAMPLED) {
      // No closure on the hot path: only deferred spans keep one.
      if (options.deferred) span.pending = () => this.writeStart(span, name, options, parentHi, parentLo, remote);
      else this.writeStart(span, name, options, parentHi, parentLo, remote);
    }
    return span;
  }

  /** Trace flags for a trace the page starts or continues: unsampled if the `session` sampler drops the session. */
  private sessionFlags(flags: number): number {
    return this.session && this.sessionRatio !== undefined && !sessionKept(this.session.id(), this.sessionRatio) ? flags & ~SAMPLED : flags;
  }

  /** The span's START, then the attributes and links it was started with. */
  private writeStart(span: Span, name: string, options: StartSpanOptions, parentHi: number, parentLo: number, remote: number): void {
    const w = this.writer;
    w.op(Op.Start, span.hi, span.lo);
    w.word(span.t0);
    w.word(span.t1);
    w.word(span.t2);
    w.word(span.t3);
    w.word(parentHi);
    w.word(parentLo);
    w.word(span.flags | remote);
    w.word(options.kind ?? SpanKind.Internal);
    w.word(options.scope ?? 0);
    w.string(name);
    w.string(span.traceState);
    w.time(span.startMs);
    if (this.session) span.setAttribute('session.id', this.session.id());
    if (this.user) span.setAttributes(this.user);
    if (options.attributes) span.setAttributes(options.attributes);
    if (options.links) for (const link of options.links) span.addLink(link.context, link.attributes);
  }

  /** Replaces the component's configuration; throws with the component's reason if it refuses. */
  configure(settings: Settings): void {
    this.applySettings((w) => w.configure(settings));
  }

  /** Registers an instrumentation scope; returns its index for `startSpan({ scope })`. */
  registerScope(name: string, version = ''): number {
    if (!this.off) this.applySettings((w) => w.scope(name, version));
    return ++this.scopes;
  }

  /**
   * Moves every time the component encodes from now on by `ms` (queued spans included),
   * for a page whose clock is off; each payload's resource says by how much.
   */
  correctClock(ms: number): void {
    if (this.off || ms === this.clockCorrectionMs) return;
    this.clockCorrectionMs = ms;
    this.writer.word(Op.Clock);
    this.writer.time(ms);
    this.apply();
  }

  /** Applies what is recorded, then the settings `write` records, at once. */
  private applySettings(write: (writer: OpWriter) => void): void {
    this.apply();
    write(this.writer);
    const outcome = this.component.recorder.apply(this.writer.drain());
    const refused = outcome.malformed ?? outcome.firstRefusal;
    if (refused) throw new Error(`wasm-otlp: ${refused}`);
  }

  /**
   * Records a log record in the trace of `options.span` or the active span, with the
   * session's ID and the user; nothing if the session is sampled out.
   */
  log(severity: Severity, body: string, options: LogOptions = {}): void {
    if (this.off || !this.sessionFlags(SAMPLED)) return;
    const span = options.span === undefined ? activeSpan() : options.span;
    const w = this.writer;
    w.word(Op.Log);
    if (span && (span.hi | span.lo) !== 0) {
      for (const word of [span.t0, span.t1, span.t2, span.t3, span.hi, span.lo, span.flags & 0xff]) w.word(word);
    } else {
      for (let i = 0; i < 7; i++) w.word(0);
    }
    w.word(SEVERITY_NUMBER[severity] ?? 0);
    w.word(options.scope ?? 0);
    w.string(severity);
    w.string(body);
    w.attributeList({ ...options.attributes, ...this.user, 'session.id': this.session?.id() });
    w.time(toMs(options.time));
    this.spanEnded();
  }

  /**
   * @internal Counts an ended span (or a log record). A full batch is handed over at once;
   * the first item to end while no deadline is armed is handed over too, so that the
   * component's deadline covers it, and the timer is armed at that deadline.
   */
  spanEnded(): void {
    if (++this.writer.ended >= this.options.batchSize || this.timer === undefined) {
      this.apply();
      this.arm();
    }
  }

  /** Hands the recorded operations to the component (which exports full batches). */
  apply(): void {
    if (this.writer.isEmpty) return;
    const batch = this.writer.drain();
    const outcome = this.call(() => this.component.recorder.apply(batch), undefined);
    if (outcome?.malformed) console.warn(`wasm-otlp: recorder refused a batch: ${outcome.malformed}`);
  }

  /** Applies what is recorded and exports everything queued now (what the transport cannot take yet goes out as it frees up). */
  flush(): void {
    this.disarm();
    this.apply();
    this.call(() => this.component.pipeline.forceFlush(), undefined);
    this.arm();
  }

  /** The transport has room again: the component sends what waits (a flush it owes included). */
  transportIdle(): void {
    this.call(() => this.component.pipeline.tick(), undefined);
    this.arm();
  }

  /** Stops the timer and the component (after a flush); later spans are not recorded. */
  shutdown(): void {
    this.flush();
    this.disarm();
    this.call(() => this.component.pipeline.shutdown(), undefined);
    this.off = true;
  }

  /** The component's counters and the tracer's own. */
  stats(): Record<string, bigint> {
    const stats = this.call(() => this.component.pipeline.readStats(), {} as Record<string, bigint>);
    return { ...stats, tracingOff: BigInt(this.counters.tracingOff), instrumentationErrors: BigInt(this.counters.instrumentationErrors) };
  }

  /**
   * Runs instrumentation code that must never break the page's own call: an error in it
   * is counted and swallowed (the instrumentation then records nothing for that call).
   */
  safely<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch {
      this.counters.instrumentationErrors++;
      return fallback;
    }
  }

  /** Arms the one timer at the component's next deadline, if it has one still ahead. */
  private arm(): void {
    if (this.timer !== undefined || this.off) return;
    const deadline = this.call(() => this.component.pipeline.nextDeadline(), undefined);
    if (deadline === undefined) return;
    const ms = Number(deadline - this.origin) / 1e6 - now();
    // A deadline already past means the transport is busy: its `onIdle` ticks when it
    // frees up; the timer then only keeps each span's end from handing its batch over.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.apply();
      this.transportIdle();
    }, ms < 0 ? BUSY_RECHECK_MS : ms);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Calls into the component; if it throws, tracing turns off and `fallback` is returned. */
  private call<T>(fn: () => T, fallback: T): T {
    if (this.off) return fallback;
    try {
      return fn();
    } catch (error) {
      this.fail(error);
      return fallback;
    }
  }

  /** The component failed: tracing is off for the page from now on. */
  private fail(error: unknown): void {
    if (this.off) return;
    this.off = true;
    this.counters.tracingOff = 1;
    this.disarm();
    this.writer.drain();
    console.warn('wasm-otlp: the tracing component failed; tracing is off for this page', error);
  }
}

/** Whether a session is sampled at `ratio`: its ID's first 32 bits, as a fraction, below it. */
function sessionKept(sessionId: string, ratio: number): boolean {
  return parseInt(sessionId.slice(0, 8), 16) / 2 ** 32 < ratio;
}
