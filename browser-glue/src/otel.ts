/**
 * @wasm-otlp/browser/otel: a bridge from the OpenTelemetry API (`@opentelemetry/api`, an
 * optional peer dependency) to this SDK. `registerOpenTelemetry()` installs a global
 * TracerProvider, a context manager and a W3C trace-context propagator, so that libraries
 * written against the API, and OpenTelemetry's contrib instrumentations, record through
 * this SDK (sampling, limits, batching, the component's OTLP encoding).
 *
 * ```js
 * import { init } from '@wasm-otlp/browser/core';
 * import { registerOpenTelemetry } from '@wasm-otlp/browser/otel';
 * await init({ endpoint, serviceName: 'shop-web' });
 * registerOpenTelemetry();
 * registerInstrumentations({ instrumentations: [new FetchInstrumentation()] });
 * ```
 *
 * The context manager keeps OpenTelemetry's contexts on a stack while `context.with` runs
 * (so keys such as the suppress-tracing flag survive) and makes their span this SDK's
 * active span; outside every `with`, the active context holds this SDK's active span
 * (kept across `await` by `traceAsync`).
 */

import {
  type Attributes as OtelAttributes,
  type Context,
  type ContextManager,
  type Exception,
  type Link,
  ROOT_CONTEXT,
  type SpanContext as OtelSpanContext,
  type SpanOptions,
  type SpanStatus,
  type Span as OtelSpan,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  type TimeInput as OtelTimeInput,
  type Tracer as OtelTracer,
  type TracerProvider,
  context,
  createTraceState,
  propagation,
  trace,
} from '@opentelemetry/api';
import { getSdk, startSpan as startWithInit } from './api.js';
import { activeSpan, withSpan } from './core/context.js';
import type { Attributes } from './core/ops.js';
import type { Span } from './core/span.js';
import { type SpanContext, extract, isValidContext, traceparent } from './core/span-context.js';
import type { StartSpanOptions } from './core/tracer.js';
import type { Sdk } from './sdk.js';

/** An OpenTelemetry time (`[seconds, nanoseconds]`, epoch or performance ms, a Date) as this SDK takes it. */
function timeOf(time: OtelTimeInput | undefined): number | Date | undefined {
  return Array.isArray(time) ? time[0] * 1000 + time[1] / 1e6 : time;
}

/** This SDK's span seen through the OpenTelemetry `Span` interface. */
class BridgedSpan implements OtelSpan {
  constructor(readonly span: Span) {}

  spanContext(): OtelSpanContext {
    const ctx = this.span.spanContext();
    return { ...ctx, traceState: ctx.traceState ? createTraceState(ctx.traceState) : undefined };
  }
  setAttribute(key: string, value: unknown): this {
    this.span.setAttribute(key, value as never);
    return this;
  }
  setAttributes(attributes: OtelAttributes): this {
    this.span.setAttributes(attributes as Attributes);
    return this;
  }
  addEvent(name: string, attributesOrTime?: OtelAttributes | OtelTimeInput, time?: OtelTimeInput): this {
    const isTime = typeof attributesOrTime === 'number' || Array.isArray(attributesOrTime) || attributesOrTime instanceof Date;
    this.span.addEvent(name, isTime ? undefined : (attributesOrTime as Attributes), timeOf(isTime ? (attributesOrTime as OtelTimeInput) : time));
    return this;
  }
  addLink(link: Link): this {
    this.span.addLink(contextOf(link.context), link.attributes as Attributes);
    return this;
  }
  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.span.setStatus({ code: status.code as number, message: status.message });
    return this;
  }
  updateName(name: string): this {
    this.span.updateName(name);
    return this;
  }
  end(endTime?: OtelTimeInput): void {
    this.span.end(timeOf(endTime));
  }
  isRecording(): boolean {
    return this.span.isRecording();
  }
  recordException(exception: Exception, time?: OtelTimeInput): void {
    this.span.recordException(exception, timeOf(time));
  }
}

/** One wrapper per span, so that `trace.getSpan(context.active())` keeps its identity. */
const bridged = new WeakMap<Span, BridgedSpan>();
function bridge(span: Span): BridgedSpan {
  let wrapper = bridged.get(span);
  if (!wrapper) bridged.set(span, (wrapper = new BridgedSpan(span)));
  return wrapper;
}

/** An OpenTelemetry span context as this SDK's (its `TraceState` as the header text). */
function contextOf(ctx: OtelSpanContext): SpanContext {
  return { ...ctx, traceState: ctx.traceState?.serialize() || undefined };
}

