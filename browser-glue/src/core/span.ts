/**
 * A span as JavaScript sees it: every method writes one operation into the batch and
 * returns at once. Nothing crosses into the component until the batch is applied.
 */

import { type Attributes, type AttributeValue, Op, type OpWriter } from './ops.js';
import { SAMPLED, type SpanContext, hex8, isValidContext, words } from './span-context.js';
import { type TimeInput, toMs } from './time.js';

/** OTLP span status codes. */
export const enum StatusCode {
  Unset = 0,
  Ok = 1,
  Error = 2,
}

/** Span status. */
export interface SpanStatus {
  code: StatusCode;
  message?: string;
}

/** Where a span's operations go. */
export interface SpanSink {
  /** The batch being recorded. */
  readonly writer: OpWriter;
  /** Called after a span's END was written. */
  spanEnded(): void;
}

/** A span. Unsampled spans carry their context for propagation and record nothing. */
export class Span {
  private ended = false;
  private endMs = 0;
  /** @internal Writes the START of a deferred span (see `StartSpanOptions.deferred`). */
  pending: (() => void) | undefined;

  /** @internal Created by the tracer. */
  constructor(
    private readonly sink: SpanSink,
    /** @internal */ readonly t0: number,
    /** @internal */ readonly t1: number,
    /** @internal */ readonly t2: number,
    /** @internal */ readonly t3: number,
    /** @internal */ readonly hi: number,
    /** @internal */ readonly lo: number,
    /** @internal */ readonly flags: number,
    /** @internal */ readonly traceState: string,
    /** Start, in milliseconds after the time origin. */
    readonly startMs: number,
  ) {}

  /** Whether the span records (is sampled and not ended). */
  isRecording(): boolean {
    return !this.ended && (this.flags & SAMPLED) !== 0;
  }

  /** Records the start of a span started with `deferred` (nothing otherwise). */
  begin(): this {
    const start = this.pending;
    this.pending = undefined;
    start?.();
    return this;
  }

  /** Whether operations on the span are recorded; a deferred span begins here. */
  private live(): boolean {
    if (this.pending) this.begin();
    return this.isRecording();
  }

  /** The span's context (IDs as hex). */
  spanContext(): SpanContext {
    return {
      traceId: hex8(this.t0) + hex8(this.t1) + hex8(this.t2) + hex8(this.t3),
      spanId: hex8(this.hi) + hex8(this.lo),
      traceFlags: this.flags & 0xff,
      traceState: this.traceState || undefined,
      isRemote: false,
    };
  }

  /** Sets one attribute (replacing one of the same key). Values the SDK cannot carry are ignored. */
  setAttribute(key: string, value: AttributeValue | null | undefined): this {
    if (this.live()) {
      const w = this.sink.writer;
      w.op(Op.Attr, this.hi, this.lo);
      if (!w.attribute(key, value)) w.unwrite(3);
    }
    return this;
  }

  /** Sets several attributes. */
  setAttributes(attributes: Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }

  /** Adds an event. */
  addEvent(name: string, attributes?: Attributes, time?: TimeInput): this {
    if (this.live()) {
      const w = this.sink.writer;
      w.op(Op.Event, this.hi, this.lo);
      w.string(name);
      w.time(toMs(time));
      w.attributeList(attributes);
    }
    return this;
  }

  /** Adds a link to another span's context. */
  addLink(context: SpanContext, attributes?: Attributes): this {
    if (this.live() && isValidContext(context)) {
      const w = this.sink.writer;
      w.op(Op.Link, this.hi, this.lo);
      for (const word of words(context.traceId + context.spanId)) w.word(word);
      w.word((context.traceFlags & 0xff) | (context.isRemote ? 0x100 : 0));
      w.string(context.traceState ?? '');
      w.attributeList(attributes);
    }
    return this;
  }

  /**
   * Records an exception the semantic-conventions way: an `exception` event with
   * `exception.type`, `exception.message` and `exception.stacktrace`. Does not set the status.
   */
  recordException(exception: unknown, time?: TimeInput): this {
    return this.addEvent('exception', exceptionAttributes(exception), time);
  }

  /** Sets the status (`Ok` is final; `Unset` is ignored). */
  setStatus(status: SpanStatus): this {
    if (this.live()) {
      const w = this.sink.writer;
      w.op(Op.Status, this.hi, this.lo);
      w.word(status.code);
      w.string(status.code === StatusCode.Error ? (status.message ?? '') : '');
    }
    return this;
  }

  /** Renames the span. */
  updateName(name: string): this {
    if (this.live()) {
      this.sink.writer.op(Op.Name, this.hi, this.lo);
      this.sink.writer.string(name);
    }
    return this;
  }

  /** Ends the span; later calls are ignored. */
  end(time?: TimeInput): void {
    if (this.ended) return;
    this.begin();
    this.ended = true;
    this.endMs = Math.max(toMs(time), this.startMs);
    if (this.flags & SAMPLED) {
      this.sink.writer.op(Op.End, this.hi, this.lo);
      this.sink.writer.time(this.endMs);
      this.sink.spanEnded();
    }
  }

  /** Whether `end` was called. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Milliseconds from start to end, once ended. */
  get duration(): number | undefined {
    return this.ended ? this.endMs - this.startMs : undefined;
  }
}

/** `exception.type`, `exception.message` and (when known) `exception.stacktrace` of anything thrown. */
export function exceptionAttributes(exception: unknown): Attributes {
  const error = exception instanceof Error ? exception : undefined;
  const attributes: Attributes = {
    'exception.type': error ? error.name || error.constructor?.name : typeof exception,
    'exception.message': error ? error.message : String(exception),
  };
  if (error?.stack) attributes['exception.stacktrace'] = error.stack;
  return attributes;
}
