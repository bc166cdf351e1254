//! Helpers for the HTTP tests: an in-process collector on 127.0.0.1:0 with a temporary
//! data directory, the collector binary as its own process (where its memory is read),
//! and OTLP request builders.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::time::timeout;

use collector::config::Config;
use collector::server::{Running, serve};
use serde_json::{Value, json};

/// Peak RSS the collector binary may reach with default limits, whatever it is sent.
pub const MAX_RSS_KB: u64 = 256 * 1024;

/// A collector serving from a temporary directory.
pub struct TestServer {
    pub running: Option<Running>,
    pub dir: tempfile::TempDir,
    pub base: String,
    pub client: reqwest::Client,
}

impl TestServer {
    /// Starts a collector with default settings changed by `adjust`.
    pub async fn start(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::with_data_dir(dir.path().to_owned());
        adjust(&mut config);
        let running = serve(config).await.unwrap();
        let base = format!("http://{}", running.local_addr());
        TestServer {
            running: Some(running),
            dir,
            base,
            client: reqwest::Client::new(),
        }
    }

    /// Stops it gracefully and starts it again on the same directory.
    pub async fn restart(&mut self, adjust: impl FnOnce(&mut Config)) {
        self.running.take().unwrap().shutdown().await.unwrap();
        let mut config = Config::with_data_dir(self.dir.path().to_owned());
        adjust(&mut config);
        let running = serve(config).await.unwrap();
        self.base = format!("http://{}", running.local_addr());
        self.running = Some(running);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a body to /v1/traces with the given headers.
    pub async fn post(&self, body: Vec<u8>, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.post(self.url("/v1/traces")).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// POSTs OTLP JSON and returns the status and the parsed body.
    pub async fn post_json(&self, body: &Value) -> (u16, Value) {
        let response = self
            .post(
                serde_json::to_vec(body).unwrap(),
                &[("content-type", "application/json")],
            )
            .await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// GETs a path and returns the status and parsed JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// The listing of /api/traces with a query string.
    pub async fn traces(&self, query: &str) -> Vec<Value> {
        let (status, body) = self.get_json(&format!("/api/traces{query}")).await;
        assert_eq!(status, 200, "{body}");
        body["traces"].as_array().unwrap().clone()
    }

    /// The spans stored for a trace (flattened), or None on 404.
    pub async fn spans_of(&self, trace_id: &str) -> Option<Vec<Value>> {
        let (status, body) = self.get_json(&format!("/api/traces/{trace_id}")).await;
        if status == 404 {
            return None;
        }
        assert_eq!(status, 200, "{body}");
        let mut spans = Vec::new();
        for rs in body["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                spans.extend(ss["spans"].as_array().unwrap().iter().cloned());
            }
        }
        Some(spans)
    }
}

/// The wall clock in Unix nanoseconds.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// A trace ID made from a number.
pub fn trace_id(n: u64) -> String {
    format!("{:016x}{n:016x}", 0x5b8e_fff7_9803_8103u64)
}

/// A span ID made from a number.
pub fn span_id(n: u64) -> String {
    format!("{:016x}", 0xe000_0000_0000_0000u64 | n)
}

/// A valid OTLP JSON span.
pub fn span(trace: &str, id: &str, parent: &str, name: &str, start: u64, end: u64) -> Value {
    json!({
        "traceId": trace,
        "spanId": id,
        "parentSpanId": parent,
        "name": name,
        "kind": 3,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": end.to_string(),
        "attributes": [
            {"key": "http.request.method", "value": {"stringValue": "GET"}},
            {"key": "http.response.status_code", "value": {"intValue": "200"}}
        ],
        "status": {}
    })
}

/// An OTLP JSON export request of `spans` from `service`.
pub fn export(service: &str, spans: Vec<Value>) -> Value {
    json!({
        "resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": service}}
            ]},
            "scopeSpans": [{"scope": {"name": "test", "version": "1.0"}, "spans": spans}]
        }]
    })
}

