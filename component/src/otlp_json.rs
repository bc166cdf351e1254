//! OTLP/HTTP JSON encoding of spans (an `ExportTraceServiceRequest`) and log records (an
//! `ExportLogsServiceRequest`), exactly as the OTLP
//! specification maps protobuf to JSON: hex trace and span IDs, lowerCamelCase field
//! names, enums as integers, 64-bit integers as decimal strings, Unix-nanosecond times.
//! Fields holding their default value are omitted, as proto3 JSON allows.
//!
//! Written by hand rather than with serde_json: this is the component's hot path and it
//! ships to browsers, where a generic serializer would add size for no gain.

use alloc::vec::Vec;

use crate::log_record::LogRecord;
use crate::model::{
    Attributes, Decimal, Event, KeyValue, Link, Scope, Span, SpanContext, Status, Value,
};

/// OTLP `SpanFlags`: the parent's (or linked context's) remoteness is known...
const FLAG_HAS_IS_REMOTE: u32 = 0x100;
/// ...and it is remote.
const FLAG_IS_REMOTE: u32 = 0x200;

/// The resource attribute that says by how many milliseconds the times of a payload were
/// corrected: the host found its clock off (the browser SDK compares it with the
/// collector's `Date` header) and the component moved every time by this much.
pub const CLOCK_CORRECTION_KEY: &str = "wasm_otlp.clock_correction_ms";

/// What a request body carries: spans or log records, each under its scope.
pub trait Item {
    /// How the body opens, up to the resource's fields (`{"resourceSpans":[{"resource":{`).
    const OPEN: &'static [u8];
    /// What follows the resource, up to the first scope (`},"scopeSpans":[`).
    const SCOPES: &'static [u8];
    /// What follows a scope's fields, up to its first item (`},"spans":[`).
    const ITEMS: &'static [u8];
    /// Index of the item's instrumentation scope.
    fn scope(&self) -> u32;
    /// Appends the item as a JSON object, its times moved by `shift` nanoseconds.
    fn write(&self, out: &mut Vec<u8>, shift: i64);
}

impl Item for Span {
    const OPEN: &'static [u8] = b"{\"resourceSpans\":[{\"resource\":{";
    const SCOPES: &'static [u8] = b"},\"scopeSpans\":[";
    const ITEMS: &'static [u8] = b"},\"spans\":[";
    fn scope(&self) -> u32 {
        self.scope
    }
    fn write(&self, out: &mut Vec<u8>, shift: i64) {
        write_span(out, self, shift);
    }
}

impl Item for LogRecord {
    const OPEN: &'static [u8] = b"{\"resourceLogs\":[{\"resource\":{";
    const SCOPES: &'static [u8] = b"},\"scopeLogs\":[";
    const ITEMS: &'static [u8] = b"},\"logRecords\":[";
    fn scope(&self) -> u32 {
        self.scope
    }
    fn write(&self, out: &mut Vec<u8>, shift: i64) {
        write_log_record(out, self, shift);
    }
}

