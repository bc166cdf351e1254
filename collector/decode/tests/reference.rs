//! The decoders agree with opentelemetry-proto, the reference: random valid requests,
//! written as OTLP JSON by its serde model, decode to the same messages through this
//! crate's JSON decoder as through that model; written as protobuf by prost, to the same
//! model through this crate's protobuf decoder as through prost and the view of its
//! messages (`prost_view`), which also agree on random fields, random bytes and mutated
//! bodies (both refuse, or both decode the same); the encoder writes their spans, log
//! records, resources and scopes byte for byte as prost writes opentelemetry-proto's
//! messages. All of it for trace requests and for logs requests.

mod prost_view;

use std::mem::size_of;

use collector_decode::model::{self, Id, LogsRequest, Request};
use collector_decode::{DecodeError, Limits, encode, json, protobuf};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status,
    span::{Event, Link},
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use prost::Message;

const LIMITS: Limits = Limits {
    max_spans: 10_000,
    max_decoded_bytes: 1 << 30,
};

/// Text with escapes, non-ASCII and astral characters in it.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z./_ ]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(12).collect()),
        Just("quote \" backslash \\ newline \n tab \t nul \u{0} emoji 😀".to_owned()),
    ]
}

fn id(len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![Just(Vec::new()), vec(any::<u8>(), len)]
}

fn any_value() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        Just(None),
        text().prop_map(|s| Some(Value::StringValue(s))),
        any::<bool>().prop_map(|b| Some(Value::BoolValue(b))),
        any::<i64>().prop_map(|i| Some(Value::IntValue(i))),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |d| d.is_finite())
            .prop_map(|d| Some(Value::DoubleValue(d))),
        vec(any::<u8>(), 0..12).prop_map(|b| Some(Value::BytesValue(b))),
    ]
    .prop_map(|value| AnyValue { value });
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(|values| AnyValue {
                value: Some(Value::ArrayValue(ArrayValue { values })),
            }),
            vec((text(), inner), 0..4).prop_map(|pairs| AnyValue {
                value: Some(Value::KvlistValue(KeyValueList {
                    values: pairs
                        .into_iter()
                        .map(|(key, value)| KeyValue {
                            key,
                            value: Some(value),
                            ..KeyValue::default()
                        })
                        .collect(),
                })),
            }),
        ]
    })
}

fn key_value() -> impl Strategy<Value = KeyValue> {
    (text(), option::of(any_value())).prop_map(|(key, value)| KeyValue {
        key,
        value,
        ..KeyValue::default()
    })
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    vec(key_value(), 0..5)
}

fn event() -> impl Strategy<Value = Event> {
    (any::<u64>(), text(), attributes(), any::<u32>()).prop_map(
        |(time_unix_nano, name, attributes, dropped_attributes_count)| Event {
            time_unix_nano,
            name,
            attributes,
            dropped_attributes_count,
        },
    )
}

fn link() -> impl Strategy<Value = Link> {
    (
        id(16),
        id(8),
        text(),
        attributes(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(trace_id, span_id, trace_state, attributes, dropped_attributes_count, flags)| Link {
                trace_id,
                span_id,
                trace_state,
                attributes,
                dropped_attributes_count,
                flags,
            },
        )
}

fn span() -> impl Strategy<Value = Span> {
    (
        (id(16), id(8), text(), id(8), any::<u32>(), text(), -1..7i32),
        (any::<u64>(), any::<u64>(), attributes(), any::<u32>()),
        (
            vec(event(), 0..3),
            any::<u32>(),
            vec(link(), 0..2),
            any::<u32>(),
        ),
        option::of((text(), 0..3i32)),
    )
        .prop_map(
            |(
                (trace_id, span_id, trace_state, parent_span_id, flags, name, kind),
                (start_time_unix_nano, end_time_unix_nano, attributes, dropped_attributes_count),
                (events, dropped_events_count, links, dropped_links_count),
                status,
            )| Span {
                trace_id,
                span_id,
                trace_state,
                parent_span_id,
                flags,
                name,
                kind,
                start_time_unix_nano,
                end_time_unix_nano,
                attributes,
                dropped_attributes_count,
                events,
                dropped_events_count,
                links,
                dropped_links_count,
                status: status.map(|(message, code)| Status { message, code }),
            },
        )
}

fn scope() -> impl Strategy<Value = InstrumentationScope> {
    (text(), text(), attributes(), any::<u32>()).prop_map(
        |(name, version, attributes, dropped_attributes_count)| InstrumentationScope {
            name,
            version,
            attributes,
            dropped_attributes_count,
        },
    )
}

fn resource() -> impl Strategy<Value = Resource> {
    (attributes(), any::<u32>()).prop_map(|(attributes, dropped_attributes_count)| Resource {
        attributes,
        dropped_attributes_count,
        entity_refs: Vec::new(),
    })
}

fn scope_spans() -> impl Strategy<Value = ScopeSpans> {
    (option::of(scope()), vec(span(), 0..4), text()).prop_map(|(scope, spans, schema_url)| {
        ScopeSpans {
            scope,
            spans,
            schema_url,
        }
    })
}

fn resource_spans() -> impl Strategy<Value = ResourceSpans> {
    (option::of(resource()), vec(scope_spans(), 0..3), text()).prop_map(
        |(resource, scope_spans, schema_url)| ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        },
    )
}

