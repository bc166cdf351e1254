/**
 * `createSdk`: loads the component, configures it, wires the transport and the page
 * lifecycle, and returns the SDK handle that the module-level API delegates to.
 */

import type { TracingComponent, WitConfig, WitKeyValue } from './core/component.js';
import type { Attributes, AttributeValue } from './core/ops.js';
import { Tracer } from './core/tracer.js';
import { type CoreModuleLoader, loadComponent } from './host/load.js';
import { type DeliveryReport, FetchTransport } from './transport/fetch-transport.js';
import { flushOnPageHide } from './transport/page-lifecycle.js';
import type { SpanContext } from './core/span-context.js';
import { type UrlMatcher } from './instrument/http.js';
import { instrumentFetch } from './instrument/fetch.js';
import { instrumentXhr } from './instrument/xhr.js';
import { instrumentPageLoad } from './instrument/page-load.js';
import { INTERACTIVE, instrumentInteractions } from './instrument/interaction.js';
import { instrumentErrors } from './instrument/errors.js';
import { instrumentNavigation } from './instrument/navigation.js';
import { hex16, hex32 } from './core/span-context.js';

/** Which new traces are kept. */
export type SamplerOption =
  | { type: 'always_on' }
  | { type: 'always_off' }
  | { type: 'traceidratio'; ratio: number }
  | { type: 'parentbased_traceidratio'; ratio: number };

/** Everything `init` accepts. */
export interface InitOptions {
  /** The collector's base URL (`http://localhost:4318`) or its full traces URL (`.../v1/traces`). */
  endpoint: string;
  /** `service.name` of every span. */
  serviceName: string;
  /** `service.version`. */
  serviceVersion?: string;
  /** More resource attributes (`deployment.environment.name`, ...). */
  resource?: Attributes;
  /** Default: parent-based, keep every new trace. */
  sampler?: SamplerOption;
  /**
   * Spans per export (default 512), longest wait before export in ms (default 5000; 1000
   * in a worker, which sees no page-hide event to flush on), queue bound (default 2048).
   */
  batch?: { size?: number; delayMs?: number; maxQueueSize?: number };
  /** Per-span caps (OpenTelemetry defaults, strings cut at 4096 bytes). */
  limits?: { attributes?: number; valueLength?: number; events?: number; links?: number };
  /** Extra headers on export requests. */
  headers?: Record<string, string>;
  /** Flush when the page is hidden or unloaded; in a worker, when a same-origin page says it is (default true). */
  flushOnHide?: boolean;
  /** How the component's core wasm modules are compiled (default: fetched from beside the SDK). */
  loadCoreModule?: CoreModuleLoader;
  /** Cross-origin URLs (prefixes or patterns) whose requests get `traceparent`; same-origin ones always do. */
  propagateTraceHeaderCorsUrls?: UrlMatcher[];
  /** URLs (prefixes or patterns) whose requests are not traced. */
  ignoreUrls?: UrlMatcher[];
  /** Automatic instrumentation, each on by default; `false` turns one off. */
  instrumentations?: {
    pageLoad?: boolean;
    fetch?: boolean;
    xhr?: boolean;
    /** Events and the selector of traced elements (default `click`, `keydown` on interactive elements). */
    interactions?: boolean | { events?: string[]; selector?: string };
    errors?: boolean;
    navigation?: boolean;
  };
}

/** The running SDK. */
export interface Sdk {
  readonly tracer: Tracer;
  /** Registers an instrumentation scope for `startSpan({ scope })`. */
  registerScope(name: string, version?: string): number;
  /** Applies recorded spans and exports everything queued. */
  flush(): void;
  /** Flushes and stops; later spans are not recorded. */
  shutdown(): void;
  /** The component's counters (spans started, exported, dropped, ...). */
  stats(): Record<string, bigint>;
  /** What happened to the last payloads sent. */
  deliveries(): readonly DeliveryReport[];
  /** Parses W3C headers (as the spec says) into a remote context; undefined when invalid. */
  extract(traceparent: string, tracestate?: string): SpanContext | undefined;
}

/** Loads and starts an SDK instance (`init` keeps one per page; this makes independent ones). */
export async function createSdk(options: InitOptions): Promise<Sdk> {
  const url = /\/v1\/traces\/?$/.test(options.endpoint) ? options.endpoint : options.endpoint.replace(/\/?$/, '/v1/traces');
  let component: TracingComponent | undefined;
  const transport = new FetchTransport({ url, headers: options.headers, onIdle: () => component?.pipeline.tick() });
  component = await loadComponent(transport, options.loadCoreModule);
  component.pipeline.configure(witConfig(options));
  const batch = { batchSize: options.batch?.size ?? 512, delayMs: delayMs(options) };
  const tracer = new Tracer(component, batch);
  const loaded = component;
  const extract = (traceparent: string, tracestate?: string): SpanContext | undefined => {
    try {
      const c = loaded.propagation.extract(traceparent, tracestate);
      return { traceId: hex32(c.traceId.hi, c.traceId.lo), spanId: hex16(c.spanId), traceFlags: c.traceFlags, traceState: c.traceState || undefined, isRemote: true };
    } catch {
      return undefined;
    }
  };
  const registerScope = (name: string, version = '') => loaded.pipeline.registerScope({ name, version, attributes: [] });
  const stops = [options.flushOnHide === false ? () => {} : flushOnPageHide(() => tracer.flush())];
  stops.push(...instrument(tracer, options, url, registerScope, extract));
  return {
    tracer,
    registerScope,
    flush: () => tracer.flush(),
    shutdown: () => {
      for (const stop of stops) stop();
      tracer.flush();
      loaded.pipeline.shutdown();
    },
    stats: () => loaded.pipeline.readStats(),
    deliveries: () => transport.reports,
    extract,
  };
}