/// Encodes items (all of one resource: spans or log records), taken in order from
/// `items`, as one request body, and says how many it took. `scopes[i]` is the scope of
/// items whose `scope` is `i`; items naming an unknown scope go under scope 0. With a
/// `max_bytes` other than 0 the body ends before the item that would make it longer, but
/// holds at least one item. A `clock_correction` (nanoseconds, see [`CLOCK_CORRECTION_KEY`])
/// other than 0 is added to every time and named in the resource.
pub fn encode_request<'s, T: Item + 's>(
    resource: &Attributes,
    scopes: &[Scope],
    items: impl Iterator<Item = &'s T>,
    max_bytes: usize,
    clock_correction: i64,
) -> (Vec<u8>, usize) {
    const CLOSE: &[u8] = b"]}]}";
    let mut out = Vec::with_capacity(16 * 1024);
    out.extend_from_slice(T::OPEN);
    if clock_correction == 0 {
        write_attributes(&mut out, resource, false);
    } else {
        let mut corrected = resource.clone();
        corrected.items.push(KeyValue {
            key: CLOCK_CORRECTION_KEY.into(),
            value: Value::Int(clock_correction / 1_000_000),
        });
        write_attributes(&mut out, &corrected, false);
    }
    out.extend_from_slice(T::SCOPES);
    // Each scope's items go into a buffer of their own (items arrive in queue order,
    // scopes interleaved); the body's length is known before the buffers are joined.
    let mut groups: Vec<(u32, Vec<u8>, usize)> = Vec::new();
    let mut length = out.len() + CLOSE.len();
    let mut taken = 0;
    for item in items {
        let id = if (item.scope() as usize) < scopes.len() {
            item.scope()
        } else {
            0
        };
        let g = match groups.iter().position(|(s, ..)| *s == id) {
            Some(g) => g,
            None => {
                let mut head = Vec::with_capacity(8 * 1024);
                if !groups.is_empty() {
                    head.push(b',');
                }
                head.extend_from_slice(b"{\"scope\":{");
                if let Some(scope) = scopes.get(id as usize) {
                    write_scope(&mut head, scope);
                }
                head.extend_from_slice(T::ITEMS);
                length += head.len() + 2; // and its closing `]}`
                groups.push((id, head, 0));
                groups.len() - 1
            }
        };
        let (_, buffer, count) = &mut groups[g];
        let before = buffer.len();
        comma(buffer, *count);
        item.write(buffer, clock_correction);
        length += buffer.len() - before;
        if max_bytes != 0 && length > max_bytes && taken > 0 {
            if *count == 0 {
                groups.pop(); // a scope opened for this item alone
            } else {
                buffer.truncate(before);
            }
            break;
        }
        *count += 1;
        taken += 1;
    }
    for (_, buffer, _) in &groups {
        out.extend_from_slice(buffer);
        out.extend_from_slice(b"]}");
    }
    out.extend_from_slice(CLOSE);
    (out, taken)
}

fn write_scope(out: &mut Vec<u8>, scope: &Scope) {
    out.extend_from_slice(b"\"name\":");
    write_str(out, &scope.name);
    if !scope.version.is_empty() {
        out.extend_from_slice(b",\"version\":");
        write_str(out, &scope.version);
    }
    write_attributes(out, &scope.attributes, true);
}

/// `{"traceId":..,"spanId":..` and `"traceState"` when set: how spans and links open.
fn open_context(out: &mut Vec<u8>, ctx: &SpanContext) {
    out.extend_from_slice(b"{\"traceId\":\"");
    write_hex(out, ctx.trace_id.hi);
    write_hex(out, ctx.trace_id.lo);
    out.extend_from_slice(b"\",\"spanId\":\"");
    write_hex(out, ctx.span_id);
    out.push(b'"');
    if !ctx.trace_state.is_empty() {
        out.extend_from_slice(b",\"traceState\":");
        write_str(out, &ctx.trace_state);
    }
}

/// `time` moved by `shift` nanoseconds (within `u64`).
fn shifted(time: u64, shift: i64) -> u64 {
    time.saturating_add_signed(shift)
}

fn write_span(out: &mut Vec<u8>, span: &Span, shift: i64) {
    let ctx = &span.context;
    open_context(out, ctx);
    if span.parent_span_id != 0 {
        out.extend_from_slice(b",\"parentSpanId\":\"");
        write_hex(out, span.parent_span_id);
        out.push(b'"');
    }
    let remote = if span.parent_is_remote {
        FLAG_IS_REMOTE
    } else {
        0
    };
    out.extend_from_slice(b",\"flags\":");
    write_u32(
        out,
        u32::from(ctx.trace_flags) | FLAG_HAS_IS_REMOTE | remote,
    );
    out.extend_from_slice(b",\"name\":");
    write_str(out, &span.name);
    out.extend_from_slice(b",\"kind\":");
    write_u32(out, span.kind as u32);
    out.extend_from_slice(b",\"startTimeUnixNano\":");
    write_u64_string(out, shifted(span.start_time, shift));
    out.extend_from_slice(b",\"endTimeUnixNano\":");
    write_u64_string(out, shifted(span.end_time, shift));
    write_attributes(out, &span.attributes, true);
    if !span.events.is_empty() {
        out.extend_from_slice(b",\"events\":[");
        for (i, event) in span.events.iter().enumerate() {
            comma(out, i);
            write_event(out, event, shift);
        }
        out.push(b']');
    }
    write_count(out, b"droppedEventsCount", span.dropped_events);
    if !span.links.is_empty() {
        out.extend_from_slice(b",\"links\":[");
        for (i, link) in span.links.iter().enumerate() {
            comma(out, i);
            write_link(out, link);
        }
        out.push(b']');
    }
    write_count(out, b"droppedLinksCount", span.dropped_links);
    match &span.status {
        Status::Unset => {}
        Status::Ok => out.extend_from_slice(b",\"status\":{\"code\":1}"),
        Status::Error(message) => {
            out.extend_from_slice(b",\"status\":{");
            if !message.is_empty() {
                out.extend_from_slice(b"\"message\":");
                write_str(out, message);
                out.push(b',');
            }
            out.extend_from_slice(b"\"code\":2}");
        }
    }
    out.push(b'}');
}