fn request() -> impl Strategy<Value = ExportTraceServiceRequest> {
    vec(resource_spans(), 0..3)
        .prop_map(|resource_spans| ExportTraceServiceRequest { resource_spans })
}

/// Severity numbers in and out of `SeverityNumber`'s range (1 to 24).
fn log_record() -> impl Strategy<Value = LogRecord> {
    (
        (any::<u64>(), any::<u64>(), -1..26i32, text()),
        (
            option::of(any_value()),
            attributes(),
            any::<u32>(),
            any::<u32>(),
        ),
        (id(16), id(8), text()),
    )
        .prop_map(
            |(
                (time_unix_nano, observed_time_unix_nano, severity_number, severity_text),
                (body, attributes, dropped_attributes_count, flags),
                (trace_id, span_id, event_name),
            )| LogRecord {
                time_unix_nano,
                observed_time_unix_nano,
                severity_number,
                severity_text,
                body,
                attributes,
                dropped_attributes_count,
                flags,
                trace_id,
                span_id,
                event_name,
            },
        )
}

fn scope_logs() -> impl Strategy<Value = ScopeLogs> {
    (option::of(scope()), vec(log_record(), 0..4), text()).prop_map(
        |(scope, log_records, schema_url)| ScopeLogs {
            scope,
            log_records,
            schema_url,
        },
    )
}

fn resource_logs() -> impl Strategy<Value = ResourceLogs> {
    (option::of(resource()), vec(scope_logs(), 0..3), text()).prop_map(
        |(resource, scope_logs, schema_url)| ResourceLogs {
            resource,
            scope_logs,
            schema_url,
        },
    )
}

fn logs_request() -> impl Strategy<Value = ExportLogsServiceRequest> {
    vec(resource_logs(), 0..3).prop_map(|resource_logs| ExportLogsServiceRequest { resource_logs })
}

/// A request in which one message is two random messages of its kind one after the
/// other, which prost merges: the second's scalars and strings replace the first's, its
/// lists are appended, its nested messages merged in turn (an `AnyValue`'s array or
/// list merged with one of the same kind, any other value replacing it).
fn merged_body() -> impl Strategy<Value = Vec<u8>> {
    fn two<T: Message>(a: T, b: T) -> Vec<u8> {
        [a.encode_to_vec(), b.encode_to_vec()].concat()
    }
    let in_span = |content: Vec<u8>| len_field(1, &len_field(2, &len_field(2, &content)));
    let in_value = move |value: Vec<u8>| {
        in_span(len_field(
            9,
            &[len_field(1, b"k"), len_field(2, &value)].concat(),
        ))
    };
    prop_oneof![
        (resource_spans(), resource_spans()).prop_map(|(a, b)| len_field(1, &two(a, b))),
        (scope_spans(), scope_spans()).prop_map(|(a, b)| len_field(1, &len_field(2, &two(a, b)))),
        (span(), span()).prop_map(move |(a, b)| in_span(two(a, b))),
        (key_value(), key_value()).prop_map(move |(a, b)| in_span(len_field(9, &two(a, b)))),
        (any_value(), any_value()).prop_map(move |(a, b)| in_value(two(a, b))),
        (any_value(), any_value(), any_value())
            .prop_map(move |(a, b, c)| in_value([two(a, b), c.encode_to_vec()].concat())),
    ]
}

/// [`merged_body`] for logs requests: resource and scope groups, log records, attributes
/// and bodies.
fn merged_logs_body() -> impl Strategy<Value = Vec<u8>> {
    fn two<T: Message>(a: T, b: T) -> Vec<u8> {
        [a.encode_to_vec(), b.encode_to_vec()].concat()
    }
    let in_record = |content: Vec<u8>| len_field(1, &len_field(2, &len_field(2, &content)));
    let in_body = move |value: Vec<u8>| in_record(len_field(5, &value));
    prop_oneof![
        (resource_logs(), resource_logs()).prop_map(|(a, b)| len_field(1, &two(a, b))),
        (scope_logs(), scope_logs()).prop_map(|(a, b)| len_field(1, &len_field(2, &two(a, b)))),
        (log_record(), log_record()).prop_map(move |(a, b)| in_record(two(a, b))),
        (key_value(), key_value()).prop_map(move |(a, b)| in_record(len_field(6, &two(a, b)))),
        (any_value(), any_value()).prop_map(move |(a, b)| in_body(two(a, b))),
        // Two body fields: the second merged into the first.
        (any_value(), any_value()).prop_map(move |(a, b)| {
            in_record(
                [
                    len_field(5, &a.encode_to_vec()),
                    len_field(5, &b.encode_to_vec()),
                ]
                .concat(),
            )
        }),
    ]
}

