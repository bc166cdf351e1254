//! Load benchmark: requests of 100 spans (browser fetch spans with realistic attributes,
//! unique IDs) as OTLP JSON, gzip JSON and protobuf, from one sequential stream and from
//! 16 concurrent streams; prints spans per second and request latencies.
//!
//! ```text
//! cargo run --release -p collector --example load                  # starts its own collector
//! cargo run --release -p collector --example load -- --requests 2000
//! cargo run --release -p collector --example load -- --target http://127.0.0.1:4319
//! ```
//!
//! Without `--target`, each run gets a fresh collector (own temporary store, in this
//! process). With `--target`, it only sends, to that loopback receiver (another collector,
//! or a peer such as rotel). Every request must be answered 200 without rejected spans.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use collector::config::Config;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::{Value, json};

const SPANS_PER_REQUEST: usize = 100;
const CONCURRENT_STREAMS: usize = 16;

struct Options {
    requests: usize,
    target: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        requests: 1000,
        target: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--requests" => {
                options.requests = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--requests N")
            }
            "--target" => options.target = Some(args.next().expect("--target URL")),
            other => panic!("unknown argument {other:?} (use --requests N, --target URL)"),
        }
    }
    options
}

#[derive(Clone, Copy)]
enum Body {
    Json,
    GzipJson,
    Protobuf,
}

impl Body {
    fn name(self) -> &'static str {
        match self {
            Body::Json => "JSON",
            Body::GzipJson => "gzip JSON",
            Body::Protobuf => "protobuf",
        }
    }
}

/// One export request of 100 spans: 10 traces of a page load plus 9 fetches each.
fn request(seed: u64, n: u64) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut spans = Vec::with_capacity(SPANS_PER_REQUEST);
    for t in 0..10u64 {
        let trace_id = format!("{seed:016x}{:016x}", n * 10 + t);
        let root = format!("{:016x}", (n * 10 + t) * 100 + 1);
        let start = now - 60_000_000_000 + t * 1_000_000;
        for s in 0..10u64 {
            let span_id = format!("{:016x}", (n * 10 + t) * 100 + 1 + s);
            let (name, parent) = if s == 0 {
                ("documentLoad".to_owned(), String::new())
            } else {
                ("HTTP GET".to_owned(), root.clone())
            };
            let status = if s == 7 { 500 } else { 200 };
            spans.push(json!({
                "traceId": trace_id,
                "spanId": span_id,
                "parentSpanId": parent,
                "name": name,
                "kind": if s == 0 { 1 } else { 3 },
                "startTimeUnixNano": (start + s * 2_000_000).to_string(),
                "endTimeUnixNano": (start + s * 2_000_000 + 1_500_000 + s * 10_000).to_string(),
                "attributes": [
                    {"key": "http.request.method", "value": {"stringValue": "GET"}},
                    {"key": "url.full", "value": {"stringValue":
                        format!("https://api.shop.example/v2/products/{}?session={seed:x}&page={s}", n * 10 + t)}},
                    {"key": "server.address", "value": {"stringValue": "api.shop.example"}},
                    {"key": "server.port", "value": {"intValue": "443"}},
                    {"key": "http.response.status_code", "value": {"intValue": status.to_string()}},
                    {"key": "http.response_content_length", "value": {"intValue": (1000 + s * 37).to_string()}},
                    {"key": "user_agent.original", "value": {"stringValue":
                        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"}}
                ],
                "events": if s == 0 { json!([
                    {"timeUnixNano": (start + 500_000).to_string(), "name": "domInteractive"},
                    {"timeUnixNano": (start + 900_000).to_string(), "name": "loadEventEnd"}
                ]) } else { json!([]) },
                "status": if status == 500 { json!({"code": 2, "message": "HTTP 500"}) } else { json!({}) }
            }));
        }
    }
    json!({"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "shop-web"}},
            {"key": "service.version", "value": {"stringValue": "1.4.2"}},
            {"key": "telemetry.sdk.name", "value": {"stringValue": "wasm-otlp"}},
            {"key": "telemetry.sdk.language", "value": {"stringValue": "webjs"}},
            {"key": "browser.language", "value": {"stringValue": "en-GB"}}
        ]},
        "scopeSpans": [{"scope": {"name": "@wasm-otlp/fetch", "version": "0.1.0"}, "spans": spans}]
    }]})
}