fn write_event(out: &mut Vec<u8>, event: &Event, shift: i64) {
    out.extend_from_slice(b"{\"timeUnixNano\":");
    write_u64_string(out, shifted(event.time, shift));
    out.extend_from_slice(b",\"name\":");
    write_str(out, &event.name);
    write_attributes(out, &event.attributes, true);
    out.push(b'}');
}

fn write_link(out: &mut Vec<u8>, link: &Link) {
    let ctx = &link.context;
    open_context(out, ctx);
    let remote = if ctx.is_remote { FLAG_IS_REMOTE } else { 0 };
    out.extend_from_slice(b",\"flags\":");
    write_u32(
        out,
        u32::from(ctx.trace_flags) | FLAG_HAS_IS_REMOTE | remote,
    );
    write_attributes(out, &link.attributes, true);
    out.push(b'}');
}

fn write_log_record(out: &mut Vec<u8>, record: &LogRecord, shift: i64) {
    out.extend_from_slice(b"{\"timeUnixNano\":");
    write_u64_string(out, shifted(record.time, shift));
    out.extend_from_slice(b",\"observedTimeUnixNano\":");
    write_u64_string(out, shifted(record.observed_time, shift));
    if record.severity_number != 0 {
        out.extend_from_slice(b",\"severityNumber\":");
        write_u32(out, u32::from(record.severity_number));
    }
    if !record.severity_text.is_empty() {
        out.extend_from_slice(b",\"severityText\":");
        write_str(out, &record.severity_text);
    }
    out.extend_from_slice(b",\"body\":");
    write_value(out, &record.body);
    write_attributes(out, &record.attributes, true);
    if record.trace_id.is_valid() {
        out.extend_from_slice(b",\"flags\":");
        write_u32(out, u32::from(record.trace_flags));
        out.extend_from_slice(b",\"traceId\":\"");
        write_hex(out, record.trace_id.hi);
        write_hex(out, record.trace_id.lo);
        out.push(b'"');
        if record.span_id != 0 {
            out.extend_from_slice(b",\"spanId\":\"");
            write_hex(out, record.span_id);
            out.push(b'"');
        }
    }
    out.push(b'}');
}

/// Writes `"attributes":[...]` and `"droppedAttributesCount"` when not empty / zero;
/// `leading_comma` when fields precede them.
fn write_attributes(out: &mut Vec<u8>, attributes: &Attributes, leading_comma: bool) {
    let mut wrote = false;
    if !attributes.items.is_empty() {
        if leading_comma {
            out.push(b',');
        }
        out.extend_from_slice(b"\"attributes\":[");
        for (i, kv) in attributes.items.iter().enumerate() {
            comma(out, i);
            write_key_value(out, kv);
        }
        out.push(b']');
        wrote = true;
    }
    if attributes.dropped != 0 {
        if leading_comma || wrote {
            out.push(b',');
        }
        out.extend_from_slice(b"\"droppedAttributesCount\":");
        write_u32(out, attributes.dropped);
    }
}

