/**
 * Stand-in for `src/transport/fetch-transport.ts`, swapped in at bundle time (see
 * lib/build.mjs) so the per-span page runs the SDK's own `createSdk` while the OTLP payload
 * bytes the component hands over are counted and dropped instead of sent. Same surface as
 * the real `FetchTransport` as far as `createSdk` uses it.
 */

/** A delivery report (same shape as the real transport's; never produced here). */
export interface DeliveryReport {
  url: string;
  count: number;
  bytes: number;
  gzip: boolean;
  ok: boolean;
  attempts: number;
  status?: number;
}

/** What the transports of one endpoint URL received; `accept = false` plays a busy transport. */
export interface Sink {
  accept: boolean;
  payloads: number;
  spans: number;
  bytes: number;
}

const sinks = new Map<string, Sink>();

/** The sink of the SDK instances created with this traces URL (one per instance in the page). */
export function sinkFor(url: string): Sink {
  let sink = sinks.get(url);
  if (!sink) {
    sink = { accept: true, payloads: 0, spans: 0, bytes: 0 };
    sinks.set(url, sink);
  }
  return sink;
}

/** Resets a sink's counters before a measured run. */
export function resetSink(sink: Sink): void {
  sink.payloads = 0;
  sink.spans = 0;
  sink.bytes = 0;
}

/** The component's `transport.send`: counts the payload, drops it, says taken (or busy). */
export class FetchTransport {
  readonly reports: DeliveryReport[] = [];
  /** Plain bodies, as OpenTelemetry's exporter sends by default. */
  readonly gzip = false;
  private readonly sink: Sink;

  constructor(options: { urls: { traces: string } }) {
    this.sink = sinkFor(options.urls.traces);
  }

  /** Counts traces payloads (the benchmark records no logs). */
  send(signal: 'traces' | 'logs', body: Uint8Array, spans: number): boolean {
    const sink = this.sink;
    if (!sink.accept) return false;
    if (signal !== 'traces') return true;
    sink.payloads++;
    sink.spans += spans;
    sink.bytes += body.length;
    return true;
  }

  /** No collector to ask for its time. */
  probeClock(): void {}

  /** Nothing is ever kept to send again. */
  resendKept(): Promise<void> {
    return Promise.resolve();
  }
}
