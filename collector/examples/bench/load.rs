//! Sending: bodies from a queue over concurrent keep-alive connections, every answer
//! checked (200, no rejected spans), each request's latency kept.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;

use crate::spans::Body;

/// A client for one subject: HTTP/1.1, up to `connections` kept alive.
pub fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("a plain HTTP client builds")
}

/// What one run of requests measured.
pub struct Outcome {
    /// From the first request sent to the last answer read (summed over batches).
    pub elapsed: Duration,
    /// Each request's time, sorted.
    pub latencies: Vec<Duration>,
    /// Spans sent (all accepted).
    pub spans: u64,
    /// CPU time the receiver and this process (the load generator) used while sending.
    pub cpu: Cpu,
}

/// CPU time of the receiver and of the load generator, as /proc reports it (all threads,
/// user and system, in 10 ms ticks).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    /// The receiver's process.
    pub receiver: Duration,
    /// This process.
    pub load: Duration,
}

impl Cpu {
    /// Now, for the receiver `pid` and this process.
    pub fn now(pid: u32) -> Cpu {
        Cpu {
            receiver: process_cpu(&pid.to_string()),
            load: process_cpu("self"),
        }
    }

    /// What was used since `earlier`.
    pub fn since(self, earlier: Cpu) -> Cpu {
        Cpu {
            receiver: self.receiver.saturating_sub(earlier.receiver),
            load: self.load.saturating_sub(earlier.load),
        }
    }
}

/// utime + stime of /proc/<pid>/stat (fields 14 and 15, after the parenthesised name),
/// in USER_HZ ticks, which Linux fixes at 100 per second; zero if unreadable.
fn process_cpu(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

impl Outcome {
    /// An empty outcome, to add batches to.
    pub fn new() -> Self {
        Outcome {
            elapsed: Duration::ZERO,
            latencies: Vec::new(),
            spans: 0,
            cpu: Cpu::default(),
        }
    }

    /// Adds a batch's figures.
    pub fn add(&mut self, elapsed: Duration, latencies: Vec<Duration>, spans: u64, cpu: Cpu) {
        self.elapsed += elapsed;
        self.cpu.receiver += cpu.receiver;
        self.cpu.load += cpu.load;
        self.latencies.extend(latencies);
        self.latencies.sort_unstable();
        self.spans += spans;
    }

    /// Spans per second over the whole run.
    pub fn spans_per_second(&self) -> f64 {
        self.spans as f64 / self.elapsed.as_secs_f64()
    }

    /// CPU microseconds per span: the receiver's and the load generator's.
    pub fn cpu_us_per_span(&self) -> (f64, f64) {
        let per_span = |d: Duration| d.as_secs_f64() * 1e6 / self.spans as f64;
        (per_span(self.cpu.receiver), per_span(self.cpu.load))
    }

    /// The `p`th percentile latency in milliseconds (nearest rank).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        percentile(&self.latencies, p).as_secs_f64() * 1e3
    }
}

/// The `p`th percentile (nearest rank) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Posts every body that `queue` yields to `url` over `connections` concurrent
/// connections; returns the time from the first send to the last answer and the
/// latencies. Fails at the first answer that is not 200 or that rejects spans.
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    body: Body,
    queue: mpsc::Receiver<Vec<u8>>,
    connections: usize,
) -> Result<(Duration, Vec<Duration>)> {
    let queue = Arc::new(Mutex::new(queue));
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..connections {
        let (client, url, queue) = (client.clone(), url.to_owned(), Arc::clone(&queue));
        workers.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let next = queue.lock().await.recv().await;
                let Some(bytes) = next else { break };
                latencies.push(post(&client, &url, body, bytes).await?);
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    // Dropping the set on an error aborts the other workers.
    while let Some(worker) = workers.join_next().await {
        latencies.extend(worker.context("a sending task panicked")??);
    }
    Ok((started.elapsed(), latencies))
}

/// A queue already holding `bodies`, closed behind them.
pub fn queue_of(bodies: Vec<Vec<u8>>) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel(bodies.len().max(1));
    for bytes in bodies {
        sender.try_send(bytes).expect("the queue has room for all");
    }
    receiver
}

/// One export request; its latency includes reading the answer.
async fn post(client: &reqwest::Client, url: &str, body: Body, bytes: Vec<u8>) -> Result<Duration> {
    let started = Instant::now();
    let mut request = client.post(url).body(bytes);
    for (name, value) in body.headers() {
        request = request.header(*name, *value);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let reply = response
        .bytes()
        .await
        .with_context(|| format!("reading the answer of POST {url}"))?;
    let latency = started.elapsed();
    if status != 200 {
        bail!(
            "POST {url} ({}) answered {status}: {}",
            body.name(),
            String::from_utf8_lossy(&reply)
        );
    }
    let rejected = rejected_spans(&content_type, &reply)
        .with_context(|| format!("POST {url} answered 200 with an unreadable body"))?;
    if rejected != 0 {
        bail!(
            "POST {url} ({}) rejected {rejected} spans: {}",
            body.name(),
            String::from_utf8_lossy(&reply)
        );
    }
    Ok(latency)
}

/// `partialSuccess.rejectedSpans` of an export answer (JSON or protobuf; none if empty).
fn rejected_spans(content_type: &str, reply: &[u8]) -> Result<i64> {
    if reply.is_empty() {
        return Ok(0);
    }
    if content_type.contains("json") {
        let answer: serde_json::Value = serde_json::from_slice(reply)?;
        let rejected = &answer["partialSuccess"]["rejectedSpans"];
        return Ok(match rejected {
            serde_json::Value::Number(n) => n.as_i64().unwrap_or(-1),
            serde_json::Value::String(s) => s.parse().unwrap_or(-1),
            _ => 0,
        });
    }
    let answer = ExportTraceServiceResponse::decode(reply)?;
    Ok(answer.partial_success.map_or(0, |p| p.rejected_spans))
}