/** Installs the instrumentations `options` asks for; returns their uninstallers. */
function instrument(
  tracer: Tracer,
  options: InitOptions,
  exporterUrl: string,
  registerScope: (name: string, version?: string) => number,
  extract: (traceparent: string, tracestate?: string) => SpanContext | undefined,
): (() => void)[] {
  const on = options.instrumentations ?? {};
  const version = '0.1.0';
  const stops: (() => void)[] = [];
  if (on.fetch !== false || on.xhr !== false) {
    const http = {
      propagateTraceHeaderCorsUrls: options.propagateTraceHeaderCorsUrls ?? [],
      ignoreUrls: options.ignoreUrls ?? [],
      exporterUrl,
      scope: registerScope('@wasm-otlp/instrumentation-http', version),
    };
    if (on.fetch !== false) stops.push(instrumentFetch(tracer, http));
    if (on.xhr !== false) stops.push(instrumentXhr(tracer, http));
  }
  if (on.pageLoad !== false) {
    const fromMeta = () => {
      const meta = (name: string) => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content;
      const traceparent = meta('traceparent');
      return traceparent ? extract(traceparent, meta('tracestate')) : undefined;
    };
    stops.push(instrumentPageLoad(tracer, registerScope('@wasm-otlp/instrumentation-page-load', version), fromMeta));
  }
  if (on.interactions !== false) {
    const chosen = typeof on.interactions === 'object' ? on.interactions : {};
    const scope = registerScope('@wasm-otlp/instrumentation-user-interaction', version);
    stops.push(instrumentInteractions(tracer, { events: chosen.events ?? ['click', 'keydown'], selector: chosen.selector ?? INTERACTIVE, scope }));
  }
  if (on.errors !== false) stops.push(instrumentErrors(tracer, registerScope('@wasm-otlp/instrumentation-errors', version)));
  if (on.navigation !== false) stops.push(instrumentNavigation(tracer, registerScope('@wasm-otlp/instrumentation-navigation', version)));
  return stops;
}

function witConfig(options: InitOptions): WitConfig {
  const resource: Attributes = { ...options.resource, 'service.name': options.serviceName };
  if (options.serviceVersion) resource['service.version'] = options.serviceVersion;
  resource['telemetry.sdk.name'] = 'wasm-otlp';
  resource['telemetry.sdk.language'] = 'webjs';
  const sampler = options.sampler ?? { type: 'parentbased_traceidratio', ratio: 1 };
  const size = options.batch?.size ?? 512;
  return {
    resource: keyValues(resource),
    defaultScope: { name: '@wasm-otlp/browser', version: '0.1.0', attributes: [] },
    sampler:
      sampler.type === 'always_on'
        ? { tag: 'always-on' }
        : sampler.type === 'always_off'
          ? { tag: 'always-off' }
          : { tag: sampler.type === 'traceidratio' ? 'trace-id-ratio' : 'parent-based-ratio', val: sampler.ratio },
    limits: {
      maxAttributes: options.limits?.attributes ?? 128,
      maxValueLength: options.limits?.valueLength ?? 4096,
      maxEvents: options.limits?.events ?? 128,
      maxLinks: options.limits?.links ?? 128,
      maxAttributesPerItem: 128,
    },
    batch: {
      maxExportBatchSize: size,
      maxQueueSize: Math.max(options.batch?.maxQueueSize ?? 2048, size),
      // The tracer applies and flushes on its own timer; the component exports full batches.
      scheduledDelayMs: delayMs(options),
      maxOpenSpans: 16384,
    },
  };
}

/** The export delay: shorter in a worker, which hears of page hiding only from its page, if at all. */
function delayMs(options: InitOptions): number {
  return options.batch?.delayMs ?? (typeof document === 'undefined' ? 1000 : 5000);
}

/** Resource attributes for `configure` (scalars only; others are skipped). */
function keyValues(attributes: Attributes): WitKeyValue[] {
  const out: WitKeyValue[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    const v = scalar(value);
    if (v) out.push({ key, value: v });
  }
  return out;
}

function scalar(value: AttributeValue | null | undefined): WitKeyValue['value'] | undefined {
  switch (typeof value) {
    case 'string':
      return { tag: 'string', val: value };
    case 'boolean':
      return { tag: 'bool', val: value };
    case 'bigint':
      return { tag: 's64', val: value };
    case 'number':
      return Number.isSafeInteger(value) ? { tag: 's64', val: BigInt(value) } : { tag: 'f64', val: value };
  }
  return undefined;
}
