//! The model back to OTLP protobuf, written straight from the borrowed structures: the
//! same bytes as converting to opentelemetry-proto's messages (`to_proto`) and encoding
//! those with prost, without building the messages. Nothing is allocated but the room
//! the output `Vec` grows by. Spans ([`span`]) and log records ([`log_record`]) are
//! written one by one, and the resource and scope around them as the header of their
//! group message ([`resource_spans_header`], [`scope_spans_header`], which serve logs
//! too), so that the caller can frame a stored batch as it likes.
//!
//! Fields are written as prost writes them: in tag order (not the `.proto`'s declaration
//! order: `Span.flags`, tag 16, comes last, and `LogRecord.observed_time_unix_nano`, tag
//! 11, after `span_id`), scalars, strings and bytes only when not
//! their default, optional messages whenever present (even empty), repeated messages one
//! by one, and `AnyValue`'s oneof whenever set (an empty `stringValue` included). A
//! nested message's length goes before it, so it is computed first by walking the
//! message (the `fields_len` functions, recursive like the encoding).

use prost::encoding::{self, WireType, encode_key, encode_varint, encoded_len_varint, key_len};

use crate::model::{
    AnyValue, Event, KeyValue, Link, LogRecord, Resource, Scope, Span, Status, Value,
};

/// Appends the fields of `span` as an `opentelemetry.proto.trace.v1.Span` message,
/// without a length prefix (as prost's `encode_raw`). IDs longer than 16 bytes are
/// written as their first 16, as [`Span::to_proto`] does.
pub fn span(span: &Span<'_>, out: &mut Vec<u8>) {
    bytes(1, span.trace_id.as_bytes(), out);
    bytes(2, span.span_id.as_bytes(), out);
    bytes(3, span.trace_state.as_bytes(), out);
    bytes(4, span.parent_span_id.as_bytes(), out);
    bytes(5, span.name.as_bytes(), out);
    int32(6, span.kind, out);
    fixed64(7, span.start_time_unix_nano, out);
    fixed64(8, span.end_time_unix_nano, out);
    messages(9, &span.attributes, out);
    uint32(10, span.dropped_attributes_count, out);
    messages(11, &span.events, out);
    uint32(12, span.dropped_events_count, out);
    messages(13, &span.links, out);
    uint32(14, span.dropped_links_count, out);
    if let Some(status) = &span.status {
        message(15, status, out);
    }
    fixed32(16, span.flags, out);
}

/// Appends the fields of `record` as an `opentelemetry.proto.logs.v1.LogRecord` message,
/// without a length prefix (as prost's `encode_raw`). IDs longer than 16 bytes are
/// written as their first 16, as [`LogRecord::to_proto`] does.
pub fn log_record(record: &LogRecord<'_>, out: &mut Vec<u8>) {
    fixed64(1, record.time_unix_nano, out);
    int32(2, record.severity_number, out);
    bytes(3, record.severity_text.as_bytes(), out);
    if let Some(body) = &record.body {
        message(5, body, out);
    }
    messages(6, &record.attributes, out);
    uint32(7, record.dropped_attributes_count, out);
    fixed32(8, record.flags, out);
    bytes(9, record.trace_id.as_bytes(), out);
    bytes(10, record.span_id.as_bytes(), out);
    fixed64(11, record.observed_time_unix_nano, out);
    bytes(12, record.event_name.as_bytes(), out);
}

/// Appends the fields of an `opentelemetry.proto.trace.v1.ResourceSpans` message holding
/// `resource` and `schema_url` and no `scope_spans`, without a length prefix (as prost's
/// `encode_raw` of such a message).
///
/// The same bytes are an `opentelemetry.proto.logs.v1.ResourceLogs` holding them and no
/// `scope_logs` (the two messages give `resource` and `schema_url` the same tags, 1 and
/// 3), so this writes the header of either signal.
pub fn resource_spans_header(resource: Option<&Resource<'_>>, schema_url: &str, out: &mut Vec<u8>) {
    if let Some(resource) = resource {
        message(1, resource, out);
    }
    bytes(3, schema_url.as_bytes(), out);
}