fn encode(value: &Value, body: Body) -> Vec<u8> {
    let json = serde_json::to_vec(value).unwrap();
    match body {
        Body::Json => json,
        Body::GzipJson => {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&json).unwrap();
            gz.finish().unwrap()
        }
        Body::Protobuf => serde_json::from_value::<ExportTraceServiceRequest>(value.clone())
            .unwrap()
            .encode_to_vec(),
    }
}

async fn send(client: &reqwest::Client, url: &str, body: Body, bytes: Vec<u8>) -> Duration {
    let started = Instant::now();
    let mut request = client.post(url).body(bytes);
    request = match body {
        Body::Json => request.header("content-type", "application/json"),
        Body::GzipJson => request
            .header("content-type", "application/json")
            .header("content-encoding", "gzip"),
        Body::Protobuf => request.header("content-type", "application/x-protobuf"),
    };
    let response = request.send().await.expect("request failed");
    let status = response.status();
    let reply = response.bytes().await.expect("reading the response failed");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
    if matches!(body, Body::Json | Body::GzipJson) {
        assert!(
            reply.is_empty() || !String::from_utf8_lossy(&reply).contains("rejectedSpans"),
            "spans rejected: {}",
            String::from_utf8_lossy(&reply)
        );
    }
    started.elapsed()
}

/// Sends `bodies` over `streams` concurrent streams; returns (elapsed, latencies).
async fn run(
    url: &str,
    body: Body,
    bodies: Vec<Vec<u8>>,
    streams: usize,
) -> (Duration, Vec<Duration>) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(streams)
        .build()
        .unwrap();
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..streams {
        let (client, url, queue) = (client.clone(), url.to_owned(), Arc::clone(&queue));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let next = queue.lock().unwrap().pop();
                let Some(bytes) = next else { break };
                latencies.push(send(&client, &url, body, bytes).await);
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    (started.elapsed(), latencies)
}

#[tokio::main]
async fn main() {
    let options = options();
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let requests: Vec<Value> = (0..options.requests as u64)
        .map(|n| request(seed, n))
        .collect();
    let sample = &requests[0];
    println!(
        "{} requests of {SPANS_PER_REQUEST} spans; one request is {} B JSON, {} B gzip JSON, {} B protobuf",
        options.requests,
        encode(sample, Body::Json).len(),
        encode(sample, Body::GzipJson).len(),
        encode(sample, Body::Protobuf).len()
    );
    println!(
        "{:<10} {:>8} {:>12} {:>9} {:>9}",
        "body", "streams", "spans/s", "p50 ms", "p99 ms"
    );
    for (index, (body, streams)) in [Body::Json, Body::GzipJson, Body::Protobuf]
        .into_iter()
        .flat_map(|body| [(body, 1), (body, CONCURRENT_STREAMS)])
        .enumerate()
    {
        // Unique IDs in every run, so that runs against one receiver never repeat a span.
        let run_seed = seed.wrapping_add(index as u64 + 1);
        let encoded: Vec<Vec<u8>> = (0..options.requests as u64)
            .map(|n| encode(&request(run_seed, n), body))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let (url, running) = match &options.target {
            Some(target) => (format!("{}/v1/traces", target.trim_end_matches('/')), None),
            None => {
                let running =
                    collector::server::serve(Config::with_data_dir(dir.path().to_owned()))
                        .await
                        .unwrap();
                (
                    format!("http://{}/v1/traces", running.local_addr()),
                    Some(running),
                )
            }
        };
        let (elapsed, mut latencies) = run(&url, body, encoded, streams).await;
        latencies.sort();
        let percentile = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
        let spans = (options.requests * SPANS_PER_REQUEST) as f64;
        println!(
            "{:<10} {:>8} {:>12.0} {:>9.2} {:>9.2}",
            body.name(),
            streams,
            spans / elapsed.as_secs_f64(),
            percentile(50).as_secs_f64() * 1e3,
            percentile(99).as_secs_f64() * 1e3
        );
        if let Some(running) = running {
            running.shutdown().await.unwrap();
        }
    }
}