/** This SDK's parent for a span started in `ctx`: its span, a remote context, or none. */
function parentIn(ctx: Context): Span | SpanContext | null {
  const parent = trace.getSpan(ctx);
  if (parent instanceof BridgedSpan) return parent.span;
  return parent ? contextOf(parent.spanContext()) : null;
}

/** An OpenTelemetry tracer recording under one instrumentation scope. */
class BridgedTracer implements OtelTracer {
  private scope: number | undefined;

  constructor(
    private readonly sdk: () => Sdk | undefined,
    private readonly name: string,
    private readonly version: string | undefined,
  ) {}

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = context.active()): OtelSpan {
    const sdk = this.sdk();
    if (sdk && this.scope === undefined) this.scope = sdk.registerScope(this.name, this.version);
    const start: StartSpanOptions = {
      kind: options.kind as number,
      attributes: options.attributes as Attributes,
      links: options.links?.map((link) => ({ context: contextOf(link.context), attributes: link.attributes as Attributes })),
      startTime: timeOf(options.startTime),
      parent: options.root ? null : parentIn(ctx),
      scope: this.scope,
    };
    return bridge(sdk ? sdk.tracer.startSpan(name, start) : startWithInit(name, start));
  }

  startActiveSpan<F extends (span: OtelSpan) => unknown>(name: string, ...args: unknown[]): ReturnType<F> {
    const fn = args.pop() as F;
    const [options, ctx = context.active()] = args as [SpanOptions | undefined, Context | undefined];
    const span = this.startSpan(name, options, ctx);
    return context.with(trace.setSpan(ctx, span), fn as (span: OtelSpan) => ReturnType<F>, undefined, span);
  }
}

/** OpenTelemetry contexts on a stack while `context.with` runs; this SDK's active span otherwise. */
class BridgedContextManager implements ContextManager {
  private stack: Context[] = [];

  active(): Context {
    const top = this.stack.at(-1);
    if (top) return top;
    const span = activeSpan();
    return span ? trace.setSpan(ROOT_CONTEXT, bridge(span)) : ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    this.stack.push(ctx);
    try {
      const span = trace.getSpan(ctx);
      return span instanceof BridgedSpan ? withSpan(span.span, () => fn.apply(thisArg, args)) : fn.apply(thisArg, args);
    } finally {
      this.stack.pop();
    }
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const manager = this;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(ctx, () => (target as (...a: unknown[]) => unknown).apply(this, args));
    } as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.stack = [];
    return this;
  }
}

/** W3C `traceparent` / `tracestate`, by this SDK's rules (no `@opentelemetry/core` needed). */
class TraceContextPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const span = trace.getSpan(ctx);
    const spanContext = span && contextOf(span.spanContext());
    if (!spanContext || !isValidContext(spanContext)) return;
    setter.set(carrier, 'traceparent', traceparent(spanContext));
    if (spanContext.traceState) setter.set(carrier, 'tracestate', spanContext.traceState);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = (name: string) => {
      const value = getter.get(carrier, name);
      return Array.isArray(value) ? value.join(',') : value;
    };
    const parent = header('traceparent');
    const remote = parent ? extract(parent, header('tracestate')) : undefined;
    if (!remote) return ctx;
    return trace.setSpanContext(ctx, { ...remote, traceState: remote.traceState ? createTraceState(remote.traceState) : undefined });
  }

  fields(): string[] {
    return ['traceparent', 'tracestate'];
  }
}

/** Tracers of one SDK (or of the page's, `init`'s, when none is given). */
class BridgedTracerProvider implements TracerProvider {
  private readonly tracers = new Map<string, BridgedTracer>();

  constructor(private readonly sdk: () => Sdk | undefined) {}

  getTracer(name: string, version?: string): OtelTracer {
    const key = `${name}@${version ?? ''}`;
    let tracer = this.tracers.get(key);
    if (!tracer) this.tracers.set(key, (tracer = new BridgedTracer(this.sdk, name, version)));
    return tracer;
  }
}

/**
 * Makes this SDK the OpenTelemetry API's global tracer provider, context manager and
 * propagator. `sdk`: an instance from `createSdk` (default: the page's, from `init`;
 * spans started before it finished record nothing). Returns the function that undoes it.
 */
export function registerOpenTelemetry(sdk?: Sdk): () => void {
  const provider = new BridgedTracerProvider(sdk ? () => sdk : getSdk);
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new BridgedContextManager());
  propagation.setGlobalPropagator(new TraceContextPropagator());
  return () => {
    trace.disable();
    context.disable();
    propagation.disable();
  };
}
