/**
 * Sends OTLP/JSON bodies with `fetch`: `keepalive` while the bodies in flight fit the
 * browser's keep-alive budget (so they survive the page closing), plain `fetch` above it,
 * retries with backoff on network errors and 429/502/503/504 honouring `Retry-After`.
 * Its requests go through the `fetch` captured before any instrumentation, so the
 * exporter never traces itself.
 */

import { isRetryable, retryDelay } from './retry.js';

/** Keep-alive bodies in flight must stay under the browsers' 64 KiB total. */
const KEEPALIVE_BYTES = 60_000;
/** Chromium allows a handful of keep-alive requests in flight per page. */
const KEEPALIVE_REQUESTS = 9;

/** Transport settings. */
export interface FetchTransportOptions {
  /** Full URL of the OTLP/HTTP traces endpoint (`.../v1/traces`). */
  url: string;
  /** Extra request headers (e.g. an API key). */
  headers?: Record<string, string>;
  /** Requests in flight (including those waiting to retry) before `send` says busy. */
  maxInFlight?: number;
  /** Attempts per payload, the first included. */
  maxAttempts?: number;
  /** Called when a payload is settled (delivered or given up) and the transport has room. */
  onIdle?: () => void;
}

/** What happened to a payload. */
export interface DeliveryReport {
  spans: number;
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
  /** Every settled payload, newest last (the last 100), for diagnostics and tests. */
  readonly reports: DeliveryReport[] = [];

  constructor(private readonly options: FetchTransportOptions, nativeFetch: typeof fetch = globalThis.fetch) {
    this.fetch = nativeFetch.bind(globalThis);
  }

  /** The component's `send`: false when too many requests are in flight (the component keeps the spans). */
  send(body: Uint8Array, spans: number): boolean {
    if (this.inFlight >= (this.options.maxInFlight ?? 8)) return false;
    this.inFlight++;
    void this.deliver(body, spans);
    return true;
  }

  private async deliver(body: Uint8Array, spans: number): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 5;
    let report: DeliveryReport = { spans, ok: false, attempts: 0 };
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const { status, retryAfter } = await this.post(body);
      report = { spans, ok: status !== undefined && status >= 200 && status < 300, attempts: attempt, status };
      if (report.ok || !isRetryable(status) || attempt === maxAttempts) break;
      await new Promise((resolve) => setTimeout(resolve, retryDelay(attempt, retryAfter, Date.now())));
    }
    this.reports.push(report);
    if (this.reports.length > 100) this.reports.shift();
    this.inFlight--;
    this.options.onIdle?.();
  }

  /** One POST; `status` undefined on a network error. */
  private async post(body: Uint8Array): Promise<{ status?: number; retryAfter: string | null }> {
    const keepalive = this.keepaliveRequests < KEEPALIVE_REQUESTS && this.keepaliveBytes + body.length <= KEEPALIVE_BYTES;
    if (keepalive) {
      this.keepaliveRequests++;
      this.keepaliveBytes += body.length;
    }
    try {
      const response = await this.fetch(this.options.url, {
        method: 'POST',
        body: body as BodyInit,
        headers: { 'content-type': 'application/json', ...this.options.headers },
        keepalive,
        credentials: 'omit',
      });
      // The body is an ExportTraceServiceResponse; partial success needs no retry.
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