/// A pool of IDs of any length up to 20 bytes (the model keeps the first 16 of a longer
/// one); decoding a generated request gives only the lengths `id` makes.
fn odd_ids() -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(vec(any::<u8>(), 0..=20), 0..4)
}

/// `ids` take their values from `pool` in turn (if it is not empty).
fn give_ids<'i>(ids: impl Iterator<Item = &'i mut Id>, pool: &[Vec<u8>]) {
    for (id, value) in ids.zip(pool.iter().cycle()) {
        *id = Id::new(value);
    }
}

/// The IDs of the spans of `request` and of their links.
fn span_ids<'r>(request: &'r mut Request<'_>) -> impl Iterator<Item = &'r mut Id> {
    request
        .resource_spans
        .iter_mut()
        .flat_map(|rs| &mut rs.scope_spans)
        .flat_map(|ss| &mut ss.spans)
        .flat_map(|span| {
            let links = span
                .links
                .iter_mut()
                .flat_map(|link| [&mut link.trace_id, &mut link.span_id]);
            [
                &mut span.trace_id,
                &mut span.span_id,
                &mut span.parent_span_id,
            ]
            .into_iter()
            .chain(links)
        })
}

/// The IDs of the log records of `request`.
fn log_record_ids<'r>(request: &'r mut LogsRequest<'_>) -> impl Iterator<Item = &'r mut Id> {
    request
        .resource_logs
        .iter_mut()
        .flat_map(|rl| &mut rl.scope_logs)
        .flat_map(|sl| &mut sl.log_records)
        .flat_map(|record| [&mut record.trace_id, &mut record.span_id])
}

/// Takes the doubles out of `attributes` as their bits, to compare (NaN is not equal to
/// itself).
fn take_doubles(attributes: &mut [model::KeyValue<'_>], bits: &mut Vec<u64>) {
    for kv in attributes {
        if let Some(value) = &mut kv.value {
            take_double(value, bits);
        }
    }
}

fn take_double(value: &mut model::AnyValue<'_>, bits: &mut Vec<u64>) {
    match &mut value.value {
        Some(model::Value::Double(d)) => {
            bits.push(d.to_bits());
            *d = 0.0;
        }
        Some(model::Value::Array(values)) => values.iter_mut().for_each(|v| take_double(v, bits)),
        Some(model::Value::Kvlist(values)) => take_doubles(values, bits),
        _ => {}
    }
}

/// `request` with its doubles taken out as their bits, to compare.
fn comparable<'a>(request: &Request<'a>) -> (Request<'a>, Vec<u64>) {
    let mut request = request.clone();
    let mut bits = Vec::new();
    for rs in &mut request.resource_spans {
        if let Some(resource) = &mut rs.resource {
            take_doubles(&mut resource.attributes, &mut bits);
        }
        for ss in &mut rs.scope_spans {
            if let Some(scope) = &mut ss.scope {
                take_doubles(&mut scope.attributes, &mut bits);
            }
            for span in &mut ss.spans {
                take_doubles(&mut span.attributes, &mut bits);
                for event in &mut span.events {
                    take_doubles(&mut event.attributes, &mut bits);
                }
                for link in &mut span.links {
                    take_doubles(&mut link.attributes, &mut bits);
                }
            }
        }
    }
    (request, bits)
}

/// A logs `request` with its doubles taken out as their bits, to compare.
fn comparable_logs<'a>(request: &LogsRequest<'a>) -> (LogsRequest<'a>, Vec<u64>) {
    let mut request = request.clone();
    let mut bits = Vec::new();
    for rl in &mut request.resource_logs {
        if let Some(resource) = &mut rl.resource {
            take_doubles(&mut resource.attributes, &mut bits);
        }
        for sl in &mut rl.scope_logs {
            if let Some(scope) = &mut sl.scope {
                take_doubles(&mut scope.attributes, &mut bits);
            }
            for record in &mut sl.log_records {
                take_doubles(&mut record.attributes, &mut bits);
                if let Some(body) = &mut record.body {
                    take_double(body, &mut bits);
                }
            }
        }
    }
    (request, bits)
}

/// The bytes of memory `attributes` and the lists in their values hold (their capacity).
fn attributes_allocated(attributes: &Vec<model::KeyValue<'_>>) -> usize {
    attributes.capacity() * size_of::<model::KeyValue>()
        + attributes
            .iter()
            .filter_map(|kv| kv.value.as_ref())
            .map(value_allocated)
            .sum::<usize>()
}

fn value_allocated(value: &model::AnyValue<'_>) -> usize {
    match &value.value {
        Some(model::Value::Array(values)) => {
            values.capacity() * size_of::<model::AnyValue>()
                + values.iter().map(value_allocated).sum::<usize>()
        }
        Some(model::Value::Kvlist(values)) => attributes_allocated(values),
        _ => 0,
    }
}

