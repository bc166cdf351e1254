/**
 * `createSdk`: loads the component, configures it, wires the transport and the page
 * lifecycle, installs the instrumentations it is given, and returns the SDK handle that
 * the module-level API delegates to. It imports no instrumentation itself, so an app
 * that passes none (the `core` entry) ships none.
 */

import type { TracingComponent } from './core/component.js';
import type { Attributes, Settings } from './core/ops.js';
import { Tracer } from './core/tracer.js';
import { type CoreModuleLoader, loadComponent } from './host/load.js';
import { type DeliveryReport, FetchTransport } from './transport/fetch-transport.js';
import { nextCorrection, rememberCorrection, rememberedCorrection } from './transport/clock-skew.js';
import { KEEPALIVE_BYTES } from './transport/keepalive.js';
import { flushOnPageHide } from './transport/page-lifecycle.js';
import type { Session } from './core/session.js';
import type { Outbox } from './transport/outbox.js';
import type { Instrumentation, InstrumentationContext, UrlMatcher } from './instrument/instrumentation.js';
import type { UrlSanitizer } from './instrument/url.js';

/** Which new traces are kept. */
export type SamplerOption =
  | { type: 'always_on' }
  | { type: 'always_off' }
  | { type: 'traceidratio'; ratio: number }
  | { type: 'parentbased_traceidratio'; ratio: number }
  /**
   * All or nothing of a session: `ratio` of sessions are kept, decided from the session ID
   * (so every tab agrees); a dropped session records nothing, not even traces continued
   * from a sampled remote parent (a server's page-load `traceparent`). Without sessions
   * (a worker), as `parentbased_traceidratio`.
   */
  | { type: 'session'; ratio: number };

