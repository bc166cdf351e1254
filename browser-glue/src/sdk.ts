/**
 * `createSdk`: loads the component, configures it, wires the transport and the page
 * lifecycle, and returns the SDK handle that the module-level API delegates to.
 */

import type { TracingComponent } from './core/component.js';
import type { Attributes, Settings } from './core/ops.js';
import { Tracer } from './core/tracer.js';
import { type CoreModuleLoader, loadComponent } from './host/load.js';
import { type DeliveryReport, FetchTransport } from './transport/fetch-transport.js';
import { flushOnPageHide } from './transport/page-lifecycle.js';
import { type SpanContext, extract } from './core/span-context.js';
import { type UrlMatcher } from './instrument/http.js';
import { instrumentFetch } from './instrument/fetch.js';
import { instrumentXhr } from './instrument/xhr.js';
import { instrumentPageLoad } from './instrument/page-load.js';
import { INTERACTIVE, instrumentInteractions } from './instrument/interaction.js';
import { instrumentErrors } from './instrument/errors.js';
import { instrumentNavigation } from './instrument/navigation.js';

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
}

/**
 * Loads and starts an SDK instance (`init` keeps one per page; this makes independent
 * ones). Rejects, with the component's reason, settings it cannot work with.
 */
export async function createSdk(options: InitOptions): Promise<Sdk> {
  const url = /\/v1\/traces\/?$/.test(options.endpoint) ? options.endpoint : options.endpoint.replace(/\/?$/, '/v1/traces');
  let component: TracingComponent | undefined;
  const transport = new FetchTransport({ url, headers: options.headers, onIdle: () => component?.pipeline.tick() });
  component = await loadComponent(transport, options.loadCoreModule);
  const batch = { batchSize: options.batch?.size ?? 512, delayMs: delayMs(options) };
  const tracer = new Tracer(component, batch);
  tracer.configure(settings(options));
  const loaded = component;
  const stops = [options.flushOnHide === false ? () => {} : flushOnPageHide(() => tracer.flush())];
  stops.push(...instrument(tracer, options, url));
  return {
    tracer,
    registerScope: (name, version) => tracer.registerScope(name, version),
    flush: () => tracer.flush(),
    shutdown: () => {
      for (const stop of stops) stop();
      tracer.flush();
      loaded.pipeline.shutdown();
    },
    stats: () => loaded.pipeline.readStats(),
    deliveries: () => transport.reports,
  };
}

/** Installs the instrumentations `options` asks for; returns their uninstallers. */
function instrument(tracer: Tracer, options: InitOptions, exporterUrl: string): (() => void)[] {
  const on = options.instrumentations ?? {};
  const version = '0.1.0';
  const registerScope = (name: string) => tracer.registerScope(name, version);
  const stops: (() => void)[] = [];
  if (on.fetch !== false || on.xhr !== false) {
    const http = {
      propagateTraceHeaderCorsUrls: options.propagateTraceHeaderCorsUrls ?? [],
      ignoreUrls: options.ignoreUrls ?? [],
      exporterUrl,
      scope: registerScope('@wasm-otlp/instrumentation-http'),
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
    stops.push(instrumentPageLoad(tracer, registerScope('@wasm-otlp/instrumentation-page-load'), fromMeta));
  }
  if (on.interactions !== false) {
    const chosen = typeof on.interactions === 'object' ? on.interactions : {};
    const scope = registerScope('@wasm-otlp/instrumentation-user-interaction');
    stops.push(instrumentInteractions(tracer, { events: chosen.events ?? ['click', 'keydown'], selector: chosen.selector ?? INTERACTIVE, scope }));
  }
  if (on.errors !== false) stops.push(instrumentErrors(tracer, registerScope('@wasm-otlp/instrumentation-errors')));
  if (on.navigation !== false) stops.push(instrumentNavigation(tracer, registerScope('@wasm-otlp/instrumentation-navigation')));
  return stops;
}

function settings(options: InitOptions): Settings {
  const resource: Attributes = { ...options.resource, 'service.name': options.serviceName };
  if (options.serviceVersion) resource['service.version'] = options.serviceVersion;
  resource['telemetry.sdk.name'] = 'wasm-otlp';
  resource['telemetry.sdk.language'] = 'webjs';
  const sampler = options.sampler ?? { type: 'parentbased_traceidratio', ratio: 1 };
  const size = options.batch?.size ?? 512;
  const limits = options.limits ?? {};
  return {
    sampler: ['always_on', 'always_off', 'traceidratio', 'parentbased_traceidratio'].indexOf(sampler.type),
    ratio: 'ratio' in sampler ? sampler.ratio : 0,
    limits: [limits.attributes ?? 128, limits.valueLength ?? 4096, limits.events ?? 128, limits.links ?? 128, 128],
    // The tracer applies and flushes on its own timer; the component exports full batches.
    batch: [size, Math.max(options.batch?.maxQueueSize ?? 2048, size), delayMs(options), 16384],
    resource,
    scope: ['@wasm-otlp/browser', '0.1.0'],
  };
}

/** The export delay: shorter in a worker, which hears of page hiding only from its page, if at all. */
function delayMs(options: InitOptions): number {
  return options.batch?.delayMs ?? (typeof document === 'undefined' ? 1000 : 5000);
}
