//! OTLP protobuf request bodies: prost decodes them into opentelemetry-proto's messages,
//! after a walk of the wire format has counted their spans and estimated the memory they
//! will take, so that a body of many tiny messages (2 bytes on the wire, a few hundred in
//! memory) is refused before it is built.

use std::mem::size_of;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::resource::v1 as resource;
use opentelemetry_proto::tonic::trace::v1 as trace;
use prost::Message;

use crate::{DecodeError, Limits, model};

/// Deepest protobuf nesting the message count follows (prost refuses deeper ones).
const MAX_DEPTH: usize = 100;

/// Decodes a protobuf `ExportTraceServiceRequest`, refusing it before decoding when it
/// holds more spans than `limits` allow or would take more memory, together with its
/// view ([`crate::model::Request::from_proto`]), than they allow.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<ExportTraceServiceRequest, DecodeError> {
    let mut estimate = 0;
    estimate_memory(bytes, Node::Request, 0, &mut estimate);
    if estimate > limits.max_decoded_bytes {
        return Err(DecodeError::TooComplex(limits.max_decoded_bytes));
    }
    decode_counted(bytes, limits.max_spans)
}

fn decode_counted(
    bytes: &[u8],
    max_spans: usize,
) -> Result<ExportTraceServiceRequest, DecodeError> {
    // Count first: an empty span is 2 bytes on the wire but ~300 in memory.
    if count_protobuf_spans(bytes).is_some_and(|n| n > max_spans) {
        return Err(DecodeError::TooManySpans(max_spans));
    }
    ExportTraceServiceRequest::decode(bytes)
        .map_err(|e| DecodeError::Malformed(format!("invalid OTLP protobuf: {e}")))
}

/// Counts the spans of a protobuf `ExportTraceServiceRequest` by walking the wire format
/// of its first three levels, without decoding; `None` if the walk finds it malformed.
fn count_protobuf_spans(request: &[u8]) -> Option<usize> {
    let mut count = 0;
    for resource_spans in submessages(request, 1) {
        for scope_spans in submessages(resource_spans?, 2) {
            for span in submessages(scope_spans?, 2) {
                span?;
                count += 1;
            }
        }
    }
    Some(count)
}

/// The payloads of the length-delimited fields numbered `field` in a protobuf message;
/// an item is `None` (and the last) where the message is malformed.
fn submessages(message: &[u8], field: u64) -> impl Iterator<Item = Option<&[u8]>> {
    let mut rest = message;
    let mut failed = false;
    std::iter::from_fn(move || {
        while !rest.is_empty() && !failed {
            let Some((key, wire_type, value)) = next_field(&mut rest) else {
                failed = true;
                return Some(None);
            };
            if key == field && wire_type == 2 {
                return Some(Some(value));
            }
        }
        None
    })
}

/// Splits the next field off `rest`: (field number, wire type, payload of a
/// length-delimited field or empty); `None` on malformed input or groups.
fn next_field<'a>(rest: &mut &'a [u8]) -> Option<(u64, u8, &'a [u8])> {
    let key = read_varint(rest)?;
    let wire_type = (key & 7) as u8;
    let skip = match wire_type {
        0 => {
            read_varint(rest)?;
            0
        }
        1 => 8,
        2 => usize::try_from(read_varint(rest)?).ok()?,
        5 => 4,
        _ => return None,
    };
    if rest.len() < skip {
        return None;
    }
    let (value, tail) = rest.split_at(skip);
    *rest = tail;
    Some((
        key >> 3,
        wire_type,
        if wire_type == 2 { value } else { &[] },
    ))
}

fn read_varint(rest: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &byte) in rest.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            *rest = &rest[i + 1..];
            return Some(value);
        }
    }
    None
}

/// The protobuf messages of a trace export request, for counting them.
#[derive(Debug, Clone, Copy)]
enum Node {
    Request,
    ResourceSpans,
    Resource,
    ScopeSpans,
    Scope,
    Span,
    Event,
    Link,
    KeyValue,
    AnyValue,
    ArrayValue,
    KeyValueList,
    /// A message whose own fields are not followed (status, entity reference).
    Leaf,
}