/** Everything `createSdk` accepts. */
export interface SdkOptions {
  /** The collector's base URL (`http://localhost:4318`; spans go to `/v1/traces`, logs to `/v1/logs`) or its full traces URL (`.../v1/traces`). */
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
   * Spans per export (default 512), bytes of OTLP/JSON per export before compression
   * (default: what fits the browser's keep-alive budget, see `batchBytes`), longest wait
   * before export in ms (default 5000; 1000 in a worker, which sees no page-hide event to
   * flush on), queue bound (default 2048).
   */
  batch?: { size?: number; maxBytes?: number; delayMs?: number; maxQueueSize?: number };
  /** Export bodies gzipped (`gzip`, the default where the browser has `CompressionStream`) or not (`none`). */
  compression?: 'gzip' | 'none';
  /**
   * Where bodies that may not have arrived (sent as the page closed, waiting for a retry,
   * offline) are kept, to be sent on the next load or when back online: `new Outbox()`
   * (IndexedDB). Default here: nowhere (the main entry's `init` keeps them unless told
   * `persist: false`).
   */
  persist?: Outbox;
  /** Per-span caps (OpenTelemetry defaults, strings cut at 4096 bytes). */
  limits?: { attributes?: number; valueLength?: number; events?: number; links?: number };
  /**
   * Correct the page's clock from the collector's `Date` header when they differ by more
   * than the estimate's error (half a second plus half the round trip, plus half a
   * second): every time exported from then on moves by the difference, and the payload's
   * resource says by how much (`wasm_otlp.clock_correction_ms`). The correction is kept
   * for the origin's pages of the next hour; a page without one asks the collector for
   * its time at start (an empty traces request). Default true.
   */
  correctClock?: boolean;
  /** Extra headers on export requests. */
  headers?: Record<string, string>;
  /**
   * The collector's public ingest key for this site (its `--key`), sent in the
   * `x-wasm-otlp-key` header of every export request.
   */
  key?: string;
  /** Flush when the page is hidden or unloaded; in a worker, when a same-origin page says it is (default true). */
  flushOnHide?: boolean;
  /** How the component's core wasm module is compiled (default: fetched from beside the SDK). */
  loadCoreModule?: CoreModuleLoader;
  /** Cross-origin URLs (prefixes or patterns) whose requests get `traceparent`; same-origin ones always do. */
  propagateTraceHeaderCorsUrls?: UrlMatcher[];
  /** URLs (prefixes or patterns) whose requests are not traced. */
  ignoreUrls?: UrlMatcher[];
  /**
   * Rewrites every URL before it is recorded (`url.full`, page and resource URLs,
   * navigations, error locations), after credentials and signature parameters were
   * redacted: e.g. `(url) => url.origin + url.pathname.replace(/\/\d+/g, '/{id}')`.
   */
  sanitizeUrl?: UrlSanitizer;
  /**
   * Sessions (`pageSessions()`): every span carries `session.id`, kept in `localStorage`
   * across reloads and the origin's tabs. Default here: none (the main entry's `init`
   * has them unless told `session: false`).
   */
  session?: Session;
  /** Automatic instrumentations to install (`fetchInstrumentation()`, ...). Default: none. */
  instrumentations?: Instrumentation[];
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
  /** The component's counters (spans started, exported, dropped, ...), and `tracingOff` (1 once a component failure turned tracing off) and `instrumentationErrors`. */
  stats(): Record<string, bigint>;
  /** What happened to the last payloads sent. */
  deliveries(): readonly DeliveryReport[];
  /**
   * Names the user on every span started from now on (`null`: nobody): `user.id` and the
   * other fields, or with `hash: true` only `user.hash`, the SHA-256 of the ID in hex, so
   * that the ID never leaves the page (hashing needs a secure context; elsewhere nothing
   * is recorded and a warning says why).
   */
  setUser(user: User | null, options?: { hash?: boolean }): Promise<void>;
  /** The current session's ID (to quote in a support ticket, say); none without sessions. */
  sessionId(): string | undefined;
}

/** A user, as OpenTelemetry's `user.*` attributes name one. */
export interface User {
  id: string;
  email?: string;
  name?: string;
  fullName?: string;
  roles?: string[];
}

/** The SDK's version: the default scope's and each instrumentation scope's. */
const VERSION = '0.1.0';

/**
 * Loads and starts an SDK instance (`init` keeps one per page; this makes independent
 * ones). Rejects, with the component's reason, settings it cannot work with.
 */
export async function createSdk(options: SdkOptions): Promise<Sdk> {
  const base = options.endpoint.replace(/\/v1\/traces\/?$/, '').replace(/\/?$/, '');
  const urls = { traces: `${base}/v1/traces`, logs: `${base}/v1/logs` };
  let tracer: Tracer | undefined;
  const transport = new FetchTransport({
    urls,
    // Every export is a fetch that can set headers (and is preflighted for its
    // content-type already), so the key goes as a header, never in the URL.
    headers: options.key ? { ...options.headers, 'x-wasm-otlp-key': options.key } : options.headers,
    compression: options.compression,
    outbox: options.persist,
    onIdle: () => tracer?.transportIdle(),
    onClockOffset: (offset) => {
      if (!tracer || options.correctClock === false) return;
      tracer.correctClock(nextCorrection(tracer.clockCorrectionMs, offset));
      rememberCorrection(tracer.clockCorrectionMs);
    },
  });
  const component: TracingComponent = await loadComponent(transport, options.loadCoreModule);
  const running = (tracer = new Tracer(component, { batchSize: options.batch?.size ?? 512 }));
  running.configure(settings(options, transport.gzip));
  running.session = options.session;
  if (options.correctClock !== false) correctClockAtStart(running, transport);
  if (options.sampler?.type === 'session' && options.session) running.sessionRatio = options.sampler.ratio;
  const scopes = new Map<string, number>();
  const context: InstrumentationContext = {
    tracer: running,
    scope: (name) => scopes.get(name) ?? scopes.set(name, running.registerScope(name, VERSION)).get(name)!,
    exporterUrl: base,
    propagateTraceHeaderCorsUrls: options.propagateTraceHeaderCorsUrls ?? [],
    ignoreUrls: options.ignoreUrls ?? [],
    sanitizeUrl: options.sanitizeUrl,
  };
  const stops = [options.flushOnHide === false ? () => {} : flushOnPageHide(() => running.flush()), resendWhenOnline(transport)];
  // An instrumentation that fails to install is left out (and counted); the others go on.
  for (const instrumentation of options.instrumentations ?? []) stops.push(running.safely(() => instrumentation.install(context), () => {}));
  return {
    tracer: running,
    registerScope: (name, version) => running.registerScope(name, version),
    flush: () => running.flush(),
    shutdown: () => {
      for (const stop of stops) stop();
      running.shutdown();
    },
    stats: () => running.stats(),
    deliveries: () => transport.reports,
    setUser: async (user, { hash = false } = {}) => {
      running.user = user ? await userAttributes(user, hash) : undefined;
    },
    sessionId: () => running.session?.id(),
  };
}

/**
 * Starts with the correction an earlier page of the origin found in the last hour; a page
 * without one (in a document: workers and Node wait for their first answer) asks the
 * collector for its time at once, so that its first payload is dated right too.
 */
function correctClockAtStart(tracer: Tracer, transport: FetchTransport): void {
  const remembered = rememberedCorrection();
  if (remembered !== undefined) tracer.correctClock(remembered);
  else if (typeof document !== 'undefined') transport.probeClock();
}

/**
 * Sends what earlier pages kept once start-up is over (a second later: opening IndexedDB
 * is no part of it), and again whenever the browser is back online; returns a function
 * that stops it.
 */
function resendWhenOnline(transport: FetchTransport): () => void {
  const resend = () => void transport.resendKept();
  const first = setTimeout(resend, 1000);
  if (typeof addEventListener === 'function') addEventListener('online', resend);
  return () => {
    clearTimeout(first);
    if (typeof removeEventListener === 'function') removeEventListener('online', resend);
  };
}

/** `user.*` attributes; with `hash`, only `user.hash`. */
async function userAttributes(user: User, hash: boolean): Promise<Attributes | undefined> {
  if (hash) {
    if (!globalThis.crypto?.subtle) {
      console.warn('wasm-otlp: setUser with hash needs a secure context (https or localhost); no user is recorded');
      return undefined;
    }
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(String(user.id))));
    return { 'user.hash': Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') };
  }
  const attributes: Attributes = { 'user.id': user.id };
  if (user.email !== undefined) attributes['user.email'] = user.email;
  if (user.name !== undefined) attributes['user.name'] = user.name;
  if (user.fullName !== undefined) attributes['user.full_name'] = user.fullName;
  if (user.roles !== undefined) attributes['user.roles'] = user.roles;
  return attributes;
}

