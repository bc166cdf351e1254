//! One upstream: its URLs, how it is doing, and the task that delivers the queue to it
//! (read a chunk, gzip, POST as OTLP/HTTP protobuf, then move the cursor or wait and
//! send again).

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, header};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use tokio::sync::{Notify, watch};

use super::queue::{Chunk, Queue};
use super::retry::{Backoff, Verdict, parse_retry_after, verdict};
use crate::metrics::{ForwardOutcome, Metrics, SignalName};

/// Body bytes (before gzip) of one request upstream, about: records are joined up to it.
const MAX_REQUEST_BYTES: usize = 4 << 20;

/// The most of an upstream's answer read (its `partialSuccess`, or an error's text).
const MAX_ANSWER_BYTES: usize = 64 << 10;

/// How often an idle upstream looks at the queue without being woken (a safety net).
const IDLE_POLL: Duration = Duration::from_secs(5);

/// An upstream OTLP/HTTP receiver and how delivery to it is going.
#[derive(Debug)]
pub struct Upstream {
    /// Its base URL as given (`--forward`), the `upstream` label of its metrics.
    pub url: String,
    traces: String,
    logs: String,
    /// Unix milliseconds when the oldest record not yet delivered was queued; 0 when
    /// it is caught up.
    behind_since_ms: AtomicU64,
    /// Why the latest attempt failed and since when; `None` after a delivery.
    failing: Mutex<Option<(Instant, String)>>,
    /// Woken when records are queued.
    pub(super) wake: Notify,
}

impl Upstream {
    /// The upstream at base URL `url` (`http://host:4318`): traces go to
    /// `<url>/v1/traces`, logs to `<url>/v1/logs`, as OTLP exporters do.
    pub fn new(url: &str) -> Upstream {
        let base = url.trim_end_matches('/');
        Upstream {
            url: url.to_owned(),
            traces: format!("{base}/v1/traces"),
            logs: format!("{base}/v1/logs"),
            behind_since_ms: AtomicU64::new(0),
            failing: Mutex::new(None),
            wake: Notify::new(),
        }
    }

    /// A stable name for its files: a hash of its URL.
    pub fn id(&self) -> String {
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(self.url.as_bytes()))
    }

    /// How long the oldest record it has not received has waited.
    pub fn lag(&self) -> Duration {
        match self.behind_since_ms.load(Ordering::Relaxed) {
            0 => Duration::ZERO,
            since => Duration::from_millis(now_ms().saturating_sub(since)),
        }
    }

    /// Why its latest attempt failed and how long ago the failures began; `None` if it
    /// succeeded (or none was made).
    pub fn failing(&self) -> Option<(Duration, String)> {
        self.failing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|(since, why)| (since.elapsed(), why.clone()))
    }

    fn set_failing(&self, why: Option<String>) {
        let mut failing = self.failing.lock().unwrap_or_else(PoisonError::into_inner);
        match why {
            None => *failing = None,
            Some(why) => {
                let since = failing
                    .as_ref()
                    .map_or_else(Instant::now, |(since, _)| *since);
                *failing = Some((since, why));
            }
        }
    }
}

/// What a delivery task needs.
pub(super) struct Delivery {
    pub(super) index: usize,
    pub(super) upstream: Arc<Upstream>,
    pub(super) queue: Arc<Queue>,
    pub(super) client: reqwest::Client,
    pub(super) headers: HeaderMap,
    pub(super) metrics: Arc<Metrics>,
}