fn write_key_value(out: &mut Vec<u8>, kv: &KeyValue) {
    out.extend_from_slice(b"{\"key\":");
    write_str(out, &kv.key);
    out.extend_from_slice(b",\"value\":");
    write_value(out, &kv.value);
    out.push(b'}');
}

/// An `AnyValue` object.
fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::String(s) => string_value(out, s),
        Value::Bool(b) => bool_value(out, *b),
        Value::Int(i) => int_value(out, *i),
        Value::Double(d) => double_value(out, d),
        Value::StringArray(items) => write_array(out, items, |out, s| string_value(out, s)),
        Value::BoolArray(items) => write_array(out, items, |out, b| bool_value(out, *b)),
        Value::IntArray(items) => write_array(out, items, |out, i| int_value(out, *i)),
        Value::DoubleArray(items) => write_array(out, items, double_value),
        #[cfg(feature = "direct-api")]
        Value::Array(items) => write_array(out, items, write_value),
        #[cfg(feature = "direct-api")]
        Value::Map(entries) => {
            out.extend_from_slice(b"{\"kvlistValue\":{\"values\":[");
            for (i, kv) in entries.iter().enumerate() {
                comma(out, i);
                write_key_value(out, kv);
            }
            out.extend_from_slice(b"]}}");
        }
        #[cfg(feature = "direct-api")]
        Value::Bytes(bytes) => {
            out.extend_from_slice(b"{\"bytesValue\":\"");
            write_base64(out, bytes);
            out.extend_from_slice(b"\"}");
        }
        #[cfg(feature = "direct-api")]
        Value::Empty => out.extend_from_slice(b"{}"),
    }
}

/// `bytes` in base64 (standard alphabet, padded), as OTLP/JSON writes `bytes` fields.
/// By hand: a dozen lines, where the base64 crate's engines would add kilobytes.
#[cfg(feature = "direct-api")]
fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| chunk.get(i).copied().map_or(0, u32::from);
        let n = byte(0) << 16 | byte(1) << 8 | byte(2);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i) & 63) as usize]
            } else {
                b'='
            });
        }
    }
}

fn string_value(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(b"{\"stringValue\":");
    write_str(out, s);
    out.push(b'}');
}

fn bool_value(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b {
        b"{\"boolValue\":true}"
    } else {
        b"{\"boolValue\":false}"
    });
}

/// 64-bit integers are JSON strings in OTLP (JavaScript numbers lose precision past 2^53).
fn int_value(out: &mut Vec<u8>, i: i64) {
    out.extend_from_slice(b"{\"intValue\":\"");
    out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
    out.extend_from_slice(b"\"}");
}

/// Finite doubles only (non-finite values never get past the limits).
fn double_value(out: &mut Vec<u8>, d: &Decimal) {
    out.extend_from_slice(b"{\"doubleValue\":");
    out.extend_from_slice(d.as_str().as_bytes());
    out.push(b'}');
}

/// `{"arrayValue":{"values":[...]}}`.
fn write_array<T>(out: &mut Vec<u8>, items: &[T], write_item: impl Fn(&mut Vec<u8>, &T)) {
    out.extend_from_slice(b"{\"arrayValue\":{\"values\":[");
    for (i, item) in items.iter().enumerate() {
        comma(out, i);
        write_item(out, item);
    }
    out.extend_from_slice(b"]}}");
}

fn write_count(out: &mut Vec<u8>, field: &[u8], count: u32) {
    if count != 0 {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(field);
        out.extend_from_slice(b"\":");
        write_u32(out, count);
    }
}

fn comma(out: &mut Vec<u8>, index: usize) {
    if index > 0 {
        out.push(b',');
    }
}

fn write_u32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Times are 64-bit integers, JSON strings in OTLP.
fn write_u64_string(out: &mut Vec<u8>, n: u64) {
    out.push(b'"');
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.push(b'"');
}

fn write_hex(out: &mut Vec<u8>, n: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(DIGITS[((n >> (shift * 4)) & 0xf) as usize]);
    }
}