/// Appends the fields of an `opentelemetry.proto.trace.v1.ScopeSpans` message holding
/// `scope` and `schema_url` and no `spans`, without a length prefix (as prost's
/// `encode_raw` of such a message).
///
/// The same bytes are an `opentelemetry.proto.logs.v1.ScopeLogs` holding them and no
/// `log_records` (the two messages give `scope` and `schema_url` the same tags, 1 and 3),
/// so this writes the header of either signal.
pub fn scope_spans_header(scope: Option<&Scope<'_>>, schema_url: &str, out: &mut Vec<u8>) {
    if let Some(scope) = scope {
        message(1, scope, out);
    }
    bytes(3, schema_url.as_bytes(), out);
}

/// A message nested in a span, log record, resource or scope: the length of its fields, then the
/// fields themselves.
trait Fields {
    /// The length of what [`Fields::fields`] appends.
    fn fields_len(&self) -> usize;
    /// Appends the message's fields, in tag order.
    fn fields(&self, out: &mut Vec<u8>);
}

impl Fields for Resource<'_> {
    fn fields_len(&self) -> usize {
        messages_len(1, &self.attributes) + uint32_len(2, self.dropped_attributes_count)
    }

    fn fields(&self, out: &mut Vec<u8>) {
        messages(1, &self.attributes, out);
        uint32(2, self.dropped_attributes_count, out);
    }
}

impl Fields for Scope<'_> {
    fn fields_len(&self) -> usize {
        bytes_len(1, self.name.as_bytes())
            + bytes_len(2, self.version.as_bytes())
            + messages_len(3, &self.attributes)
            + uint32_len(4, self.dropped_attributes_count)
    }

    fn fields(&self, out: &mut Vec<u8>) {
        bytes(1, self.name.as_bytes(), out);
        bytes(2, self.version.as_bytes(), out);
        messages(3, &self.attributes, out);
        uint32(4, self.dropped_attributes_count, out);
    }
}

impl Fields for Event<'_> {
    fn fields_len(&self) -> usize {
        fixed64_len(1, self.time_unix_nano)
            + bytes_len(2, self.name.as_bytes())
            + messages_len(3, &self.attributes)
            + uint32_len(4, self.dropped_attributes_count)
    }

    fn fields(&self, out: &mut Vec<u8>) {
        fixed64(1, self.time_unix_nano, out);
        bytes(2, self.name.as_bytes(), out);
        messages(3, &self.attributes, out);
        uint32(4, self.dropped_attributes_count, out);
    }
}

impl Fields for Link<'_> {
    fn fields_len(&self) -> usize {
        bytes_len(1, self.trace_id.as_bytes())
            + bytes_len(2, self.span_id.as_bytes())
            + bytes_len(3, self.trace_state.as_bytes())
            + messages_len(4, &self.attributes)
            + uint32_len(5, self.dropped_attributes_count)
            + fixed32_len(6, self.flags)
    }

    fn fields(&self, out: &mut Vec<u8>) {
        bytes(1, self.trace_id.as_bytes(), out);
        bytes(2, self.span_id.as_bytes(), out);
        bytes(3, self.trace_state.as_bytes(), out);
        messages(4, &self.attributes, out);
        uint32(5, self.dropped_attributes_count, out);
        fixed32(6, self.flags, out);
    }
}

impl Fields for Status<'_> {
    fn fields_len(&self) -> usize {
        bytes_len(2, self.message.as_bytes()) + int32_len(3, self.code)
    }

    fn fields(&self, out: &mut Vec<u8>) {
        bytes(2, self.message.as_bytes(), out);
        int32(3, self.code, out);
    }
}

/// `KeyValue` (its `key_strindex`, tag 3, is always 0 and so never written).
impl Fields for KeyValue<'_> {
    fn fields_len(&self) -> usize {
        bytes_len(1, self.key.as_bytes()) + self.value.as_ref().map_or(0, |v| message_len(2, v))
    }

    fn fields(&self, out: &mut Vec<u8>) {
        bytes(1, self.key.as_bytes(), out);
        if let Some(value) = &self.value {
            message(2, value, out);
        }
    }
}