/**
 * The default bound of a payload's JSON: one payload fits the keep-alive budget as it is,
 * or once gzipped (OTLP/JSON of browser spans shrinks 5-10x: docs/delivery.md).
 */
function batchBytes(gzip: boolean): number {
  return gzip ? 4 * KEEPALIVE_BYTES : KEEPALIVE_BYTES;
}

function settings(options: SdkOptions, gzip: boolean): Settings {
  const resource: Attributes = { ...options.resource, 'service.name': options.serviceName };
  if (options.serviceVersion) resource['service.version'] = options.serviceVersion;
  resource['telemetry.sdk.name'] = 'wasm-otlp';
  resource['telemetry.sdk.language'] = 'webjs';
  const sampler = options.sampler ?? { type: 'parentbased_traceidratio', ratio: 1 };
  const size = options.batch?.size ?? 512;
  const limits = options.limits ?? {};
  return {
    // Sessions decide (the tracer marks a dropped session's traces unsampled): the
    // component keeps the rest.
    sampler: sampler.type === 'session' ? 3 : ['always_on', 'always_off', 'traceidratio', 'parentbased_traceidratio'].indexOf(sampler.type),
    ratio: sampler.type === 'session' && options.session ? 1 : 'ratio' in sampler ? sampler.ratio : 0,
    limits: [limits.attributes ?? 128, limits.valueLength ?? 4096, limits.events ?? 128, limits.links ?? 128, 128],
    // The component owns batch timing: full batches at once, the rest after the delay.
    batch: [size, options.batch?.maxBytes ?? batchBytes(gzip), Math.max(options.batch?.maxQueueSize ?? 2048, size), delayMs(options), 16384],
    resource,
    scope: ['@wasm-otlp/browser', VERSION],
  };
}

/** The export delay: shorter in a worker, which hears of page hiding only from its page, if at all. */
function delayMs(options: SdkOptions): number {
  return options.batch?.delayMs ?? (typeof document === 'undefined' ? 1000 : 5000);
}
