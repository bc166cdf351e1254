/**
 * Sends OTLP/JSON bodies with `fetch`, gzipped where the browser has `CompressionStream`:
 * `keepalive` while the bodies in flight fit the browser's keep-alive budget (so they
 * survive the page closing), plain `fetch` above it, retries with backoff on network
 * errors and 429/502/503/504 honouring `Retry-After`. A body at risk (sent without
 * `keepalive`, or waiting for a retry) is kept in the outbox (`outbox.ts`) until it is
 * settled; what the outbox holds is sent again on the next load and when back online.
 * Its requests go through the `fetch` captured before any instrumentation, so the
 * exporter never traces itself.
 */

import type { Signal } from '../host/imports.js';
import { wallMs } from '../core/time.js';
import { type ClockOffset, clockOffset } from './clock-skew.js';
import { KEEPALIVE_BYTES, KEEPALIVE_REQUESTS } from './keepalive.js';
import type { Kept, Outbox } from './outbox.js';
import { isRetryable, retryDelay } from './retry.js';


/** Transport settings. */
export interface FetchTransportOptions {
  /** Full URL of each signal's OTLP/HTTP endpoint (`.../v1/traces`, `.../v1/logs`). */
  urls: Record<Signal, string>;
  /** Extra request headers (e.g. an API key). */
  headers?: Record<string, string>;
  /** Requests in flight (including those waiting to retry) before `send` says busy. */
  maxInFlight?: number;
  /** Attempts per payload, the first included. */
  maxAttempts?: number;
  /** `gzip` (the default where `CompressionStream` exists) or `none`. */
  compression?: 'gzip' | 'none';
  /** Called when a payload is settled (delivered or given up) and the transport has room. */
  onIdle?: () => void;
  /** Where bodies at risk are kept (none: they are not). */
  outbox?: Outbox;
  /** Called with the page clock's offset from the collector's, from each answer's `Date`. */
  onClockOffset?: (offset: ClockOffset) => void;
}

/** What happened to a payload. */
export interface DeliveryReport {
  /** Where it went: the endpoint it was meant for. */
  url: string;
  /** Spans or log records in it. */
  count: number;
  /** The body's bytes as sent (after compression). */
  bytes: number;
  /** Whether it went gzipped. */
  gzip: boolean;
  ok: boolean;
  attempts: number;
  status?: number;
}

/** The component's `transport` import, backed by `fetch`. */
export class FetchTransport {
  private inFlight = 0;
  private keepaliveBytes = 0;
  private keepaliveRequests = 0;
  private readonly fetch: typeof fetch;
  /** Kept bodies being sent by this page (their `id`s): a resend skips them. */
  private readonly owned = new Set<string>();
  private resending = false;
  /** Every settled payload, newest last (the last 100), for diagnostics and tests. */
  readonly reports: DeliveryReport[] = [];

  constructor(private readonly options: FetchTransportOptions, nativeFetch: typeof fetch = globalThis.fetch) {
    this.fetch = nativeFetch.bind(globalThis);
  }

  /** Whether bodies go gzipped. */
  get gzip(): boolean {
    return this.options.compression !== 'none' && typeof CompressionStream === 'function';
  }

  /** The component's `send`: false when too many requests are in flight (the component keeps the items). */
  send(signal: Signal, body: Uint8Array, count: number): boolean {
    if (this.inFlight >= (this.options.maxInFlight ?? 8)) return false;
    this.inFlight++;
    void this.deliver(this.options.urls[signal], body, count);
    return true;
  }

  private async deliver(url: string, body: Uint8Array, count: number): Promise<void> {
    const sent = await this.compress(body);
    const id = `${Date.now()}.${Math.random()}`;
    this.owned.add(id);
    await this.attempt({ id, url, ...sent, count, time: Date.now() });
    this.owned.delete(id);
    this.inFlight--;
    this.options.onIdle?.();
  }

  /**
   * Asks the collector for its time with an empty traces request (valid OTLP, stored as
   * nothing), so that a page whose clock is off has its first payload corrected too.
   */
  probeClock(): void {
    void this.post(this.options.urls.traces, new TextEncoder().encode('{}'), false, false);
  }