/// A JSON string literal: quotes, backslashes and control characters escaped.
fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => b"",
            _ => continue,
        };
        // `get`, not indexing: `start <= i` always, and no panic path is kept for it.
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(DIGITS[usize::from(b >> 4)]);
            out.push(DIGITS[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SAMPLED, SpanContext, SpanKind, TraceId};
    use serde_json::{Value as Json, json};

    fn span() -> Span {
        Span {
            context: SpanContext {
                trace_id: TraceId {
                    hi: 0x0102030405060708,
                    lo: 0x090a0b0c0d0e0f10,
                },
                span_id: 0xab,
                trace_flags: SAMPLED,
                trace_state: String::new(),
                is_remote: false,
            },
            parent_span_id: 0x1234,
            parent_is_remote: true,
            name: "GET /\"x\"\n".into(),
            kind: SpanKind::Client,
            scope: 0,
            start_time: 1_700_000_000_000_000_001,
            end_time: 1_700_000_000_000_000_002,
            attributes: Attributes {
                items: vec![
                    KeyValue {
                        key: "i".into(),
                        value: Value::Int(i64::MIN),
                    },
                    KeyValue {
                        key: "d".into(),
                        value: Value::Double(Decimal::from_f64(0.5)),
                    },
                    KeyValue {
                        key: "a".into(),
                        value: Value::BoolArray(vec![true, false]),
                    },
                    KeyValue {
                        key: "c".into(),
                        value: Value::String("\u{1}é".into()),
                    },
                ],
                dropped: 2,
            },
            events: vec![Event {
                name: "e".into(),
                time: 5,
                attributes: Attributes::default(),
            }],
            dropped_events: 0,
            links: vec![],
            dropped_links: 3,
            status: Status::Error("boom".into()),
        }
    }

    #[test]
    fn encodes_the_otlp_json_mapping() {
        let scopes = [Scope {
            name: "s".into(),
            version: "1".into(),
            attributes: Attributes::default(),
        }];
        let resource = Attributes {
            items: vec![KeyValue {
                key: "service.name".into(),
                value: Value::String("web".into()),
            }],
            dropped: 0,
        };
        let (body, taken) = encode_request(&resource, &scopes, [span()].iter(), 0, 0);
        assert_eq!(taken, 1);
        let json: Json = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            json!({"resourceSpans": [{
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]},
                "scopeSpans": [{
                    "scope": {"name": "s", "version": "1"},
                    "spans": [{
                        "traceId": "0102030405060708090a0b0c0d0e0f10",
                        "spanId": "00000000000000ab",
                        "parentSpanId": "0000000000001234",
                        "flags": 0x301,
                        "name": "GET /\"x\"\n",
                        "kind": 3,
                        "startTimeUnixNano": "1700000000000000001",
                        "endTimeUnixNano": "1700000000000000002",
                        "attributes": [
                            {"key": "i", "value": {"intValue": "-9223372036854775808"}},
                            {"key": "d", "value": {"doubleValue": 0.5}},
                            {"key": "a", "value": {"arrayValue": {"values": [{"boolValue": true}, {"boolValue": false}]}}},
                            {"key": "c", "value": {"stringValue": "\u{1}é"}}
                        ],
                        "droppedAttributesCount": 2,
                        "events": [{"timeUnixNano": "5", "name": "e"}],
                        "droppedLinksCount": 3,
                        "status": {"message": "boom", "code": 2}
                    }]
                }]
            }]})
        );
    }

    #[test]
    fn a_clock_correction_moves_every_time_and_is_named_in_the_resource() {
        let scopes = [Scope::default()];
        let mut corrected = span();
        corrected.end_time = corrected.start_time + 10;
        corrected.events = alloc::vec![Event {
            name: "e".into(),
            time: corrected.start_time + 5,
            attributes: Attributes::default(),
        }];
        let hour: i64 = 3_600_000_000_000;
        let (body, _) = encode_request(
            &Attributes::default(),
            &scopes,
            [corrected.clone()].iter(),
            0,
            -hour,
        );
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let resource = &json["resourceSpans"][0]["resource"]["attributes"][0];
        assert_eq!(resource["key"], CLOCK_CORRECTION_KEY);
        assert_eq!(resource["value"]["intValue"], "-3600000");
        let encoded = &json["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        let moved = |t: u64| (t - hour as u64).to_string();
        assert_eq!(encoded["startTimeUnixNano"], moved(corrected.start_time));
        assert_eq!(encoded["endTimeUnixNano"], moved(corrected.end_time));
        assert_eq!(
            encoded["events"][0]["timeUnixNano"],
            moved(corrected.start_time + 5)
        );
    }

    #[test]
    fn groups_spans_by_scope() {
        let scopes = [
            Scope {
                name: "a".into(),
                ..Default::default()
            },
            Scope {
                name: "b".into(),
                ..Default::default()
            },
        ];
        let mut other = span();
        other.scope = 1;
        let mut unknown = span();
        unknown.scope = 9;
        let spans = [span(), other, unknown];
        let (body, _) = encode_request(&Attributes::default(), &scopes, spans.iter(), 0, 0);
        let json: Json = serde_json::from_slice(&body).unwrap();
        let scope_spans = json["resourceSpans"][0]["scopeSpans"].as_array().unwrap();
        assert_eq!(scope_spans.len(), 2);
        assert_eq!(scope_spans[0]["scope"]["name"], "a");
        assert_eq!(scope_spans[0]["spans"].as_array().unwrap().len(), 2);
        assert_eq!(scope_spans[1]["scope"]["name"], "b");
    }

    #[test]
    fn a_byte_bound_ends_the_body_before_the_span_that_would_pass_it() {
        let scopes = [
            Scope {
                name: "a".into(),
                ..Default::default()
            },
            Scope {
                name: "b".into(),
                ..Default::default()
            },
        ];
        // Spans alternate between the two scopes, so the cut can fall in either.
        let spans: Vec<Span> = (0..40)
            .map(|i| {
                let mut s = span();
                s.scope = i % 2;
                s
            })
            .collect();
        let (whole, all) = encode_request(&Attributes::default(), &scopes, spans.iter(), 0, 0);
        assert_eq!(all, 40);
        for max in [1, 300, 999, 1000, 4321, whole.len() - 1, whole.len()] {
            let (body, taken) =
                encode_request(&Attributes::default(), &scopes, spans.iter(), max, 0);
            let json: Json = serde_json::from_slice(&body).unwrap();
            let in_body: usize = json["resourceSpans"][0]["scopeSpans"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["spans"].as_array().unwrap().len())
                .sum();
            assert_eq!(in_body, taken, "max {max}");
            assert!(taken >= 1);
            assert!(
                body.len() <= max || taken == 1,
                "max {max}: {} bytes",
                body.len()
            );
            // The next span would not have fitted: the cut is as late as it can be.
            if taken < 40 {
                let (longer, _) = encode_request(
                    &Attributes::default(),
                    &scopes,
                    spans[..=taken].iter(),
                    0,
                    0,
                );
                assert!(
                    longer.len() > max,
                    "max {max}: {taken} spans, one more is {}",
                    longer.len()
                );
            }
        }
    }

    #[test]
    #[cfg(feature = "direct-api")]
    fn maps_mixed_arrays_bytes_and_empty_values_are_otlp_any_values() {
        let value = Value::Map(vec![
            KeyValue {
                key: "b".into(),
                value: Value::Bytes(vec![0, 1, 2, 255, 254]),
            },
            KeyValue {
                key: "list".into(),
                value: Value::Array(vec![Value::Int(1), Value::Empty, Value::Bytes(vec![])]),
            },
        ]);
        let mut out = Vec::new();
        write_value(&mut out, &value);
        let json: Json = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            json,
            json!({"kvlistValue": {"values": [
                {"key": "b", "value": {"bytesValue": "AAEC//4="}},
                {"key": "list", "value": {"arrayValue": {"values": [
                    {"intValue": "1"}, {}, {"bytesValue": ""}
                ]}}},
            ]}})
        );
        for (bytes, base64) in [
            (&b"f"[..], "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
        ] {
            let mut out = Vec::new();
            write_base64(&mut out, bytes);
            assert_eq!(out, base64.as_bytes());
        }
    }
}