fn resource_allocated(resource: &Option<model::Resource<'_>>) -> usize {
    resource
        .as_ref()
        .map_or(0, |r| attributes_allocated(&r.attributes))
}

fn scope_allocated(scope: &Option<model::Scope<'_>>) -> usize {
    scope
        .as_ref()
        .map_or(0, |s| attributes_allocated(&s.attributes))
}

/// The bytes of memory the lists of `request` hold (their capacity).
fn allocated(request: &Request<'_>) -> usize {
    let mut bytes = request.resource_spans.capacity() * size_of::<model::ResourceSpans>();
    for rs in &request.resource_spans {
        bytes += resource_allocated(&rs.resource);
        bytes += rs.scope_spans.capacity() * size_of::<model::ScopeSpans>();
        for ss in &rs.scope_spans {
            bytes += scope_allocated(&ss.scope);
            bytes += ss.spans.capacity() * size_of::<model::Span>();
            for span in &ss.spans {
                bytes += attributes_allocated(&span.attributes);
                bytes += span.events.capacity() * size_of::<model::Event>();
                bytes += span
                    .events
                    .iter()
                    .map(|e| attributes_allocated(&e.attributes))
                    .sum::<usize>();
                bytes += span.links.capacity() * size_of::<model::Link>();
                bytes += span
                    .links
                    .iter()
                    .map(|l| attributes_allocated(&l.attributes))
                    .sum::<usize>();
            }
        }
    }
    bytes
}

/// The bytes of memory the lists of a logs `request` hold (their capacity).
fn allocated_logs(request: &LogsRequest<'_>) -> usize {
    let mut bytes = request.resource_logs.capacity() * size_of::<model::ResourceLogs>();
    for rl in &request.resource_logs {
        bytes += resource_allocated(&rl.resource);
        bytes += rl.scope_logs.capacity() * size_of::<model::ScopeLogs>();
        for sl in &rl.scope_logs {
            bytes += scope_allocated(&sl.scope);
            bytes += sl.log_records.capacity() * size_of::<model::LogRecord>();
            for record in &sl.log_records {
                bytes += attributes_allocated(&record.attributes);
                bytes += record.body.as_ref().map_or(0, value_allocated);
            }
        }
    }
    bytes
}

/// Whether this crate's protobuf decoder and prost with the view agree on `body` as a
/// trace request: both decode it to the same request (then `Ok(true)`), or both refuse it
/// as malformed.
fn agree(body: &[u8]) -> Result<bool, TestCaseError> {
    let decoded = prost_view::prost_decode(body);
    let reference = decoded
        .as_ref()
        .map_err(Clone::clone)
        .and_then(prost_view::from_proto);
    let ours = protobuf::decode(body, &LIMITS);
    outcomes_agree(
        body,
        ours.map(|r| comparable(&r)),
        reference.map(|r| comparable(&r)),
    )
}

/// [`agree`] for `body` as a logs request.
fn agree_logs(body: &[u8]) -> Result<bool, TestCaseError> {
    let decoded = prost_view::prost_decode(body);
    let reference = decoded
        .as_ref()
        .map_err(Clone::clone)
        .and_then(prost_view::logs_from_proto);
    let ours = protobuf::decode_logs(body, &LIMITS);
    outcomes_agree(
        body,
        ours.map(|r| comparable_logs(&r)),
        reference.map(|r| comparable_logs(&r)),
    )
}

/// Whether the two decoders' outcomes on `body` agree: the same request (`Ok(true)`), or
/// both malformed (`Ok(false)`).
fn outcomes_agree<T: PartialEq + std::fmt::Debug>(
    body: &[u8],
    ours: Result<T, DecodeError>,
    reference: Result<T, DecodeError>,
) -> Result<bool, TestCaseError> {
    match (&ours, &reference) {
        (Ok(ours), Ok(reference)) => {
            prop_assert_eq!(ours, reference, "body {:02x?}", body);
            Ok(true)
        }
        (Err(DecodeError::Malformed(_)), Err(DecodeError::Malformed(_))) => Ok(false),
        _ => {
            prop_assert!(
                false,
                "ours: {ours:?}\nprost and the view: {reference:?}\nbody: {body:02x?}"
            );
            unreachable!()
        }
    }
}

/// A protobuf field of random content, for bodies that are mostly well-formed but not
/// what the schema says: known field numbers with any wire type, unknown ones, messages
/// and groups nested in anything.
#[derive(Debug, Clone)]
enum Soup {
    Varint(u32, u64),
    Fixed64(u32, u64),
    Fixed32(u32, u32),
    Bytes(u32, Vec<u8>),
    Message(u32, Vec<Soup>),
    Group(u32, Vec<Soup>),
    /// Raw bytes, likely malformed.
    Raw(Vec<u8>),
}

