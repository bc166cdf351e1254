//! Decoding throughput, side by side in one run: this crate's OTLP JSON decoder beside
//! opentelemetry-proto's serde model (serde_json), and this crate's protobuf decoder
//! beside prost with the borrowed view of its messages (the protobuf path before it, kept
//! in `tests/prost_view`), on the same 100-span requests (10 traces of 10 spans, 5 to 8
//! attributes each, unique IDs). One thread; spans per second per core, the median of
//! alternating rounds. Then the way back: the same spans, decoded, encoded to protobuf one
//! by one (as the collector stores them) through opentelemetry-proto's messages
//! (`to_proto`, then prost's `encode_raw`) and by this crate's encoder (`encode::span`).
//! Last, the same requests as logs requests (a log record per span, its name the body):
//! this crate's decoders and encoder (`decode_logs`, `encode::log_record`), log records
//! per second.
//!
//! `just bench-decode` (`cargo bench -p collector-decode`); under `cargo test` it runs
//! one short round only.

use std::hint::black_box;
use std::time::{Duration, Instant};

use collector_decode::{Limits, encode, json, model, protobuf};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;

#[path = "../tests/prost_view/mod.rs"]
mod prost_view;

const SPANS: usize = 100;
const REQUESTS: usize = 64;
const ROUNDS: usize = 7;
const ROUND_TIME: Duration = Duration::from_millis(400);
/// Under `cargo test` (no `--bench` argument) one short round checks that it runs.
const SMOKE_TIME: Duration = Duration::from_millis(20);

fn attribute(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

/// The `n`th request: IDs derived from `n` so that every span is unique.
fn request(n: usize) -> ExportTraceServiceRequest {
    let start = 1_764_000_000_000_000_000u64 + n as u64 * 1_000_000_000;
    let spans = (0..SPANS)
        .map(|i| {
            let mut trace_id = vec![0u8; 16];
            trace_id[..8].copy_from_slice(&(n as u64).to_be_bytes());
            trace_id[8..].copy_from_slice(&((i / 10) as u64 + 1).to_be_bytes());
            let span_id = ((n * SPANS + i) as u64 + 1).to_be_bytes().to_vec();
            let mut attributes = vec![
                attribute("http.request.method", Value::StringValue("GET".into())),
                attribute(
                    "url.full",
                    Value::StringValue(format!("https://shop.example.com/api/items/{i}?page=2")),
                ),
                attribute("http.response.status_code", Value::IntValue(200)),
                attribute(
                    "server.address",
                    Value::StringValue("shop.example.com".into()),
                ),
                attribute("server.port", Value::IntValue(443)),
            ];
            attributes.push(attribute("app.cached", Value::BoolValue(i % 2 == 0)));
            for extra in 0..i % 3 {
                attributes.push(attribute(
                    &format!("app.extra.{extra}"),
                    Value::DoubleValue(extra as f64 * 1.5),
                ));
            }
            Span {
                trace_id,
                span_id,
                parent_span_id: if i % 10 == 0 {
                    vec![]
                } else {
                    ((n * SPANS + i) as u64).to_be_bytes().to_vec()
                },
                name: format!("GET /api/items/{{id}} {}", i % 7),
                kind: 3,
                start_time_unix_nano: start + i as u64 * 1000,
                end_time_unix_nano: start + i as u64 * 1000 + 250_000,
                attributes,
                status: Some(Status {
                    code: if i % 13 == 0 { 2 } else { 0 },
                    message: String::new(),
                }),
                ..Span::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    attribute("service.name", Value::StringValue("shop-web".into())),
                    attribute("telemetry.sdk.language", Value::StringValue("webjs".into())),
                ],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            schema_url: String::new(),
        }],
    }
}

/// The `n`th logs request: a log record for each span of [`request`], with its time, IDs
/// and attributes, and its name as the body.
fn logs_request(n: usize) -> ExportLogsServiceRequest {
    let traces = request(n);
    let [
        ResourceSpans {
            resource,
            scope_spans,
            ..
        },
    ] = &traces.resource_spans[..]
    else {
        unreachable!("one resource")
    };
    let log_records = scope_spans[0]
        .spans
        .iter()
        .map(|span| LogRecord {
            time_unix_nano: span.start_time_unix_nano,
            observed_time_unix_nano: span.start_time_unix_nano,
            severity_number: 9,
            severity_text: "info".into(),
            body: Some(AnyValue {
                value: Some(Value::StringValue(span.name.clone())),
            }),
            attributes: span.attributes.clone(),
            flags: 1,
            trace_id: span.trace_id.clone(),
            span_id: span.span_id.clone(),
            ..LogRecord::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource.clone(),
            scope_logs: vec![ScopeLogs {
                log_records,
                ..ScopeLogs::default()
            }],
            schema_url: String::new(),
        }],
    }
}

