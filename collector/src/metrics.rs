//! The collector's metrics and `GET /metrics`, their exposition in the Prometheus text
//! format (version 0.0.4). Names and labels are in README's "Metrics" table; every label
//! value comes from a fixed set (signals, outcomes, reasons) or the command line (the
//! `--forward` URLs), never from a request.
//!
//! Counters and the latency histogram are counted as requests go by ([`Metrics`]);
//! gauges (bytes in flight, the store) are read from their sources at each scrape.
//!
//! The crate is `prometheus-client`, the Prometheus project's own Rust client: typed label
//! sets (so that a label's values are the ones its type can take), no global registry, and
//! an encoder of the 0.0.4 text format that Prometheus and every scraper read (the
//! `prometheus` crate, the other choice, is older, keeps a global default registry and
//! brings protobuf along).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::{EncodeLabelSet, LabelSetEncoder, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::forward::Forwarder;
use crate::ingest::Ingest;
use crate::store::Store;

/// The prefix of every metric's name.
pub const PREFIX: &str = "wasm_otlp_collector";

/// Upper bounds of the request latency histogram's buckets, in seconds: from a request
/// answered at once to one that waited long for the disk.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A signal the collector receives: the `signal` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignalName {
    /// `POST /v1/traces`.
    Traces,
    /// `POST /v1/logs`.
    Logs,
}

impl SignalName {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalName::Traces => "traces",
            SignalName::Logs => "logs",
        }
    }
}

/// Why a whole export request was refused: the `reason` label of a rejected request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// 415: a `Content-Type` or `Content-Encoding` the collector does not read.
    UnsupportedMediaType,
    /// 413: the body is larger than `--max-body`, or inflates to more than
    /// `--max-decompressed`.
    TooLarge,
    /// 413: more spans or log records than `--max-spans-per-request`.
    TooManyItems,
    /// 413: decoded, the body would take more memory than allowed for its size.
    TooComplex,
    /// 400: not valid gzip, OTLP JSON or OTLP protobuf.
    Malformed,
    /// 400: the body could not be read (the client's connection failed).
    ReadFailed,
    /// 408: the body arrived slower than `--min-upload-rate`.
    TooSlow,
    /// 503: too many exports in progress, or no room for the body within
    /// `--in-flight-wait`.
    Busy,
    /// 503: the store cannot write now (shutting down, disk full, behind).
    Unavailable,
    /// 401: no ingest key, an unknown one, or one not valid for the request's origin.
    Unauthorized,
    /// 429: over the origin's or the key's rate limit.
    RateLimited,
    /// 500: a bug, or the store's writer stopped.
    Internal,
}

impl Reason {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UnsupportedMediaType => "unsupported_media_type",
            Reason::TooLarge => "too_large",
            Reason::TooManyItems => "too_many_items",
            Reason::TooComplex => "too_complex",
            Reason::Malformed => "malformed",
            Reason::ReadFailed => "read_failed",
            Reason::TooSlow => "too_slow",
            Reason::Busy => "busy",
            Reason::Unavailable => "unavailable",
            Reason::Unauthorized => "unauthorized",
            Reason::RateLimited => "rate_limited",
            Reason::Internal => "internal_error",
        }
    }
}

/// What became of an export request: the `outcome` label (and `reason` when rejected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Every span or log record stored (200).
    Accepted,
    /// Some stored, some rejected by validation (200 with `partialSuccess`).
    PartiallyAccepted,
    /// Refused whole.
    Rejected(Reason),
}

/// What became of a span or log record: the `outcome` label (and `reason` when
/// rejected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemOutcome {
    /// Stored.
    Accepted,
    /// Not stored: a validation problem's kind
    /// ([`crate::ingest::validate::Problem::kind`]), or the [`Reason`] the store refused
    /// its request for.
    Rejected(&'static str),
}