/// `AnyValue`: its oneof is written whenever it is set, whatever the value; an
/// `arrayValue` is an `ArrayValue` message and a `kvlistValue` a `KeyValueList`, each
/// holding its items as field 1.
impl Fields for AnyValue<'_> {
    fn fields_len(&self) -> usize {
        match &self.value {
            None => 0,
            Some(Value::String(s)) => delimited_len(1, s.len()),
            Some(Value::Bool(b)) => encoding::bool::encoded_len(2, b),
            Some(Value::Int(i)) => encoding::int64::encoded_len(3, i),
            Some(Value::Double(d)) => encoding::double::encoded_len(4, d),
            Some(Value::Array(values)) => delimited_len(5, messages_len(1, values)),
            Some(Value::Kvlist(values)) => delimited_len(6, messages_len(1, values)),
            Some(Value::Bytes(b)) => delimited_len(7, b.len()),
        }
    }

    fn fields(&self, out: &mut Vec<u8>) {
        match &self.value {
            None => {}
            Some(Value::String(s)) => delimited(1, s.as_bytes(), out),
            Some(Value::Bool(b)) => encoding::bool::encode(2, b, out),
            Some(Value::Int(i)) => encoding::int64::encode(3, i, out),
            Some(Value::Double(d)) => encoding::double::encode(4, d, out),
            Some(Value::Array(values)) => {
                delimiter(5, messages_len(1, values), out);
                messages(1, values, out);
            }
            Some(Value::Kvlist(values)) => {
                delimiter(6, messages_len(1, values), out);
                messages(1, values, out);
            }
            Some(Value::Bytes(b)) => delimited(7, b, out),
        }
    }
}

/// The key and length of a length-delimited field of `len` bytes (a message's field
/// whose bytes follow).
pub fn delimiter(tag: u32, len: usize, out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(len as u64, out);
}

/// The encoded length of a length-delimited field of `len` bytes.
pub fn delimited_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

/// A length-delimited field, written even if empty (in a oneof).
fn delimited(tag: u32, value: &[u8], out: &mut Vec<u8>) {
    delimiter(tag, value.len(), out);
    out.extend_from_slice(value);
}

/// A `string` or `bytes` field, omitted if empty.
fn bytes(tag: u32, value: &[u8], out: &mut Vec<u8>) {
    if !value.is_empty() {
        delimited(tag, value, out);
    }
}

fn bytes_len(tag: u32, value: &[u8]) -> usize {
    if value.is_empty() {
        0
    } else {
        delimited_len(tag, value.len())
    }
}

/// A message field, written whether or not it is empty.
fn message(tag: u32, value: &impl Fields, out: &mut Vec<u8>) {
    delimiter(tag, value.fields_len(), out);
    value.fields(out);
}

fn message_len(tag: u32, value: &impl Fields) -> usize {
    delimited_len(tag, value.fields_len())
}

/// A repeated message field.
fn messages(tag: u32, values: &[impl Fields], out: &mut Vec<u8>) {
    for value in values {
        message(tag, value, out);
    }
}

fn messages_len(tag: u32, values: &[impl Fields]) -> usize {
    values.iter().map(|value| message_len(tag, value)).sum()
}

/// A `uint32` field, omitted if 0.
fn uint32(tag: u32, value: u32, out: &mut Vec<u8>) {
    if value != 0 {
        encoding::uint32::encode(tag, &value, out);
    }
}

fn uint32_len(tag: u32, value: u32) -> usize {
    if value == 0 {
        0
    } else {
        encoding::uint32::encoded_len(tag, &value)
    }
}

/// An `int32` or enum field, omitted if 0 (a negative one takes ten bytes).
fn int32(tag: u32, value: i32, out: &mut Vec<u8>) {
    if value != 0 {
        encoding::int32::encode(tag, &value, out);
    }
}

fn int32_len(tag: u32, value: i32) -> usize {
    if value == 0 {
        0
    } else {
        encoding::int32::encoded_len(tag, &value)
    }
}

/// A `fixed32` field, omitted if 0.
fn fixed32(tag: u32, value: u32, out: &mut Vec<u8>) {
    if value != 0 {
        encoding::fixed32::encode(tag, &value, out);
    }
}

fn fixed32_len(tag: u32, value: u32) -> usize {
    if value == 0 {
        0
    } else {
        encoding::fixed32::encoded_len(tag, &value)
    }
}

