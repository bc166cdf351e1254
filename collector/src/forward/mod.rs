//! Forwarding (`--forward URL`): what the collector accepted, after validation, goes on
//! to upstream OTLP/HTTP receivers (the OpenTelemetry Collector, Tempo, Jaeger, a
//! vendor) as protobuf, gzipped, through a queue on disk.
//!
//! ```text
//! export request ─> Batch ─> export request body ─> appender thread ─> queue/ (fdatasync) ─> ack
//!                                                                        └> one task per upstream ─> POST <url>/v1/{traces,logs}
//! ```
//!
//! A request is acknowledged only once its records are durably queued (`queue.rs`), so
//! nothing acknowledged is lost when an upstream is down or the collector is killed:
//! each upstream keeps its own cursor and resumes there. Delivery retries with backoff
//! and honours `Retry-After` (`retry.rs`); the queue is bounded in bytes, dropping (and
//! counting) the oldest beyond it.

mod queue;
mod retry;
mod upstream;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::http::HeaderMap;
use tokio::sync::{mpsc, oneshot, watch};

use crate::metrics::{ForwardOutcome, Metrics, SignalName};
use crate::store::StoreError;
use queue::{Queue, Record};
pub use upstream::Upstream;

/// Requests that may wait for the appender; senders wait beyond that.
const APPEND_QUEUE: usize = 64;

/// Most requests appended with one sync.
const MAX_GROUP: usize = 64;

/// How long one attempt upstream may take, connecting included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Past this share of its bound, a queue with a failing upstream makes the collector
/// unready: it is about to drop records.
const UNREADY_FILL: f64 = 0.9;

/// What forwarding is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The upstreams' base URLs.
    pub upstreams: Vec<String>,
    /// Headers sent with every request upstream (an API key, a tenant).
    pub headers: HeaderMap,
    /// The queue's bound on disk.
    pub max_queue_bytes: u64,
}

