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
  /** Spans per export (default 512), longest wait before export in ms (default 5000), queue bound (default 2048). */
  batch?: { size?: number; delayMs?: number; maxQueueSize?: number };
  /** Per-span caps (OpenTelemetry defaults, strings cut at 4096 bytes). */
  limits?: { attributes?: number; valueLength?: number; events?: number; links?: number };
  /** Extra headers on export requests. */
  headers?: Record<string, string>;
  /** Flush when the page is hidden or unloaded (default true). */
  flushOnHide?: boolean;
  /** How the component's core wasm modules are compiled (default: fetched from beside the SDK). */
  loadCoreModule?: CoreModuleLoader;
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

/** Loads and starts an SDK instance (`init` keeps one per page; this makes independent ones). */
export async function createSdk(options: InitOptions): Promise<Sdk> {
  const url = /\/v1\/traces\/?$/.test(options.endpoint) ? options.endpoint : options.endpoint.replace(/\/?$/, '/v1/traces');
  let component: TracingComponent | undefined;
  const transport = new FetchTransport({ url, headers: options.headers, onIdle: () => component?.pipeline.tick() });
  component = await loadComponent(transport, options.loadCoreModule);
  component.pipeline.configure(witConfig(options));
  const batch = { batchSize: options.batch?.size ?? 512, delayMs: options.batch?.delayMs ?? 5000 };
  const tracer = new Tracer(component, batch);
  const stopLifecycle = options.flushOnHide === false ? () => {} : flushOnPageHide(() => tracer.flush());
  const loaded = component;
  return {
    tracer,
    registerScope: (name, version = '') => loaded.pipeline.registerScope({ name, version, attributes: [] }),
    flush: () => tracer.flush(),
    shutdown: () => {
      tracer.flush();
      stopLifecycle();
      loaded.pipeline.shutdown();
    },
    stats: () => loaded.pipeline.readStats(),
    deliveries: () => transport.reports,
  };
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
      scheduledDelayMs: options.batch?.delayMs ?? 5000,
      maxOpenSpans: 16384,
    },
  };
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