/// A `fixed64` field, omitted if 0.
fn fixed64(tag: u32, value: u64, out: &mut Vec<u8>) {
    if value != 0 {
        encoding::fixed64::encode(tag, &value, out);
    }
}

fn fixed64_len(tag: u32, value: u64) -> usize {
    if value == 0 {
        0
    } else {
        encoding::fixed64::encoded_len(tag, &value)
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use prost::Message;

    use super::*;
    use crate::model::Id;

    fn as_prost(span: &Span<'_>) -> Vec<u8> {
        let mut buf = Vec::new();
        span.to_proto().encode_raw(&mut buf);
        buf
    }

    fn ours(span: &Span<'_>) -> Vec<u8> {
        let mut buf = Vec::new();
        super::span(span, &mut buf);
        buf
    }

    #[test]
    fn defaults_and_odd_values_as_prost_writes_them() {
        let values = [
            None,
            Some(Value::String(Cow::Borrowed(""))),
            Some(Value::Bool(false)),
            Some(Value::Int(0)),
            Some(Value::Double(-0.0)),
            Some(Value::Double(f64::NAN)),
            Some(Value::Double(f64::NEG_INFINITY)),
            Some(Value::Array(vec![AnyValue::default()])),
            Some(Value::Kvlist(vec![KeyValue::default()])),
            Some(Value::Bytes(Cow::Borrowed(&[]))),
        ];
        let mut attributes: Vec<KeyValue<'_>> = values
            .into_iter()
            .map(|value| KeyValue {
                key: Cow::Borrowed(""),
                value: Some(AnyValue { value }),
            })
            .collect();
        attributes.push(KeyValue::default());
        let span = Span {
            trace_id: Id::new(&[7; 20]),
            span_id: Id::new(&[1, 2, 3]),
            kind: -1,
            flags: 0x301,
            attributes,
            events: vec![Event::default()],
            links: vec![Link::default()],
            status: Some(Status::default()),
            ..Span::default()
        };
        let encoded = ours(&span);
        assert_eq!(encoded, as_prost(&span));
        // `flags` (fixed32, tag 16) last, after `status` (tag 15, empty).
        assert_eq!(encoded[encoded.len() - 8..], [0x7a, 0, 0x85, 1, 1, 3, 0, 0]);

        assert_eq!(ours(&Span::default()), []);
        let mut header = Vec::new();
        resource_spans_header(None, "", &mut header);
        scope_spans_header(None, "", &mut header);
        assert_eq!(header, []);
        resource_spans_header(Some(&Resource::default()), "", &mut header);
        scope_spans_header(Some(&Scope::default()), "s", &mut header);
        assert_eq!(header, [0x0a, 0, 0x0a, 0, 0x1a, 1, b's']);
    }

    #[test]
    fn log_records_as_prost_writes_them() {
        let as_prost = |record: &LogRecord<'_>| {
            let mut buf = Vec::new();
            record.to_proto().encode_raw(&mut buf);
            buf
        };
        let ours = |record: &LogRecord<'_>| {
            let mut buf = Vec::new();
            log_record(record, &mut buf);
            buf
        };
        assert_eq!(ours(&LogRecord::default()), []);
        let record = LogRecord {
            time_unix_nano: 1,
            observed_time_unix_nano: 2,
            severity_number: -1,
            severity_text: Cow::Borrowed("warn"),
            // An empty body is still written (an optional message), unlike an empty
            // severity text.
            body: Some(AnyValue::default()),
            attributes: vec![KeyValue::default()],
            dropped_attributes_count: 3,
            flags: 1,
            trace_id: Id::new(&[7; 20]),
            span_id: Id::new(&[1; 8]),
            event_name: Cow::Borrowed("e"),
        };
        let encoded = ours(&record);
        assert_eq!(encoded, as_prost(&record));
        // `observed_time_unix_nano` (fixed64, tag 11) after `span_id` (tag 10), then
        // `event_name` (tag 12).
        let tail = [[0x59].as_slice(), &2u64.to_le_bytes(), &[0x62, 1, b'e']].concat();
        assert!(encoded.ends_with(&tail), "{encoded:02x?}");
        let body_only = LogRecord {
            body: Some(AnyValue::default()),
            ..LogRecord::default()
        };
        assert_eq!(ours(&body_only), [0x2a, 0]);
    }
}