/// A trace of `count` spans (a root and children) starting at `start`.
pub fn trace_spans(trace: &str, first_span: u64, count: u64, start: u64) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let parent = if i == 0 {
                String::new()
            } else {
                span_id(first_span)
            };
            span(
                trace,
                &span_id(first_span + i),
                &parent,
                &format!("op {i}"),
                start + i * 1000,
                start + i * 1000 + 500,
            )
        })
        .collect()
}

/// Gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The OTLP protobuf encoding of an OTLP JSON request.
pub fn to_protobuf(request: &Value) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message;
    let request: ExportTraceServiceRequest = serde_json::from_value(request.clone()).unwrap();
    request.encode_to_vec()
}

/// The collector binary on 127.0.0.1:0 with a data directory (temporary unless given),
/// killed (SIGKILL) on drop.
pub struct Binary {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    _dir: Option<tempfile::TempDir>,
    pub addr: String,
}

impl Binary {
    /// Starts it with `flags`, under a shell that first sets the soft open-file limit to
    /// `soft_files` (the collector raises it to the hard limit itself).
    pub fn start(flags: &[&str], soft_files: u32) -> Binary {
        let dir = tempfile::tempdir().unwrap();
        let mut binary = Binary::start_in(dir.path(), flags, soft_files);
        binary._dir = Some(dir);
        binary
    }

    /// Starts it on the data directory `dir` (kept), as [`Binary::start`] does.
    pub fn start_in(dir: &std::path::Path, flags: &[&str], soft_files: u32) -> Binary {
        let mut command = format!(
            "ulimit -Sn {soft_files} && exec '{}' --listen 127.0.0.1:0 --data-dir '{}'",
            env!("CARGO_BIN_EXE_collector"),
            dir.display()
        );
        for flag in flags {
            command.push(' ');
            command.push_str(flag);
        }
        let mut child = Command::new("sh")
            .args(["-c", &command])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut addr = None;
        for line in (&mut stdout).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("wasm-otlp collector listening on http://") {
                addr = Some(rest.trim().to_owned());
            }
            if line.starts_with("Ctrl-C") {
                break;
            }
        }
        Binary {
            child,
            _stdout: stdout,
            _dir: None,
            addr: addr.expect("the collector printed its address"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A status line from /proc/<pid>/status, in kB (`VmHWM`: peak RSS).
    pub fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// The soft and hard open-file limits of the process.
    pub fn open_file_limits(&self) -> (String, String) {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", self.child.id())).unwrap();
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .unwrap();
        let mut fields = line["Max open files".len()..].split_whitespace();
        (
            fields.next().unwrap().to_owned(),
            fields.next().unwrap().to_owned(),
        )
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs a 5-span export and checks that it was stored.
pub async fn post_good(client: &reqwest::Client, base: &str, n: u64) -> Duration {
    let started = Instant::now();
    let body = export(
        "good",
        trace_spans(&trace_id(n), 1, 5, now_ns() - 1_000_000),
    );
    let response = timeout(
        Duration::from_secs(10),
        client
            .post(format!("{base}/v1/traces"))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
            .send(),
    )
    .await
    .expect("the good POST was answered")
    .unwrap();
    assert_eq!(response.status(), 200);
    let elapsed = started.elapsed();
    let stored = get_json_from(client, &format!("{base}/api/traces/{}", trace_id(n))).await;
    let spans = stored["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .unwrap();
    assert_eq!(spans.len(), 5, "{stored}");
    elapsed
}

/// The metrics of the collector at `base` (`GET /metrics`), by series with their labels
/// sorted (`name{a="1",b="2"}`).
pub async fn metrics_at(
    client: &reqwest::Client,
    base: &str,
) -> std::collections::BTreeMap<String, f64> {
    let response = client.get(format!("{base}/metrics")).send().await.unwrap();
    crate::metrics::parse(&response.text().await.unwrap())
}

/// GETs `url` and parses its JSON body.
pub async fn get_json_from(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// A protobuf length-delimited field.
pub fn length_delimited(field: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![field << 3 | 2];
    let mut len = payload.len();
    while len >= 0x80 {
        out.push((len as u8) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(payload);
    out
}