/// What became of forwarded spans or log records: the `outcome` label of
/// `forward_items_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForwardOutcome {
    /// Accepted by the upstream.
    Delivered,
    /// Refused by the upstream (a 400 or 413, or its `partialSuccess`).
    Rejected,
    /// Deleted from the full queue before the upstream had them.
    Dropped,
}

impl ForwardOutcome {
    fn as_str(self) -> &'static str {
        match self {
            ForwardOutcome::Delivered => "delivered",
            ForwardOutcome::Rejected => "rejected",
            ForwardOutcome::Dropped => "dropped",
        }
    }
}

/// `upstream="<url>"` (a `--forward` URL: a fixed set from the command line).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct UpstreamLabels(String);

impl EncodeLabelSet for UpstreamLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        [("upstream", self.0.as_str())].encode(encoder)
    }
}

/// `upstream`, `signal` and `outcome` of forwarded items.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ForwardItemLabels(String, SignalName, ForwardOutcome);

impl EncodeLabelSet for ForwardItemLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        [
            ("upstream", self.0.as_str()),
            ("signal", self.1.as_str()),
            ("outcome", self.2.as_str()),
        ]
        .encode(encoder)
    }
}

/// `upstream` and `result` of an attempt to deliver (delivered, refused, retried).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AttemptLabels(String, &'static str);

impl EncodeLabelSet for AttemptLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        [("upstream", self.0.as_str()), ("result", self.1)].encode(encoder)
    }
}

/// `signal="..."`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SignalLabels(SignalName);

impl EncodeLabelSet for SignalLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        [("signal", self.0.as_str())].encode(encoder)
    }
}

/// `signal`, `outcome` and, when rejected, `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RequestLabels(SignalName, Outcome);

impl EncodeLabelSet for RequestLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        let signal = ("signal", self.0.as_str());
        match self.1 {
            Outcome::Accepted => [signal, ("outcome", "accepted")].encode(encoder),
            Outcome::PartiallyAccepted => {
                [signal, ("outcome", "partially_accepted")].encode(encoder)
            }
            Outcome::Rejected(reason) => {
                [signal, ("outcome", "rejected"), ("reason", reason.as_str())].encode(encoder)
            }
        }
    }
}

/// `outcome` and, when rejected, `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ItemLabels(ItemOutcome);

impl EncodeLabelSet for ItemLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        match self.0 {
            ItemOutcome::Accepted => [("outcome", "accepted")].encode(encoder),
            ItemOutcome::Rejected(reason) => {
                [("outcome", "rejected"), ("reason", reason)].encode(encoder)
            }
        }
    }
}

type Histograms = Family<SignalLabels, Histogram, fn() -> Histogram>;