/// The memory one decoded message of kind `M` takes with its view `V`; prost's lists
/// grow by doubling, so its part counts twice.
const fn both<M, V>() -> usize {
    2 * size_of::<M>() + size_of::<V>()
}

impl Node {
    /// The memory a decoded message of this kind takes (its strings apart).
    const fn size(self) -> usize {
        match self {
            Node::Request => 0,
            Node::ResourceSpans => both::<trace::ResourceSpans, model::ResourceSpans>(),
            Node::Resource => both::<resource::Resource, model::Resource>(),
            Node::ScopeSpans => both::<trace::ScopeSpans, model::ScopeSpans>(),
            Node::Scope => both::<common::InstrumentationScope, model::Scope>(),
            Node::Span => both::<trace::Span, model::Span>(),
            Node::Event => both::<trace::span::Event, model::Event>(),
            Node::Link => both::<trace::span::Link, model::Link>(),
            Node::KeyValue => both::<common::KeyValue, model::KeyValue>(),
            Node::AnyValue | Node::ArrayValue | Node::KeyValueList => {
                both::<common::AnyValue, model::AnyValue>()
            }
            Node::Leaf => both::<common::EntityRef, model::Status>(),
        }
    }

    /// The kind of the message held in field `field`, if that field is a message.
    fn child(self, field: u64) -> Option<Node> {
        use Node::*;
        Some(match (self, field) {
            (Request, 1) => ResourceSpans,
            (ResourceSpans, 1) => Resource,
            (ResourceSpans, 2) => ScopeSpans,
            (ScopeSpans, 1) => Scope,
            (ScopeSpans, 2) => Span,
            (Resource, 1) | (Scope, 3) | (Span, 9) | (Event, 3) | (Link, 4) | (KeyValueList, 1) => {
                KeyValue
            }
            (Span, 11) => Event,
            (Span, 13) => Link,
            (Resource, 3) | (Span, 15) => Leaf,
            (KeyValue, 2) | (ArrayValue, 1) => AnyValue,
            (AnyValue, 5) => ArrayValue,
            (AnyValue, 6) => KeyValueList,
            _ => return None,
        })
    }
}