fn key(tag: u32, wire_type: u32, out: &mut Vec<u8>) {
    prost::encoding::encode_varint(u64::from(tag) << 3 | u64::from(wire_type), out);
}

fn len_field(tag: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    key(tag, 2, &mut out);
    prost::encoding::encode_varint(payload.len() as u64, &mut out);
    out.extend_from_slice(payload);
    out
}

fn write_soup(fields: &[Soup], out: &mut Vec<u8>) {
    for field in fields {
        match field {
            Soup::Varint(tag, value) => {
                key(*tag, 0, out);
                prost::encoding::encode_varint(*value, out);
            }
            Soup::Fixed64(tag, value) => {
                key(*tag, 1, out);
                out.extend(value.to_le_bytes());
            }
            Soup::Fixed32(tag, value) => {
                key(*tag, 5, out);
                out.extend(value.to_le_bytes());
            }
            Soup::Bytes(tag, bytes) => out.extend(len_field(*tag, bytes)),
            Soup::Message(tag, fields) => {
                let mut payload = Vec::new();
                write_soup(fields, &mut payload);
                out.extend(len_field(*tag, &payload));
            }
            Soup::Group(tag, fields) => {
                key(*tag, 3, out);
                write_soup(fields, out);
                key(*tag, 4, out);
            }
            Soup::Raw(bytes) => out.extend(bytes),
        }
    }
}

fn soup() -> impl Strategy<Value = Soup> {
    let tag = || prop_oneof![16 => 1..=16u32, 2 => 17..=40u32, 1 => Just(1000u32)];
    let varint = prop_oneof![
        0..4u64,
        any::<u64>(),
        Just(u64::from(u32::MAX) + 1),
        Just(u64::MAX)
    ];
    let bytes = prop_oneof![text().prop_map(String::into_bytes), vec(any::<u8>(), 0..12)];
    let leaf = prop_oneof![
        4 => (tag(), varint).prop_map(|(t, v)| Soup::Varint(t, v)),
        2 => (tag(), any::<u64>()).prop_map(|(t, v)| Soup::Fixed64(t, v)),
        2 => (tag(), any::<u32>()).prop_map(|(t, v)| Soup::Fixed32(t, v)),
        4 => (tag(), bytes).prop_map(|(t, b)| Soup::Bytes(t, b)),
        1 => vec(any::<u8>(), 1..4).prop_map(Soup::Raw),
    ];
    leaf.prop_recursive(6, 64, 4, move |inner| {
        prop_oneof![
            4 => (tag(), vec(inner.clone(), 0..4)).prop_map(|(t, f)| Soup::Message(t, f)),
            1 => (tag(), vec(inner, 0..3)).prop_map(|(t, f)| Soup::Group(t, f)),
        ]
    })
}

/// The fields of `fields`, random.
fn soup_fields() -> impl Strategy<Value = Vec<u8>> {
    vec(soup(), 0..6).prop_map(|fields| {
        let mut body = Vec::new();
        write_soup(&fields, &mut body);
        body
    })
}

/// `fields` as the fields of a request (`level` 0) or of one of the messages above its
/// items (1 to 5: a resource group, its resource, an attribute of it, a scope group, its
/// scope); both signals give them the same tags.
fn in_groups(level: usize, fields: Vec<u8>) -> Vec<u8> {
    match level {
        0 => fields,
        1 => len_field(1, &fields),
        2 => len_field(1, &len_field(1, &fields)),
        3 => len_field(1, &len_field(1, &len_field(3, &fields))),
        4 => len_field(1, &len_field(2, &fields)),
        _ => len_field(1, &len_field(2, &len_field(1, &fields))),
    }
}

/// `fields` as the fields of the first item (span, log record) of a request.
fn in_item(fields: Vec<u8>) -> Vec<u8> {
    len_field(1, &len_field(2, &len_field(2, &fields)))
}

/// A trace request whose fields are random, or whose message of one kind (resource,
/// span, attribute value, ...) is.
fn soup_body() -> impl Strategy<Value = Vec<u8>> {
    (0..15usize, soup_fields()).prop_map(|(context, body)| match context {
        0..=5 => in_groups(context, body),
        6 => in_item(body),
        7 => in_item(len_field(11, &body)),
        8 => in_item(len_field(13, &body)),
        9 => in_item(len_field(15, &body)),
        10 => in_item(len_field(9, &body)),
        11 => in_item(len_field(9, &len_field(2, &body))),
        12 => in_item(len_field(9, &len_field(2, &len_field(5, &body)))),
        13 => in_item(len_field(9, &len_field(2, &len_field(6, &body)))),
        _ => in_item(len_field(
            9,
            &len_field(2, &len_field(5, &len_field(1, &body))),
        )),
    })
}