/// Spans per second of `work` (which returns how many spans it handled) over `inputs`,
/// one round.
fn round<T>(inputs: &[T], time: Duration, mut work: impl FnMut(&T) -> usize) -> f64 {
    let started = Instant::now();
    let mut spans = 0;
    while started.elapsed() < time {
        for input in inputs {
            spans += work(black_box(input));
        }
    }
    spans as f64 / started.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn spans<'r, 'a>(request: &'r model::Request<'a>) -> impl Iterator<Item = &'r model::Span<'a>> {
    request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
}

fn log_records<'r, 'a>(
    request: &'r model::LogsRequest<'a>,
) -> impl Iterator<Item = &'r model::LogRecord<'a>> {
    request
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
}

/// Encodes every span of `request` into `out` (emptied first) with `encode`; returns how
/// many there were.
fn encode_spans(
    request: &model::Request<'_>,
    out: &mut Vec<u8>,
    encode: impl Fn(&model::Span<'_>, &mut Vec<u8>),
) -> usize {
    out.clear();
    let mut count = 0;
    for span in spans(request) {
        encode(span, out);
        count += 1;
    }
    black_box(&out);
    count
}

fn main() {
    let requests: Vec<_> = (0..REQUESTS).map(request).collect();
    let json_bodies: Vec<Vec<u8>> = requests
        .iter()
        .map(|r| serde_json::to_vec(r).unwrap())
        .collect();
    let proto_bodies: Vec<Vec<u8>> = requests.iter().map(|r| r.encode_to_vec()).collect();
    let limits = Limits {
        max_spans: 10_000,
        max_decoded_bytes: 1 << 30,
    };
    let ours_json = |body: &[u8]| spans(&json::decode(body, &limits).unwrap()).count();
    let serde = |body: &[u8]| {
        let request: ExportTraceServiceRequest = serde_json::from_slice(body).unwrap();
        request.resource_spans[0].scope_spans[0].spans.len()
    };
    let ours_proto = |body: &[u8]| spans(&protobuf::decode(body, &limits).unwrap()).count();
    let prost_and_view = |body: &[u8]| {
        let request = prost_view::prost_decode(body).unwrap();
        spans(&prost_view::from_proto(&request).unwrap()).count()
    };
    // Both JSON decoders read the same requests the same way.
    for body in &json_bodies {
        let ours = json::decode(body, &limits).unwrap().to_proto();
        let reference: ExportTraceServiceRequest = serde_json::from_slice(body).unwrap();
        assert_eq!(ours, reference);
    }
    // Both protobuf decoders too.
    for body in &proto_bodies {
        let request = prost_view::prost_decode(body).unwrap();
        let reference = prost_view::from_proto(&request).unwrap();
        assert_eq!(protobuf::decode(body, &limits).unwrap(), reference);
    }
    let views: Vec<model::Request<'_>> = requests
        .iter()
        .map(|r| prost_view::from_proto(r).unwrap())
        .collect();
    let via_messages = |span: &model::Span<'_>, out: &mut Vec<u8>| span.to_proto().encode_raw(out);
    // Both encoders write the same bytes.
    for view in &views {
        for span in spans(view) {
            let (mut ours, mut reference) = (Vec::new(), Vec::new());
            encode::span(span, &mut ours);
            via_messages(span, &mut reference);
            assert_eq!(ours, reference);
        }
    }
    // And log records: both decoders read them as the references do, and the encoder
    // writes them as prost does.
    let logs: Vec<_> = (0..REQUESTS).map(logs_request).collect();
    let logs_json: Vec<Vec<u8>> = logs
        .iter()
        .map(|r| serde_json::to_vec(r).unwrap())
        .collect();
    let logs_proto: Vec<Vec<u8>> = logs.iter().map(|r| r.encode_to_vec()).collect();
    let log_views: Vec<model::LogsRequest<'_>> = logs
        .iter()
        .map(|r| prost_view::logs_from_proto(r).unwrap())
        .collect();
    for ((request, view), (json_body, proto_body)) in logs
        .iter()
        .zip(&log_views)
        .zip(logs_json.iter().zip(&logs_proto))
    {
        assert_eq!(
            &json::decode_logs(json_body, &limits).unwrap().to_proto(),
            request
        );
        assert_eq!(&protobuf::decode_logs(proto_body, &limits).unwrap(), view);
        for record in log_records(view) {
            let mut ours = Vec::new();
            encode::log_record(record, &mut ours);
            assert_eq!(ours, record.to_proto().encode_to_vec());
        }
    }
    let encode_log_records = |view: &model::LogsRequest<'_>, out: &mut Vec<u8>| {
        out.clear();
        let mut count = 0;
        for record in log_records(view) {
            encode::log_record(record, out);
            count += 1;
        }
        black_box(&out);
        count
    };
    // One output buffer, as the collector appends a batch's spans to one.
    let mut out = Vec::new();
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    let (rounds, time) = if benchmarking {
        (ROUNDS, ROUND_TIME)
    } else {
        (1, SMOKE_TIME)
    };
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let (mut d, mut e, mut f) = (Vec::new(), Vec::new(), Vec::new());
    let (mut g, mut h, mut i) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        a.push(round(&json_bodies, time, |body| ours_json(body)));
        b.push(round(&json_bodies, time, |body| serde(body)));
        c.push(round(&proto_bodies, time, |body| ours_proto(body)));
        f.push(round(&proto_bodies, time, |body| prost_and_view(body)));
        d.push(round(&views, time, |view| {
            encode_spans(view, &mut out, via_messages)
        }));
        e.push(round(&views, time, |view| {
            encode_spans(view, &mut out, encode::span)
        }));
        g.push(round(&logs_json, time, |body| {
            log_records(&json::decode_logs(body, &limits).unwrap()).count()
        }));
        h.push(round(&logs_proto, time, |body| {
            log_records(&protobuf::decode_logs(body, &limits).unwrap()).count()
        }));
        i.push(round(&log_views, time, |view| {
            encode_log_records(view, &mut out)
        }));
    }
    let (ours, reference) = (median(a), median(b));
    let (proto, prost) = (median(c), median(f));
    let (messages, direct) = (median(d), median(e));
    let body_len = json_bodies.iter().map(Vec::len).sum::<usize>() / REQUESTS;
    let proto_len = proto_bodies.iter().map(Vec::len).sum::<usize>() / REQUESTS;
    println!(
        "{REQUESTS} requests of {SPANS} spans, {body_len} bytes of JSON or {proto_len} of protobuf each; medians of {rounds} alternating rounds, one thread"
    );
    println!("| decoder | spans/s per core | vs opentelemetry-proto serde |");
    println!("|---|---|---|");
    println!(
        "| OTLP JSON, own decoder (collector-decode) | {:.0}k | {:.2}x |",
        ours / 1e3,
        ours / reference
    );
    println!(
        "| OTLP JSON, opentelemetry-proto + serde_json | {:.0}k | 1.00x |",
        reference / 1e3
    );
    println!(
        "| OTLP protobuf, own decoder (collector-decode) | {:.0}k | {:.2}x |",
        proto / 1e3,
        proto / reference
    );
    println!(
        "| OTLP protobuf, prost + borrowed view | {:.0}k | {:.2}x |",
        prost / 1e3,
        prost / reference
    );
    println!(
        "Protobuf: the own decoder does {:.2}x the spans of prost + view per second",
        proto / prost
    );
    println!(
        "Encoding the same spans to protobuf, one by one: {:.0}k spans/s through opentelemetry-proto's messages (to_proto + prost encode_raw), {:.0}k spans/s with encode::span ({:.2}x)",
        messages / 1e3,
        direct / 1e3,
        direct / messages
    );
    println!(
        "The same requests as logs ({} bytes of JSON or {} of protobuf each), own decoders and encoder: OTLP JSON {:.0}k, protobuf {:.0}k, encode::log_record {:.0}k log records/s",
        logs_json.iter().map(Vec::len).sum::<usize>() / REQUESTS,
        logs_proto.iter().map(Vec::len).sum::<usize>() / REQUESTS,
        median(g) / 1e3,
        median(h) / 1e3,
        median(i) / 1e3
    );
}