impl Delivery {
    /// Delivers the queue to the upstream until `stop` turns true.
    pub(super) async fn run(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let queue = Arc::clone(&self.queue);
            let index = self.index;
            let read = tokio::task::spawn_blocking(move || {
                let chunk = queue.read(index, MAX_REQUEST_BYTES)?;
                Ok::<_, std::io::Error>(chunk.map(|chunk| {
                    let gzipped = gzip(&chunk.body);
                    (chunk, gzipped)
                }))
            })
            .await;
            let (chunk, body) = match read {
                Ok(Ok(Some(read))) => read,
                Ok(Ok(None)) => {
                    self.upstream.behind_since_ms.store(0, Ordering::Relaxed);
                    tokio::select! {
                        () = self.upstream.wake.notified() => {}
                        _ = stop.changed() => {}
                        () = tokio::time::sleep(IDLE_POLL) => {}
                    }
                    continue;
                }
                Ok(Err(error)) => {
                    tracing::error!(upstream = %self.upstream.url, %error, "cannot read the forwarding queue");
                    self.upstream
                        .set_failing(Some(format!("cannot read the queue: {error}")));
                    tokio::select! {
                        _ = stop.changed() => {}
                        () = tokio::time::sleep(IDLE_POLL) => {}
                    }
                    continue;
                }
                Err(_) => return,
            };
            self.upstream
                .behind_since_ms
                .store(chunk.oldest_ms.max(1), Ordering::Relaxed);
            if !self.deliver(&chunk, body, &mut stop).await {
                return;
            }
        }
    }

    /// Sends one chunk until it is delivered or refused for good; `false` if stopped
    /// first (it stays queued).
    async fn deliver(
        &self,
        chunk: &Chunk,
        body: bytes::Bytes,
        stop: &mut watch::Receiver<bool>,
    ) -> bool {
        let url = &self.upstream.url;
        let mut backoff = Backoff::default();
        loop {
            match self.send(chunk.signal, body.clone()).await {
                Verdict::Delivered { rejected } => {
                    let rejected = rejected.min(chunk.items);
                    let metrics = &self.metrics;
                    metrics.forward_attempt(url, "delivered");
                    metrics.forward_items(
                        url,
                        chunk.signal,
                        ForwardOutcome::Delivered,
                        chunk.items - rejected,
                    );
                    metrics.forward_items(url, chunk.signal, ForwardOutcome::Rejected, rejected);
                    if rejected > 0 {
                        tracing::warn!(upstream = %url, rejected, "the upstream rejected part of a forwarded request");
                    }
                    self.upstream.set_failing(None);
                    break;
                }
                Verdict::Refused { why } => {
                    self.metrics.forward_attempt(url, "refused");
                    self.metrics.forward_items(
                        url,
                        chunk.signal,
                        ForwardOutcome::Rejected,
                        chunk.items,
                    );
                    tracing::warn!(upstream = %url, items = chunk.items, %why, "the upstream refused forwarded records; they are dropped");
                    break;
                }
                Verdict::Retry { after, why } => {
                    self.metrics.forward_attempt(url, "retried");
                    let wait = backoff.next(after, jitter());
                    tracing::debug!(upstream = %url, %why, ?wait, "forwarding failed; retrying");
                    if self.upstream.failing().is_none() {
                        tracing::warn!(upstream = %url, %why, "forwarding failed; records stay queued and are retried");
                    }
                    self.upstream.set_failing(Some(why));
                    tokio::select! {
                        _ = stop.changed() => return false,
                        () = tokio::time::sleep(wait) => {}
                    }
                    if !self.queue.holds(self.index, chunk.start) {
                        // The full queue dropped (and counted) them meanwhile; what
                        // remains of the chunk is read again from the cursor.
                        return true;
                    }
                }
            }
        }
        let queue = Arc::clone(&self.queue);
        let (index, end) = (self.index, chunk.end);
        match tokio::task::spawn_blocking(move || queue.advance(index, end)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(upstream = %url, %error, "cannot save the forwarding cursor; records may be sent again after a restart");
            }
            Err(_) => return false,
        }
        true
    }

    /// One attempt.
    async fn send(&self, signal: SignalName, body: bytes::Bytes) -> Verdict {
        let url = match signal {
            SignalName::Traces => &self.upstream.traces,
            SignalName::Logs => &self.upstream.logs,
        };
        let response = self
            .client
            .post(url)
            .headers(self.headers.clone())
            .header(header::CONTENT_TYPE, "application/x-protobuf")
            .header(header::CONTENT_ENCODING, "gzip")
            .body(body)
            .send()
            .await;
        let mut response = match response {
            Ok(response) => response,
            Err(error) => {
                return Verdict::Retry {
                    after: None,
                    why: format!("cannot reach {url}: {}", error_chain(&error)),
                };
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let mut answer = Vec::new();
        while answer.len() < MAX_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(bytes)) => answer.extend_from_slice(&bytes),
                Ok(None) | Err(_) => break,
            }
        }
        if (200..300).contains(&status) {
            let rejected = match signal {
                SignalName::Traces => ExportTraceServiceResponse::decode(&answer[..])
                    .ok()
                    .and_then(|r| r.partial_success)
                    .map_or(0, |p| p.rejected_spans),
                SignalName::Logs => ExportLogsServiceResponse::decode(&answer[..])
                    .ok()
                    .and_then(|r| r.partial_success)
                    .map_or(0, |p| p.rejected_log_records),
            };
            return Verdict::Delivered {
                rejected: u64::try_from(rejected).unwrap_or(0),
            };
        }
        verdict(status, retry_after, &String::from_utf8_lossy(&answer))
    }
}

/// The body gzipped (fast: an edge spends its CPU on receiving).
fn gzip(body: &[u8]) -> bytes::Bytes {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default().into()
}

/// An error and its causes, one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A number in [0, 1) that differs between edges and attempts.
fn jitter() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from(nanos % 1_000_000) / 1_000_000.0
}

/// Now, Unix milliseconds.
pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_otlp_exporters() {
        let upstream = Upstream::new("http://otel:4318/");
        assert_eq!(upstream.traces, "http://otel:4318/v1/traces");
        assert_eq!(upstream.logs, "http://otel:4318/v1/logs");
        assert_eq!(upstream.id().len(), 16);
        assert_ne!(upstream.id(), Upstream::new("http://other:4318").id());
    }

    #[test]
    fn failures_keep_their_start() {
        let upstream = Upstream::new("http://otel:4318");
        assert!(upstream.failing().is_none());
        upstream.set_failing(Some("one".into()));
        std::thread::sleep(Duration::from_millis(20));
        upstream.set_failing(Some("two".into()));
        let (since, why) = upstream.failing().unwrap();
        assert!(since >= Duration::from_millis(20));
        assert_eq!(why, "two");
        upstream.set_failing(None);
        assert!(upstream.failing().is_none());
    }
}