/// [`soup_body`] for logs requests: random fields in a request, a group, a log record,
/// its body (or a value in it) or an attribute.
fn soup_logs_body() -> impl Strategy<Value = Vec<u8>> {
    (0..12usize, soup_fields()).prop_map(|(context, body)| match context {
        0..=5 => in_groups(context, body),
        6 => in_item(body),
        7 => in_item(len_field(5, &body)),
        8 => in_item(len_field(5, &len_field(5, &body))),
        9 => in_item(len_field(5, &len_field(6, &len_field(1, &body)))),
        10 => in_item(len_field(6, &body)),
        _ => in_item(len_field(6, &len_field(2, &body))),
    })
}

/// `body` with random bytes flipped, cut off, inserted or removed.
fn mutate(mut body: Vec<u8>, mutations: Vec<(prop::sample::Index, u8, u8)>) -> Vec<u8> {
    for (at, byte, kind) in mutations {
        if body.is_empty() {
            body.push(byte);
            continue;
        }
        let at = at.index(body.len());
        match kind {
            0 => body[at] ^= byte.max(1),
            1 => body.truncate(at),
            2 => body.insert(at, byte),
            _ => {
                body.remove(at);
            }
        }
    }
    body
}

fn mutations() -> impl Strategy<Value = Vec<(prop::sample::Index, u8, u8)>> {
    vec((any::<prop::sample::Index>(), any::<u8>(), 0..4u8), 1..4)
}

#[test]
fn protobuf_decoders_agree_at_the_edges() {
    let mut outcomes = Vec::new();
    // Groups nested `n` deep in an unknown field of the request, around prost's
    // recursion limit.
    for n in 95..=101 {
        let body = [[0xa3, 0x01].repeat(n), [0xa4, 0x01].repeat(n)].concat();
        outcomes.push(agree(&body).unwrap());
    }
    // An attribute value `n` arrays deep then replaced by a string: too deep for the
    // model but gone, and within prost's recursion limit up to 47.
    for n in 44..=50 {
        let mut value = vec![0x18, 0x01];
        for _ in 0..n {
            value = len_field(5, &len_field(1, &value));
        }
        value.extend(len_field(1, b"x"));
        let kv = [len_field(1, b"k"), len_field(2, &value)].concat();
        let body = len_field(1, &len_field(2, &len_field(2, &len_field(9, &kv))));
        outcomes.push(agree(&body).unwrap());
    }
    // The same with an ArrayValue innermost, empty or holding an unknown field: prost
    // refuses unknown fields in a message at its recursion limit (n = 47).
    for unknown in [&[][..], &[0xa0, 0x01, 0x01]] {
        for n in 46..=48 {
            let mut value = len_field(5, unknown);
            for _ in 0..n {
                value = len_field(5, &len_field(1, &value));
            }
            value.extend(len_field(1, b"x"));
            let kv = [len_field(1, b"k"), len_field(2, &value)].concat();
            let body = len_field(1, &len_field(2, &len_field(2, &len_field(9, &kv))));
            outcomes.push(agree(&body).unwrap());
        }
    }
    // Accepted: groups up to 100 deep, arrays up to 47, and the ArrayValue at depth 100
    // when it is empty.
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 6 + 4 + 2 + 1);
    // A span's kind as varints of 10 bytes (the last holding the 64th bit, or more), and
    // keys of more than 32 bits, field number 0, wire types 4, 6 and 7.
    let kind = |last: u8| [[0x30].as_slice(), &[0xff; 9], &[last]].concat();
    let span = |content: &[u8]| len_field(1, &len_field(2, &len_field(2, content)));
    assert!(agree(&span(&kind(1))).unwrap());
    assert!(!agree(&span(&kind(2))).unwrap());
    assert!(!agree(&span(&[0x80, 0x80, 0x80, 0x80, 0x10, 0x00])).unwrap());
    assert!(agree(&span(&[0xf8, 0xff, 0xff, 0xff, 0x0f, 0x00])).unwrap());
    for bad in [[0x00, 0x00], [0x0c, 0x00], [0x0e, 0x00], [0x0f, 0x00]] {
        assert!(!agree(&span(&bad)).unwrap());
    }
    // A bool of 2, a string then a profiles-only string index (an empty value), a
    // key_strindex, an EntityRef (dropped), and one whose key is not UTF-8.
    let value = |value: &[u8]| {
        let kv = [len_field(1, b"k"), len_field(2, value), vec![0x18, 0x07]].concat();
        span(&len_field(9, &kv))
    };
    assert!(agree(&value(&[0x10, 0x02])).unwrap());
    assert!(agree(&value(&[len_field(1, b"s"), vec![0x40, 0x03]].concat())).unwrap());
    let resource = |entity: &[u8]| len_field(1, &len_field(1, &len_field(3, entity)));
    assert!(
        agree(&resource(
            &[len_field(2, b"service"), len_field(3, b"a")].concat()
        ))
        .unwrap()
    );
    assert!(!agree(&resource(&len_field(3, b"\xff"))).unwrap());
}

