//! OTLP protobuf request bodies: prost decodes them into opentelemetry-proto's messages,
//! after a walk of the wire format has counted their spans and messages, so that a body of
//! many tiny messages (2 bytes on the wire, ~300 in memory) is refused before it is built.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use crate::{DecodeError, Limits};

/// Deepest protobuf nesting the message count follows (prost refuses deeper ones).
const MAX_DEPTH: usize = 100;

/// Decodes a protobuf `ExportTraceServiceRequest`, refusing it before decoding when it
/// holds more spans or messages than `limits` allow. View it with
/// [`crate::model::Request::from_proto`].
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<ExportTraceServiceRequest, DecodeError> {
    // A message takes at least 2 bytes, so only a longer body can hold too many.
    let max_messages = limits.max_messages();
    if bytes.len() / 2 > max_messages {
        let mut count = 0;
        count_messages(bytes, Node::Request, 0, &mut count);
        if count > max_messages {
            return Err(DecodeError::TooComplex(
                limits.max_decoded_bytes(),
                max_messages,
            ));
        }
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

impl Node {
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

/// Adds to `count` the messages nested in `bytes`, a message of kind `kind`, as far as
/// it is well-formed (prost decodes as far, then fails).
fn count_messages(bytes: &[u8], kind: Node, depth: usize, count: &mut usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some((field, wire_type, value)) = next_field(&mut rest) else {
            return;
        };
        if wire_type == 2
            && let Some(child) = kind.child(field)
        {
            *count += 1;
            if !matches!(child, Node::Leaf) {
                count_messages(value, child, depth + 1, count);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn limits(max_spans: usize, max_decompressed: usize) -> Limits {
        Limits {
            max_spans,
            max_decompressed,
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
            decode(&bytes, &limits(10_000, 16 << 20)),
            Err(DecodeError::TooManySpans(10_000))
        );
    }

    #[test]
    fn bodies_of_many_tiny_messages_are_refused_before_decoding() {
        // 200,000 empty links in one span: 2 bytes each on the wire, ~100 in memory.
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
        let mut count = 0;
        count_messages(&bytes, Node::Request, 0, &mut count);
        assert_eq!(count, 200_003);
        let tight = limits(10, 100_000 * crate::MIN_BYTES_PER_MESSAGE);
        assert_eq!(
            decode(&bytes, &tight),
            Err(DecodeError::TooComplex(tight.max_decoded_bytes(), 100_000))
        );
        // Within the limit the same body decodes.
        assert!(decode(&bytes, &limits(10, 200_003 * crate::MIN_BYTES_PER_MESSAGE)).is_ok());
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