/// The registry and its instruments. Cheap to share behind an `Arc`; counting takes
/// no lock but the label family's (a read lock once a label set exists).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    spans: Family<ItemLabels, Counter>,
    log_records: Family<ItemLabels, Counter>,
    duration: Histograms,
    in_flight_bytes: Gauge,
    decode_bytes: Gauge,
    connections: Gauge,
    store_size: Gauge,
    store_spans: Gauge,
    store_log_records: Gauge,
    store_segments: Gauge,
    head_fill: Gauge<f64, AtomicU64>,
    sealed_heads: Gauge,
    forward_items: Family<ForwardItemLabels, Counter>,
    forward_attempts: Family<AttemptLabels, Counter>,
    forward_queue: Gauge,
    forward_pending: Family<UpstreamLabels, Gauge>,
    forward_lag: Family<UpstreamLabels, Gauge<f64, AtomicU64>>,
    forward_up: Family<UpstreamLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Every metric registered, the series of accepted requests and items at 0.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix(PREFIX);
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Export requests by signal and outcome (accepted, partially_accepted, or rejected with a reason)",
            requests.clone(),
        );
        let spans = Family::<ItemLabels, Counter>::default();
        registry.register(
            "spans",
            "Spans received in decoded requests: accepted (stored), or rejected with the validation problem or the store's refusal",
            spans.clone(),
        );
        let log_records = Family::<ItemLabels, Counter>::default();
        registry.register(
            "log_records",
            "Log records received in decoded requests: accepted (stored), or rejected with the validation problem or the store's refusal",
            log_records.clone(),
        );
        let duration: Histograms = Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register_with_unit(
            "request_duration",
            "Time from an export request's head to its answer, by signal",
            Unit::Seconds,
            duration.clone(),
        );
        let mut gauge = |name: &str, help: &str, unit: Option<Unit>| {
            let gauge = Gauge::default();
            match unit {
                Some(unit) => registry.register_with_unit(name, help, unit, gauge.clone()),
                None => registry.register(name, help, gauge.clone()),
            }
            gauge
        };
        let in_flight_bytes = gauge(
            "in_flight",
            "Bytes of export request bodies held (--max-bytes-in-flight)",
            Some(Unit::Bytes),
        );
        let decode_bytes = gauge(
            "decode_reserved",
            "Bytes reserved for inflating and decoding export requests (--max-decode-bytes)",
            Some(Unit::Bytes),
        );
        let connections = gauge("connections_open", "Connections open", None);
        let store_size = gauge(
            "store_size",
            "Bytes of segments and write-ahead logs on disk",
            Some(Unit::Bytes),
        );
        let store_spans = gauge("store_spans", "Spans stored", None);
        let store_log_records = gauge("store_log_records", "Log records stored", None);
        let store_segments = gauge("store_segments", "Segment files", None);
        let sealed_heads = gauge(
            "store_sealed_heads",
            "Sealed heads waiting to be written out as segments (writes get 503 at the limit)",
            None,
        );
        let head_fill = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "store_head_fill_ratio",
            "How near the head is to being sealed and written out, 0 to 1 (its spans and log records, or its memory)",
            head_fill.clone(),
        );
        let forward_items = Family::<ForwardItemLabels, Counter>::default();
        registry.register(
            "forward_items",
            "Spans and log records forwarded, by upstream, signal and outcome (delivered, rejected by the upstream, dropped from the full queue)",
            forward_items.clone(),
        );
        let forward_attempts = Family::<AttemptLabels, Counter>::default();
        registry.register(
            "forward_attempts",
            "Requests to upstreams by result (delivered, refused for good, retried)",
            forward_attempts.clone(),
        );
        let forward_queue = Gauge::default();
        registry.register_with_unit(
            "forward_queue",
            "Bytes of the forwarding queue on disk (--forward-queue-max-bytes)",
            Unit::Bytes,
            forward_queue.clone(),
        );
        let forward_pending = Family::<UpstreamLabels, Gauge>::default();
        registry.register_with_unit(
            "forward_pending",
            "Bytes of the queue an upstream has yet to receive",
            Unit::Bytes,
            forward_pending.clone(),
        );
        let forward_lag = Family::<UpstreamLabels, Gauge<f64, AtomicU64>>::default();
        registry.register_with_unit(
            "forward_lag",
            "How long the oldest record an upstream has yet to receive has waited (0 when it is caught up)",
            Unit::Seconds,
            forward_lag.clone(),
        );
        let forward_up = Family::<UpstreamLabels, Gauge>::default();
        registry.register(
            "forward_up",
            "1 if the latest request to the upstream succeeded (or none was needed), 0 while it fails",
            forward_up.clone(),
        );
        let metrics = Metrics {
            registry,
            requests,
            spans,
            log_records,
            duration,
            in_flight_bytes,
            decode_bytes,
            connections,
            store_size,
            store_spans,
            store_log_records,
            store_segments,
            head_fill,
            sealed_heads,
            forward_items,
            forward_attempts,
            forward_queue,
            forward_pending,
            forward_lag,
            forward_up,
        };
        // Series that exist from the start, so that rates over them start at 0.
        for signal in [SignalName::Traces, SignalName::Logs] {
            for outcome in [Outcome::Accepted, Outcome::PartiallyAccepted] {
                metrics
                    .requests
                    .get_or_create_owned(&RequestLabels(signal, outcome));
            }
            metrics
                .items(signal)
                .get_or_create_owned(&ItemLabels(ItemOutcome::Accepted));
            metrics.duration.get_or_create_owned(&SignalLabels(signal));
        }
        metrics
    }

    /// Counts an export request and its latency.
    pub fn request(&self, signal: SignalName, outcome: Outcome, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels(signal, outcome))
            .inc();
        self.duration
            .get_or_create(&SignalLabels(signal))
            .observe(elapsed.as_secs_f64());
    }

    /// Counts `count` spans or log records (by `signal`) that came to `outcome`.
    pub fn item(&self, signal: SignalName, outcome: ItemOutcome, count: u64) {
        if count > 0 {
            self.items(signal)
                .get_or_create(&ItemLabels(outcome))
                .inc_by(count);
        }
    }

    fn items(&self, signal: SignalName) -> &Family<ItemLabels, Counter> {
        match signal {
            SignalName::Traces => &self.spans,
            SignalName::Logs => &self.log_records,
        }
    }

    /// The gauge of open connections, for the accept loop to move.
    pub fn connections(&self) -> Gauge {
        self.connections.clone()
    }

    /// Counts `count` spans or log records forwarded to `upstream` that came to
    /// `outcome`.
    pub fn forward_items(
        &self,
        upstream: &str,
        signal: SignalName,
        outcome: ForwardOutcome,
        count: u64,
    ) {
        if count > 0 {
            self.forward_items
                .get_or_create(&ForwardItemLabels(upstream.to_owned(), signal, outcome))
                .inc_by(count);
        }
    }

    /// Counts a request to `upstream` by its result (`delivered`, `refused`, `retried`).
    pub fn forward_attempt(&self, upstream: &str, result: &'static str) {
        self.forward_attempts
            .get_or_create(&AttemptLabels(upstream.to_owned(), result))
            .inc();
    }

    /// Sets the bytes of the forwarding queue.
    pub fn forward_queue_bytes(&self, bytes: u64) {
        self.forward_queue
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// Sets an upstream's gauges: bytes it has yet to receive, its lag, whether it is up.
    pub fn forward_upstream(&self, upstream: &str, pending: u64, lag: Duration, up: bool) {
        let labels = UpstreamLabels(upstream.to_owned());
        self.forward_pending
            .get_or_create(&labels)
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
        self.forward_lag
            .get_or_create(&labels)
            .set(lag.as_secs_f64());
        self.forward_up.get_or_create(&labels).set(i64::from(up));
    }

    /// Sets the gauges read at scrape time from `ingest` and, where the collector keeps
    /// one, `store`.
    pub fn refresh(&self, ingest: &Ingest, store: Option<&Store>) {
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let in_flight = ingest.in_flight();
        self.in_flight_bytes.set(gauge(in_flight.body_bytes as u64));
        self.decode_bytes.set(gauge(in_flight.decode_bytes as u64));
        let Some(store) = store else {
            return;
        };
        let status = store.status();
        self.store_size.set(gauge(status.bytes_on_disk));
        self.store_spans.set(gauge(status.spans));
        self.store_log_records.set(gauge(status.logs));
        self.store_segments.set(gauge(status.segments as u64));
        let head = store.head_status();
        self.head_fill.set(head.fill());
        self.sealed_heads.set(gauge(head.sealed as u64));
    }

    /// Every metric in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> Result<String, fmt::Error> {
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// What `GET /metrics` reads.
pub struct Sources {
    /// The counters and histograms.
    pub metrics: Arc<Metrics>,
    /// The export handler's state (bytes in flight).
    pub ingest: Arc<Ingest>,
    /// The store, unless `--no-store`.
    pub store: Option<Arc<Store>>,
    /// Forwarding, with `--forward`.
    pub forward: Option<Arc<Forwarder>>,
}

/// `GET /metrics`: every metric in the Prometheus text format.
pub async fn scrape(State(sources): State<Arc<Sources>>) -> Response {
    sources
        .metrics
        .refresh(&sources.ingest, sources.store.as_deref());
    if let Some(forward) = &sources.forward {
        forward.refresh(&sources.metrics);
    }
    match sources.metrics.encode() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(prometheus_text::CONTENT_TYPE),
            )],
            text,
        )
            .into_response(),
        Err(fmt::Error) => (StatusCode::INTERNAL_SERVER_ERROR, "encoding failed").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_lines(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with('#')).collect()
    }

    #[test]
    fn counts_are_encoded_with_fixed_labels() {
        let metrics = Metrics::new();
        let ms = Duration::from_millis(3);
        metrics.request(SignalName::Traces, Outcome::Accepted, ms);
        metrics.request(SignalName::Traces, Outcome::PartiallyAccepted, ms);
        metrics.request(
            SignalName::Logs,
            Outcome::Rejected(Reason::Malformed),
            Duration::from_secs(2),
        );
        metrics.item(SignalName::Traces, ItemOutcome::Accepted, 3);
        metrics.item(SignalName::Traces, ItemOutcome::Rejected("kind"), 2);
        metrics.item(SignalName::Logs, ItemOutcome::Rejected("no_time"), 0);
        let text = metrics.encode().unwrap();
        let samples = sample_lines(&text);
        for expected in [
            r#"wasm_otlp_collector_requests_total{signal="traces",outcome="accepted"} 1"#,
            r#"wasm_otlp_collector_requests_total{signal="traces",outcome="partially_accepted"} 1"#,
            r#"wasm_otlp_collector_requests_total{signal="logs",outcome="accepted"} 0"#,
            r#"wasm_otlp_collector_requests_total{signal="logs",outcome="rejected",reason="malformed"} 1"#,
            r#"wasm_otlp_collector_spans_total{outcome="accepted"} 3"#,
            r#"wasm_otlp_collector_spans_total{outcome="rejected",reason="kind"} 2"#,
            r#"wasm_otlp_collector_log_records_total{outcome="accepted"} 0"#,
            r#"wasm_otlp_collector_request_duration_seconds_bucket{signal="traces",le="0.005"} 2"#,
            r#"wasm_otlp_collector_request_duration_seconds_bucket{signal="logs",le="1"} 0"#,
            r#"wasm_otlp_collector_request_duration_seconds_bucket{signal="logs",le="2.5"} 1"#,
            r#"wasm_otlp_collector_request_duration_seconds_count{signal="logs"} 1"#,
            "wasm_otlp_collector_in_flight_bytes 0",
            "wasm_otlp_collector_connections_open 0",
            "wasm_otlp_collector_store_head_fill_ratio 0.0",
        ] {
            assert!(samples.contains(&expected), "{expected} not in\n{text}");
        }
        // A count of 0 creates no series.
        assert!(!text.contains("no_time"), "{text}");
        for (name, kind) in [
            ("requests_total", "counter"),
            ("spans_total", "counter"),
            ("request_duration_seconds", "histogram"),
            ("store_size_bytes", "gauge"),
            ("store_sealed_heads", "gauge"),
        ] {
            let line = format!("# TYPE {PREFIX}_{name} {kind}");
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
    }

    #[test]
    fn every_sample_is_a_name_labels_and_a_number() {
        let metrics = Metrics::new();
        metrics.connections().inc();
        let text = metrics.encode().unwrap();
        for line in sample_lines(&text) {
            let (series, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
            let name = series.split('{').next().unwrap();
            assert!(name.starts_with(PREFIX), "{line}");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{line}"
            );
        }
        assert!(text.contains("wasm_otlp_collector_connections_open 1\n"));
    }
}