/// What the appender thread is asked to do.
enum Command {
    /// Queue a request, then report the outcome.
    Append {
        record: Record,
        ack: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Append what is already waiting, then exit.
    Stop,
}

/// The forwarder: the queue, its appender thread and one delivery task per upstream.
pub struct Forwarder {
    queue: Arc<Queue>,
    upstreams: Vec<Arc<Upstream>>,
    appends: mpsc::Sender<Command>,
    appender: Mutex<Option<JoinHandle<()>>>,
    last_failure: Arc<Mutex<Option<String>>>,
    closing: AtomicBool,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Forwarder {
    /// Opens the queue in `dir` and starts delivering it (inside a Tokio runtime).
    pub fn start(dir: &Path, settings: Settings, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        let upstreams: Vec<Arc<Upstream>> = settings
            .upstreams
            .iter()
            .map(|url| Arc::new(Upstream::new(url)))
            .collect();
        let ids: Vec<String> = upstreams.iter().map(|u| u.id()).collect();
        let queue = Arc::new(Queue::open(dir, &ids, settings.max_queue_bytes)?);
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("wasm-otlp-collector/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let (appends, commands) = mpsc::channel(APPEND_QUEUE);
        let last_failure = Arc::new(Mutex::new(None));
        let appender = {
            let queue = Arc::clone(&queue);
            let upstreams = upstreams.clone();
            let metrics = Arc::clone(&metrics);
            let last_failure = Arc::clone(&last_failure);
            std::thread::Builder::new()
                .name("forward-queue".into())
                .spawn(move || append_loop(&queue, commands, &upstreams, &metrics, &last_failure))?
        };
        let (stop, stopped) = watch::channel(false);
        let tasks = upstreams
            .iter()
            .enumerate()
            .map(|(index, upstream)| {
                let delivery = upstream::Delivery {
                    index,
                    upstream: Arc::clone(upstream),
                    queue: Arc::clone(&queue),
                    client: client.clone(),
                    headers: settings.headers.clone(),
                    metrics: Arc::clone(&metrics),
                };
                tokio::spawn(delivery.run(stopped.clone()))
            })
            .collect();
        for (index, upstream) in upstreams.iter().enumerate() {
            let pending_bytes = queue.pending_bytes(index);
            tracing::info!(upstream = %upstream.url, pending_bytes, "forwarding");
        }
        Ok(Forwarder {
            queue,
            upstreams,
            appends,
            appender: Mutex::new(Some(appender)),
            last_failure,
            closing: AtomicBool::new(false),
            stop,
            tasks: Mutex::new(tasks),
        })
    }

    /// Queues an export request body of `items` spans or log records; returns once it
    /// is on stable storage.
    pub async fn enqueue(
        &self,
        signal: SignalName,
        items: usize,
        body: Vec<u8>,
    ) -> Result<(), StoreError> {
        let record = Record {
            signal,
            items: u32::try_from(items).unwrap_or(u32::MAX),
            queued_ms: upstream::now_ms(),
            body,
        };
        let (ack, outcome) = oneshot::channel();
        self.appends
            .send(Command::Append { record, ack })
            .await
            .map_err(|_| self.gone())?;
        outcome.await.map_err(|_| self.gone())?
    }

    fn gone(&self) -> StoreError {
        if self.closing.load(Ordering::Acquire) {
            StoreError::Closed
        } else {
            StoreError::WriterStopped
        }
    }

    /// Whether the queue takes appends: `Err` once closing or if its thread stopped,
    /// or while its latest append failed.
    pub fn health(&self) -> Result<(), StoreError> {
        if self.closing.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let stopped = self
            .appender
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_none_or(JoinHandle::is_finished);
        if stopped {
            return Err(StoreError::WriterStopped);
        }
        match &*self
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(why) => Err(StoreError::Unavailable(format!(
                "the forwarding queue: {why}"
            ))),
            None => Ok(()),
        }
    }

    /// Each upstream's state for `/readyz`: `Ok(None)` delivering, `Ok(Some(note))`
    /// failing while the queue still has room (the collector stays ready: it keeps what
    /// arrives), `Err` failing with the queue nearly full (records are about to be
    /// dropped).
    pub fn upstream_checks(&self) -> Vec<(String, Result<Option<String>, String>)> {
        let fill = self.queue.bytes() as f64 / self.queue.max_bytes().max(1) as f64;
        self.upstreams
            .iter()
            .map(|upstream| {
                let state = match upstream.failing() {
                    None => Ok(None),
                    Some((since, why)) => {
                        let note = format!(
                            "failing for {} s ({why}); {:.0}% of the queue used",
                            since.as_secs(),
                            fill * 100.0
                        );
                        if fill >= UNREADY_FILL {
                            Err(note)
                        } else {
                            Ok(Some(note))
                        }
                    }
                };
                (format!("upstream {}", upstream.url), state)
            })
            .collect()
    }

    /// Sets forwarding's gauges in `metrics` (at scrape time).
    pub fn refresh(&self, metrics: &Metrics) {
        metrics.forward_queue_bytes(self.queue.bytes());
        for (index, upstream) in self.upstreams.iter().enumerate() {
            metrics.forward_upstream(
                &upstream.url,
                self.queue.pending_bytes(index),
                upstream.lag(),
                upstream.failing().is_none(),
            );
        }
    }

    /// Appends what is waiting, then stops the appender and the deliveries (what they
    /// had not delivered stays queued for the next start).
    pub async fn close(&self) {
        self.closing.store(true, Ordering::Release);
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            let _ = task.await;
        }
        let _ = self.appends.send(Command::Stop).await;
        let appender = self
            .appender
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(appender) = appender
            && tokio::task::spawn_blocking(move || appender.join())
                .await
                .map_or(true, |joined| joined.is_err())
        {
            tracing::error!("the forwarding queue's thread panicked");
        }
    }
}

/// The appender thread: takes every request waiting, appends them with one sync (group
/// commit), acknowledges each, wakes the upstreams, and counts what the bound dropped.
fn append_loop(
    queue: &Queue,
    mut commands: mpsc::Receiver<Command>,
    upstreams: &[Arc<Upstream>],
    metrics: &Metrics,
    last_failure: &Mutex<Option<String>>,
) {
    while let Some(first) = commands.blocking_recv() {
        let (mut records, mut acks) = (Vec::new(), Vec::new());
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                Command::Append { record, ack } => {
                    records.push(record);
                    acks.push(ack);
                }
                // Refuse new commands; those already queued are still served.
                Command::Stop => commands.close(),
            }
            if records.len() < MAX_GROUP {
                next = commands.try_recv().ok();
            }
        }
        if records.is_empty() {
            continue;
        }
        let outcome = queue.append(&records);
        let result = match outcome {
            Ok(dropped) => {
                for d in dropped {
                    let url = &upstreams[d.upstream].url;
                    tracing::warn!(upstream = %url, items = d.items, "the forwarding queue is full: dropped its oldest records");
                    metrics.forward_items(url, d.signal, ForwardOutcome::Dropped, d.items);
                }
                *last_failure.lock().unwrap_or_else(PoisonError::into_inner) = None;
                for upstream in upstreams {
                    upstream.wake.notify_one();
                }
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, "cannot append to the forwarding queue");
                let refusal = StoreError::from_io(&error);
                *last_failure.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(refusal.to_string());
                Err(refusal)
            }
        };
        for ack in acks {
            let _ = ack.send(result.clone());
        }
    }
}