  /** Sends what the outbox kept for these endpoints, one body at a time (at start-up, and when back online). */
  async resendKept(): Promise<void> {
    const outbox = this.options.outbox;
    if (!outbox || this.resending) return;
    this.resending = true;
    try {
      for (const [key, kept] of await outbox.all(Object.values(this.options.urls))) {
        if (this.owned.has(kept.id)) continue;
        this.owned.add(kept.id);
        await this.attempt(kept, key);
        this.owned.delete(kept.id);
      }
    } finally {
      this.resending = false;
    }
  }

  /**
   * Sends `kept` until it is delivered, refused for good, or out of attempts. While at risk
   * it is in the outbox (under `key` if it came from there), and leaves it once settled.
   */
  private async attempt(kept: Kept, key?: number): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 5;
    const outbox = this.options.outbox;
    let stored: Promise<number | undefined> | undefined = key === undefined ? undefined : Promise.resolve(key);
    let report: DeliveryReport = { url: kept.url, count: kept.count, bytes: kept.body.length, gzip: kept.gzip, ok: false, attempts: 0 };
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const keepalive = this.keepaliveRequests < KEEPALIVE_REQUESTS && this.keepaliveBytes + kept.body.length <= KEEPALIVE_BYTES;
      // Kept before the request leaves: a page that closes now takes a plain request with it.
      if (!keepalive) stored ??= outbox?.put(kept);
      const { status, retryAfter } = await this.post(kept.url, kept.body, kept.gzip, keepalive);
      report = { ...report, ok: status !== undefined && status >= 200 && status < 300, attempts: attempt, status };
      if (report.ok || !isRetryable(status) || attempt === maxAttempts) break;
      stored ??= outbox?.put(kept);
      await new Promise((resolve) => setTimeout(resolve, retryDelay(attempt, retryAfter, Date.now())));
    }
    const settled = report.ok || !isRetryable(report.status);
    const storedKey = await stored;
    if (settled && storedKey !== undefined) await outbox?.delete(storedKey);
    this.reports.push(report);
    if (this.reports.length > 100) this.reports.shift();
  }

  /**
   * The body gzipped, or as it is without `CompressionStream` or if compressing fails.
   * Only promise jobs (microtasks) run between the call and the result, so a payload sent
   * from a `pagehide` listener is compressed and posted before the page goes away.
   */
  private async compress(body: Uint8Array): Promise<{ body: Uint8Array; gzip: boolean }> {
    if (!this.gzip) return { body, gzip: false };
    try {
      const writer = new CompressionStream('gzip');
      const input = writer.writable.getWriter();
      void input.write(body as Uint8Array<ArrayBuffer>).catch(() => undefined);
      void input.close().catch(() => undefined);
      const reader = writer.readable.getReader();
      const chunks: Uint8Array[] = [];
      let length = 0;
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        chunks.push(chunk.value);
        length += chunk.value.length;
      }
      const out = new Uint8Array(length);
      let at = 0;
      for (const chunk of chunks) {
        out.set(chunk, at);
        at += chunk.length;
      }
      return { body: out, gzip: true };
    } catch {
      return { body, gzip: false };
    }
  }

  /** One POST; `status` undefined on a network error. */
  private async post(url: string, body: Uint8Array, gzip: boolean, keepalive: boolean): Promise<{ status?: number; retryAfter: string | null }> {
    if (keepalive) {
      this.keepaliveRequests++;
      this.keepaliveBytes += body.length;
    }
    const sentMs = wallMs();
    try {
      const response = await this.fetch(url, {
        method: 'POST',
        body: body as BodyInit,
        headers: { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}), ...this.options.headers },
        keepalive,
        credentials: 'omit',
      });
      // The body is an Export*ServiceResponse; partial success needs no retry.
      const offset = clockOffset(response.headers.get('date'), sentMs, wallMs());
      if (offset) this.options.onClockOffset?.(offset);
      await response.arrayBuffer().catch(() => undefined);
      return { status: response.status, retryAfter: response.headers.get('retry-after') };
    } catch {
      return { retryAfter: null };
    } finally {
      if (keepalive) {
        this.keepaliveRequests--;
        this.keepaliveBytes -= body.length;
      }
    }
  }
}
