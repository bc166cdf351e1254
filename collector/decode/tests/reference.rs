//! The decoders agree with opentelemetry-proto, the reference: random valid requests,
//! written as OTLP JSON by its serde model, decode to the same messages through this
//! crate's JSON decoder as through that model, and the protobuf path gives them back too;
//! the encoder writes their spans, resources and scopes byte for byte as prost writes
//! opentelemetry-proto's messages.

use collector_decode::model::{self, Id, Request};
use collector_decode::{Limits, encode, json, protobuf};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value,
};
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

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    vec((text(), option::of(any_value())), 0..5).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(key, value)| KeyValue {
                key,
                value,
                ..KeyValue::default()
            })
            .collect()
    })
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

fn request() -> impl Strategy<Value = ExportTraceServiceRequest> {
    let scope = (text(), text(), attributes(), any::<u32>()).prop_map(
        |(name, version, attributes, dropped_attributes_count)| InstrumentationScope {
            name,
            version,
            attributes,
            dropped_attributes_count,
        },
    );
    let scope_spans =
        (option::of(scope), vec(span(), 0..4), text()).prop_map(|(scope, spans, schema_url)| {
            ScopeSpans {
                scope,
                spans,
                schema_url,
            }
        });
    let resource =
        (attributes(), any::<u32>()).prop_map(|(attributes, dropped_attributes_count)| Resource {
            attributes,
            dropped_attributes_count,
            entity_refs: Vec::new(),
        });
    let resource_spans = (option::of(resource), vec(scope_spans, 0..3), text()).prop_map(
        |(resource, scope_spans, schema_url)| ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        },
    );
    vec(resource_spans, 0..3)
        .prop_map(|resource_spans| ExportTraceServiceRequest { resource_spans })
}

/// A pool of IDs of any length up to 20 bytes (the model keeps the first 16 of a longer
/// one); decoding a generated request gives only the lengths `id` makes.
fn odd_ids() -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(vec(any::<u8>(), 0..=20), 0..4)
}

/// The spans of `request` take their IDs from `pool` in turn (if it is not empty).
fn give_ids(request: &mut Request<'_>, pool: &[Vec<u8>]) {
    if pool.is_empty() {
        return;
    }
    let mut ids = pool.iter().cycle().map(|id| Id::new(id));
    let spans = request
        .resource_spans
        .iter_mut()
        .flat_map(|rs| &mut rs.scope_spans)
        .flat_map(|ss| &mut ss.spans);
    for span in spans {
        span.trace_id = ids.next().unwrap();
        span.span_id = ids.next().unwrap();
        span.parent_span_id = ids.next().unwrap();
        for link in &mut span.links {
            link.trace_id = ids.next().unwrap();
            link.span_id = ids.next().unwrap();
        }
    }
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
    fn protobuf_path_gives_the_request_back(original in request()) {
        let body = original.encode_to_vec();
        let decoded = protobuf::decode(&body, &LIMITS).unwrap();
        prop_assert_eq!(Request::from_proto(&decoded).unwrap().to_proto(), original);
    }

    #[test]
    fn encoder_writes_what_prost_writes(original in request(), pool in odd_ids()) {
        let mut request = Request::from_proto(&original).unwrap();
        give_ids(&mut request, &pool);
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
}
