//! What the benchmark sends: OTLP export requests of 100 browser spans with unique IDs,
//! and their three encodings (JSON, gzip JSON, protobuf).

use std::io::Write;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use prost::Message;

/// Spans in one request: 10 traces of 10 spans.
pub const SPANS_PER_REQUEST: u64 = 100;
const TRACES_PER_REQUEST: u64 = 10;
const SPANS_PER_TRACE: u64 = SPANS_PER_REQUEST / TRACES_PER_REQUEST;

/// The service every span comes from, the fetch spans' name, and the status code of the
/// one failed fetch in every tenth trace: what the growth run's search asks for.
pub const SERVICE: &str = "shop-web";
/// The name of the fetch spans (9 of each trace's 10).
pub const OPERATION: &str = "HTTP GET";
/// The status code of the failed fetch.
pub const FAILED_STATUS: i64 = 500;

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Body {
    /// OTLP JSON.
    Json,
    /// OTLP JSON, gzip-compressed (`Content-Encoding: gzip`).
    Gzip,
    /// OTLP protobuf.
    Protobuf,
}

impl Body {
    /// As printed in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Body::Json => "JSON",
            Body::Gzip => "gzip JSON",
            Body::Protobuf => "protobuf",
        }
    }

    /// The request headers that say what the body is.
    pub fn headers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Body::Json => &[("content-type", "application/json")],
            Body::Gzip => &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            Body::Protobuf => &[("content-type", "application/x-protobuf")],
        }
    }

    /// The request as a body of this kind.
    pub fn encode(self, request: &ExportTraceServiceRequest) -> Vec<u8> {
        match self {
            Body::Json => serde_json::to_vec(request).expect("a request serializes"),
            Body::Gzip => {
                let json = serde_json::to_vec(request).expect("a request serializes");
                let mut gzip = flate2::write::GzEncoder::new(
                    Vec::with_capacity(json.len() / 8),
                    flate2::Compression::default(),
                );
                gzip.write_all(&json).expect("writing to memory");
                gzip.finish().expect("writing to memory")
            }
            Body::Protobuf => request.encode_to_vec(),
        }
    }
}

/// The 16-byte trace ID of trace `t` (0 to 9) of request `n` in the series `seed`: the
/// seed, then the trace's number, so that no two traces of a series, nor of two series,
/// share an ID.
pub fn trace_id(seed: u64, n: u64, t: u64) -> [u8; 16] {
    let mut id = [0; 16];
    id[..8].copy_from_slice(&seed.to_be_bytes());
    id[8..].copy_from_slice(&(n * TRACES_PER_REQUEST + t).to_be_bytes());
    id
}

/// Lower-case hex, as trace IDs appear in URLs.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attribute(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn text(key: &str, value: impl Into<String>) -> KeyValue {
    attribute(key, Value::StringValue(value.into()))
}

fn int(key: &str, value: i64) -> KeyValue {
    attribute(key, Value::IntValue(value))
}

/// Request `n` of the series `seed`: 10 page loads of a shop, each a trace of a
/// `documentLoad` span and 9 `HTTP GET` fetches under it (5 to 8 attributes per span).
/// Trace `t` starts at `start_ns` + `t` ms; in every tenth trace one fetch failed (500,
/// status error). A third of the fetches take 0.4 ms, the rest about 1.5 ms.
pub fn request(seed: u64, n: u64, start_ns: u64) -> ExportTraceServiceRequest {
    let mut spans = Vec::with_capacity(SPANS_PER_REQUEST as usize);
    for t in 0..TRACES_PER_REQUEST {
        let number = n * TRACES_PER_REQUEST + t;
        let trace_id = trace_id(seed, n, t).to_vec();
        let span_id = |s: u64| ((number << 4) | (s + 1)).to_be_bytes().to_vec();
        let start = start_ns + t * 1_000_000;
        let page = format!("https://shop.example/products/{number}?session={seed:x}");
        let failed = number % 10 == 3;
        for s in 0..SPANS_PER_TRACE {
            let span = if s == 0 {
                Span {
                    trace_id: trace_id.clone(),
                    span_id: span_id(s),
                    name: "documentLoad".to_owned(),
                    kind: span::SpanKind::Internal as i32,
                    start_time_unix_nano: start,
                    end_time_unix_nano: start + 22_000_000,
                    attributes: vec![
                        text("url.full", page.clone()),
                        text(
                            "user_agent.original",
                            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
                        ),
                        text("document.referrer", "https://search.example/?q=shop"),
                        int("document.transfer_size", 31_415 + (number % 1000) as i64),
                        text("session.id", format!("{seed:016x}{:08x}", number / 7)),
                    ],
                    events: vec![
                        span::Event {
                            time_unix_nano: start + 500_000,
                            name: "domInteractive".to_owned(),
                            ..span::Event::default()
                        },
                        span::Event {
                            time_unix_nano: start + 900_000,
                            name: "loadEventEnd".to_owned(),
                            ..span::Event::default()
                        },
                    ],
                    ..Span::default()
                }
            } else {
                let status = if failed && s == 7 { FAILED_STATUS } else { 200 };
                let fetch_start = start + s * 2_000_000;
                let duration = if s % 3 == 0 {
                    400_000
                } else {
                    1_500_000 + s * 10_000
                };
                let mut attributes = vec![
                    text("http.request.method", "GET"),
                    text(
                        "url.full",
                        format!("https://api.shop.example/v2/products/{number}/part/{s}?page={s}"),
                    ),
                    text("server.address", "api.shop.example"),
                    int("server.port", 443),
                    int("http.response.status_code", status),
                    int("http.response_content_length", 1000 + s as i64 * 37),
                ];
                if status != 200 {
                    attributes.push(text("error.type", status.to_string()));
                }
                if s % 4 == 1 {
                    attributes.push(int("http.request.resend_count", 1));
                }
                Span {
                    trace_id: trace_id.clone(),
                    span_id: span_id(s),
                    parent_span_id: span_id(0),
                    name: OPERATION.to_owned(),
                    kind: span::SpanKind::Client as i32,
                    start_time_unix_nano: fetch_start,
                    end_time_unix_nano: fetch_start + duration,
                    attributes,
                    status: (status != 200).then(|| Status {
                        code: 2,
                        message: format!("HTTP {status}"),
                    }),
                    ..Span::default()
                }
            };
            spans.push(span);
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    text("service.name", SERVICE),
                    text("service.version", "1.4.2"),
                    text("telemetry.sdk.name", "wasm-otlp"),
                    text("telemetry.sdk.language", "webjs"),
                    text("browser.language", "en-GB"),
                ],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "@wasm-otlp/fetch".to_owned(),
                    version: "0.1.0".to_owned(),
                    ..InstrumentationScope::default()
                }),
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}
