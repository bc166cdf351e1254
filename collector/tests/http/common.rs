//! Helpers for the HTTP tests: an in-process collector on 127.0.0.1:0 with a temporary
//! data directory, and OTLP request builders.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use collector::config::Config;
use collector::server::{Running, serve};
use serde_json::{Value, json};

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