/// Adds to `estimate` the memory that the messages nested in `bytes`, a message of kind
/// `kind`, take decoded (with their strings and byte strings, which prost copies), as far
/// as it is well-formed (prost decodes as far, then fails).
fn estimate_memory(bytes: &[u8], kind: Node, depth: usize, estimate: &mut usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some((field, wire_type, value)) = next_field(&mut rest) else {
            return;
        };
        if wire_type != 2 {
            continue;
        }
        match kind.child(field) {
            Some(Node::Leaf) => *estimate += Node::Leaf.size() + value.len(),
            Some(child) => {
                *estimate += child.size();
                estimate_memory(value, child, depth + 1, estimate);
            }
            None => *estimate += value.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn limits(max_spans: usize, max_decoded_bytes: usize) -> Limits {
        Limits {
            max_spans,
            max_decoded_bytes,
        }
    }

    fn request(spans: usize) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![
                        Span {
                            trace_id: vec![1; 16],
                            span_id: vec![2; 8],
                            name: "GET /".into(),
                            ..Span::default()
                        };
                        spans
                    ],
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        }
    }

    #[test]
    fn round_trip_and_span_count() {
        let bytes = request(5).encode_to_vec();
        assert_eq!(count_protobuf_spans(&bytes), Some(5));
        assert_eq!(decode(&bytes, &limits(5, 1 << 20)).unwrap(), request(5));
        assert_eq!(
            decode(&bytes, &limits(4, 1 << 20)),
            Err(DecodeError::TooManySpans(4))
        );
        assert!(
            decode(&[], &limits(4, 1 << 20))
                .unwrap()
                .resource_spans
                .is_empty()
        );
    }

    #[test]
    fn empty_spans_are_counted_before_decoding() {
        // 100,000 empty spans: 2 bytes each on the wire.
        let mut scope_spans = Vec::new();
        for _ in 0..100_000 {
            scope_spans.extend_from_slice(&[0x12, 0x00]);
        }
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: None,
                scope_spans: vec![ScopeSpans::decode(&scope_spans[..]).unwrap()],
                schema_url: String::new(),
            }],
        };
        let bytes = request.encode_to_vec();
        assert_eq!(count_protobuf_spans(&bytes), Some(100_000));
        assert_eq!(
            decode(&bytes, &limits(10_000, 1 << 30)),
            Err(DecodeError::TooManySpans(10_000))
        );
    }

    #[test]
    fn bodies_of_many_tiny_messages_are_refused_before_decoding() {
        // 200,000 empty links in one span: 2 bytes each on the wire, hundreds in memory.
        let mut span = vec![0x0a, 0x10];
        span.extend([1u8; 16]);
        for _ in 0..200_000 {
            span.extend_from_slice(&[0x6a, 0x00]);
        }
        let span = Span::decode(&span[..]).unwrap();
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![span],
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        };
        let bytes = request.encode_to_vec();
        let mut estimate = 0;
        estimate_memory(&bytes, Node::Request, 0, &mut estimate);
        assert!(estimate > 200_000 * Node::Link.size(), "{estimate}");
        let for_body = Limits::for_body(crate::Format::Protobuf, bytes.len(), 10);
        assert_eq!(
            decode(&bytes, &for_body),
            Err(DecodeError::TooComplex(for_body.max_decoded_bytes))
        );
        // With room for it, the same body decodes.
        assert!(decode(&bytes, &limits(10, estimate)).is_ok());
    }

    #[test]
    fn ordinary_spans_fit_the_default_ratio() {
        // Spans with many short boolean attributes: the densest ordinary protobuf.
        let mut request = request(50);
        for span in &mut request.resource_spans[0].scope_spans[0].spans {
            span.attributes = (0..20)
                .map(|i| common::KeyValue {
                    key: format!("k{i}"),
                    value: Some(common::AnyValue {
                        value: Some(common::any_value::Value::BoolValue(true)),
                    }),
                    ..common::KeyValue::default()
                })
                .collect();
        }
        let bytes = request.encode_to_vec();
        assert!(
            decode(
                &bytes,
                &Limits::for_body(crate::Format::Protobuf, bytes.len(), 100)
            )
            .is_ok()
        );
    }

    #[test]
    fn malformed_bodies_are_reported() {
        let Err(DecodeError::Malformed(message)) = decode(b"{\"json\":1}", &limits(10, 1 << 20))
        else {
            panic!("expected a malformed error");
        };
        assert!(message.starts_with("invalid OTLP protobuf"), "{message}");
        assert_eq!(count_protobuf_spans(&[0x0a, 0x05, 0x12]), None);
    }

    #[test]
    fn deep_values_are_refused_by_the_view() {
        use crate::model::{MAX_VALUE_DEPTH, Request};
        use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, any_value};
        let nest = |depth: usize| {
            let mut value = AnyValue {
                value: Some(any_value::Value::IntValue(1)),
            };
            for _ in 0..depth {
                value = AnyValue {
                    value: Some(any_value::Value::ArrayValue(ArrayValue {
                        values: vec![value],
                    })),
                };
            }
            let mut request = request(1);
            request.resource_spans[0].scope_spans[0].spans[0].attributes = vec![KeyValue {
                key: "k".into(),
                value: Some(value),
                ..KeyValue::default()
            }];
            request
        };
        assert!(Request::from_proto(&nest(MAX_VALUE_DEPTH)).is_ok());
        assert!(matches!(
            Request::from_proto(&nest(MAX_VALUE_DEPTH + 1)),
            Err(DecodeError::Malformed(_))
        ));
    }
}
