/**
 * The tracer: starts spans with IDs from the component's blocks, records their
 * operations into the current batch, and applies the batch to the component when enough
 * spans ended, when the delay passed, or when asked to flush.
 */

import { activeSpan } from './context.js';
import type { TracingComponent } from './component.js';
import { IdPool } from './ids.js';
import { type Attributes, Op, OpWriter, type Settings } from './ops.js';
import { Span, type SpanSink } from './span.js';
import { SAMPLED, type SpanContext, isValidContext, words } from './span-context.js';
import { type TimeInput, timeOriginUnixNanos, toMs } from './time.js';

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
  /** Ended spans per applied batch. */
  batchSize: number;
  /** Longest wait, in ms, between a span's end and its export. */
  delayMs: number;
}

/** Starts spans and feeds the component. */
export class Tracer implements SpanSink {
  readonly writer = new OpWriter(timeOriginUnixNanos());
  private readonly ids: IdPool;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private scopes = 0;

  constructor(
    private readonly component: TracingComponent,
    private readonly options: TracerOptions,
  ) {
    this.ids = new IdPool(component.recorder);
  }

  /** Starts a span under `options.parent`, or the active span, or in a new trace. */
  startSpan(name: string, options: StartSpanOptions = {}): Span {
    const parent = options.parent === undefined ? activeSpan() : options.parent;
    const startMs = toMs(options.startTime);
    let span: Span;
    let parentHi = 0;
    let parentLo = 0;
    let remote = 0;
    if (parent instanceof Span) {
      const at = this.ids.nextSpanId();
      const ids = this.ids.spanIds;
      span = new Span(this, parent.t0, parent.t1, parent.t2, parent.t3, ids[at], ids[at + 1], parent.flags, parent.traceState, startMs);
      parentHi = parent.hi;
      parentLo = parent.lo;
    } else if (parent && isValidContext(parent)) {
      const [t0, t1, t2, t3, hi, lo] = words(parent.traceId + parent.spanId);
      const at = this.ids.nextSpanId();
      const ids = this.ids.spanIds;
      span = new Span(this, t0, t1, t2, t3, ids[at], ids[at + 1], parent.traceFlags & 0xff, parent.traceState ?? '', startMs);
      parentHi = hi;
      parentLo = lo;
      remote = parent.isRemote ? 0x100 : 0;
    } else {
      const at = this.ids.nextRoot();
      const r = this.ids.roots;
      span = new Span(this, r[at], r[at + 1], r[at + 2], r[at + 3], r[at + 4], r[at + 5], r[at + 6], '', startMs);
    }
    if (span.flags & SAMPLED) {
      // No closure on the hot path: only deferred spans keep one.
      if (options.deferred) span.pending = () => this.writeStart(span, name, options, parentHi, parentLo, remote);
      else this.writeStart(span, name, options, parentHi, parentLo, remote);
    }
    return span;
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
    if (options.attributes) span.setAttributes(options.attributes);
    if (options.links) for (const link of options.links) span.addLink(link.context, link.attributes);
  }

  /** Replaces the component's configuration; throws with the component's reason if it refuses. */
  configure(settings: Settings): void {
    this.applySettings((w) => w.configure(settings));
  }

  /** Registers an instrumentation scope; returns its index for `startSpan({ scope })`. */
  registerScope(name: string, version = ''): number {
    this.applySettings((w) => w.scope(name, version));
    return ++this.scopes;
  }

  /** Applies what is recorded, then the settings `write` records, at once. */
  private applySettings(write: (writer: OpWriter) => void): void {
    this.apply();
    write(this.writer);
    const outcome = this.component.recorder.apply(this.writer.drain());
    const refused = outcome.malformed ?? outcome.firstRefusal;
    if (refused) throw new Error(`wasm-otlp: ${refused}`);
  }

  /** @internal Counts an ended span; applies a full batch, or arms the delay timer. */
  spanEnded(): void {
    if (++this.writer.ended >= this.options.batchSize) this.apply();
    else if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), this.options.delayMs);
  }

  /** Hands the recorded operations to the component (which exports full batches). */
  apply(): void {
    if (this.writer.isEmpty) return;
    const outcome = this.component.recorder.apply(this.writer.drain());
    if (outcome.malformed) console.warn(`wasm-otlp: recorder refused a batch: ${outcome.malformed}`);
  }

  /** Applies what is recorded and exports everything queued now. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.apply();
    this.component.pipeline.forceFlush();
  }
}