#[test]
fn protobuf_logs_decoders_agree_at_the_edges() {
    // A body `n` arrays deep then replaced by a string: too deep for the model but gone,
    // and within prost's recursion limit up to 48 (the body is a level shallower than a
    // span's attribute value).
    let mut accepted = Vec::new();
    for n in 44..=51 {
        let mut value = vec![0x18, 0x01];
        for _ in 0..n {
            value = len_field(5, &len_field(1, &value));
        }
        value.extend(len_field(1, b"x"));
        if agree_logs(&in_item(len_field(5, &value))).unwrap() {
            accepted.push(n);
        }
    }
    assert_eq!(accepted, (44..=48).collect::<Vec<_>>());
    // A severity number of 10 bytes (negative), an event name that is not UTF-8, flags as
    // a varint (the wrong wire type), and a body of unknown fields only.
    let severity = [[0x10].as_slice(), &[0xff; 9], &[0x01]].concat();
    assert!(agree_logs(&in_item(severity)).unwrap());
    assert!(!agree_logs(&in_item(len_field(12, b"\xff"))).unwrap());
    assert!(!agree_logs(&in_item(vec![0x40, 0x01])).unwrap());
    assert!(agree_logs(&in_item(len_field(5, &[0xa0, 0x01, 0x01]))).unwrap());
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(512)
    })]

    #[test]
    fn json_decoders_agree(original in request()) {
        let body = serde_json::to_vec(&original).unwrap();
        let reference: ExportTraceServiceRequest = serde_json::from_slice(&body).unwrap();
        let ours = json::decode(&body, &LIMITS).unwrap().to_proto();
        prop_assert_eq!(&ours, &reference);
        prop_assert_eq!(&ours, &original);
        // The same with whitespace between every token.
        let pretty = serde_json::to_vec_pretty(&original).unwrap();
        prop_assert_eq!(json::decode(&pretty, &LIMITS).unwrap().to_proto(), original);
    }

    #[test]
    fn protobuf_decoders_agree(original in request()) {
        let body = original.encode_to_vec();
        let ours = protobuf::decode(&body, &LIMITS).unwrap();
        let decoded = prost_view::prost_decode(&body).unwrap();
        let reference = prost_view::from_proto(&decoded).unwrap();
        prop_assert_eq!(comparable(&ours), comparable(&reference));
        prop_assert_eq!(ours.to_proto(), original);
    }

    #[test]
    fn the_protobuf_decoder_charges_exactly_its_lists(original in request()) {
        let body = original.encode_to_vec();
        let allocated = allocated(&protobuf::decode(&body, &LIMITS).unwrap());
        let within = |max_decoded_bytes| Limits { max_decoded_bytes, ..LIMITS };
        prop_assert!(protobuf::decode(&body, &within(allocated)).is_ok());
        if allocated > 0 {
            prop_assert_eq!(
                protobuf::decode(&body, &within(allocated - 1)),
                Err(DecodeError::TooComplex(allocated - 1))
            );
        }
    }

    #[test]
    fn protobuf_decoders_agree_on_merged_messages(body in merged_body()) {
        prop_assert!(agree(&body)?);
    }

    #[test]
    fn protobuf_decoders_agree_on_random_fields(body in soup_body()) {
        agree(&body)?;
    }

    #[test]
    fn protobuf_decoders_agree_on_mutated_bodies(
        original in request(),
        mutations in mutations(),
    ) {
        agree(&mutate(original.encode_to_vec(), mutations))?;
    }

    #[test]
    fn protobuf_decoders_agree_on_random_bytes(body in vec(any::<u8>(), 0..64)) {
        agree(&body)?;
    }

    #[test]
    fn encoder_writes_what_prost_writes(original in request(), pool in odd_ids()) {
        let mut request = prost_view::from_proto(&original).unwrap();
        give_ids(span_ids(&mut request), &pool);
        for rs in &request.resource_spans {
            let mut ours = Vec::new();
            encode::resource_spans_header(rs.resource.as_ref(), &rs.schema_url, &mut ours);
            let reference = ResourceSpans {
                resource: rs.resource.as_ref().map(model::Resource::to_proto),
                scope_spans: Vec::new(),
                schema_url: rs.schema_url.to_string(),
            };
            prop_assert_eq!(ours, reference.encode_to_vec());
            for ss in &rs.scope_spans {
                let mut ours = Vec::new();
                encode::scope_spans_header(ss.scope.as_ref(), &ss.schema_url, &mut ours);
                let reference = ScopeSpans {
                    scope: ss.scope.as_ref().map(model::Scope::to_proto),
                    spans: Vec::new(),
                    schema_url: ss.schema_url.to_string(),
                };
                prop_assert_eq!(ours, reference.encode_to_vec());
                for span in &ss.spans {
                    let mut ours = Vec::new();
                    encode::span(span, &mut ours);
                    prop_assert_eq!(ours, span.to_proto().encode_to_vec());
                }
            }
        }
    }

    #[test]
    fn encoder_writes_log_records_as_prost_writes_them(
        original in logs_request(),
        pool in odd_ids(),
    ) {
        let mut request = prost_view::logs_from_proto(&original).unwrap();
        give_ids(log_record_ids(&mut request), &pool);
        for rl in &request.resource_logs {
            let mut ours = Vec::new();
            encode::resource_spans_header(rl.resource.as_ref(), &rl.schema_url, &mut ours);
            let reference = ResourceLogs {
                resource: rl.resource.as_ref().map(model::Resource::to_proto),
                scope_logs: Vec::new(),
                schema_url: rl.schema_url.to_string(),
            };
            prop_assert_eq!(ours, reference.encode_to_vec());
            for sl in &rl.scope_logs {
                let mut ours = Vec::new();
                encode::scope_spans_header(sl.scope.as_ref(), &sl.schema_url, &mut ours);
                let reference = ScopeLogs {
                    scope: sl.scope.as_ref().map(model::Scope::to_proto),
                    log_records: Vec::new(),
                    schema_url: sl.schema_url.to_string(),
                };
                prop_assert_eq!(ours, reference.encode_to_vec());
                for record in &sl.log_records {
                    let mut ours = Vec::new();
                    encode::log_record(record, &mut ours);
                    prop_assert_eq!(ours, record.to_proto().encode_to_vec());
                }
            }
        }
        // The model's view of a generated request converts back to it.
        prop_assert_eq!(prost_view::logs_from_proto(&original).unwrap().to_proto(), original);
    }

    #[test]
    fn json_logs_decoders_agree(original in logs_request()) {
        let body = serde_json::to_vec(&original).unwrap();
        let reference: ExportLogsServiceRequest = serde_json::from_slice(&body).unwrap();
        let ours = json::decode_logs(&body, &LIMITS).unwrap().to_proto();
        prop_assert_eq!(&ours, &reference);
        prop_assert_eq!(&ours, &original);
        let pretty = serde_json::to_vec_pretty(&original).unwrap();
        prop_assert_eq!(json::decode_logs(&pretty, &LIMITS).unwrap().to_proto(), original);
    }

    #[test]
    fn protobuf_logs_decoders_agree(original in logs_request()) {
        let body = original.encode_to_vec();
        let ours = protobuf::decode_logs(&body, &LIMITS).unwrap();
        let decoded = prost_view::prost_decode(&body).unwrap();
        let reference = prost_view::logs_from_proto(&decoded).unwrap();
        prop_assert_eq!(comparable_logs(&ours), comparable_logs(&reference));
        prop_assert_eq!(ours.to_proto(), original);
    }

    #[test]
    fn the_protobuf_logs_decoder_charges_exactly_its_lists(original in logs_request()) {
        let body = original.encode_to_vec();
        let allocated = allocated_logs(&protobuf::decode_logs(&body, &LIMITS).unwrap());
        let within = |max_decoded_bytes| Limits { max_decoded_bytes, ..LIMITS };
        prop_assert!(protobuf::decode_logs(&body, &within(allocated)).is_ok());
        if allocated > 0 {
            prop_assert_eq!(
                protobuf::decode_logs(&body, &within(allocated - 1)),
                Err(DecodeError::TooComplex(allocated - 1))
            );
        }
    }

    #[test]
    fn both_logs_decoders_count_log_records_against_the_limit(original in logs_request()) {
        let records: usize = original
            .resource_logs
            .iter()
            .flat_map(|rl| &rl.scope_logs)
            .map(|sl| sl.log_records.len())
            .sum();
        let json_body = serde_json::to_vec(&original).unwrap();
        let proto_body = original.encode_to_vec();
        let up_to = |max_spans| Limits { max_spans, ..LIMITS };
        prop_assert!(json::decode_logs(&json_body, &up_to(records)).is_ok());
        prop_assert!(protobuf::decode_logs(&proto_body, &up_to(records)).is_ok());
        if records > 0 {
            let fewer = up_to(records - 1);
            let refused = Err(DecodeError::TooManyLogRecords(records - 1));
            prop_assert_eq!(json::decode_logs(&json_body, &fewer).map(|_| ()), refused.clone());
            prop_assert_eq!(protobuf::decode_logs(&proto_body, &fewer).map(|_| ()), refused);
        }
    }

    #[test]
    fn protobuf_logs_decoders_agree_on_merged_messages(body in merged_logs_body()) {
        prop_assert!(agree_logs(&body)?);
    }

    #[test]
    fn protobuf_logs_decoders_agree_on_random_fields(body in soup_logs_body()) {
        agree_logs(&body)?;
    }

    #[test]
    fn protobuf_logs_decoders_agree_on_mutated_bodies(
        original in logs_request(),
        mutations in mutations(),
    ) {
        agree_logs(&mutate(original.encode_to_vec(), mutations))?;
    }

    #[test]
    fn protobuf_logs_decoders_agree_on_random_bytes(body in vec(any::<u8>(), 0..64)) {
        agree_logs(&body)?;
    }
}
