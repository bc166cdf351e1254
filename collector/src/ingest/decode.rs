//! Bytes to an `ExportTraceServiceRequest`: gzip inflating within a size limit, then OTLP
//! JSON (opentelemetry-proto's serde model) or protobuf (prost), refusing a request with
//! too many spans before it is fully decoded. No I/O.

use std::cell::Cell;
use std::fmt;
use std::io::Read;

use flate2::read::MultiGzDecoder;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

/// The payload encoding of an export request, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`: OTLP JSON.
    Json,
    /// `application/x-protobuf`: OTLP protobuf.
    Protobuf,
}

impl Format {
    /// The format of a `Content-Type` header value (parameters such as `charset` are
    /// ignored), or `None` for any other media type.
    pub fn from_content_type(value: &str) -> Option<Format> {
        let media_type = value.split(';').next().unwrap_or("").trim();
        if media_type.eq_ignore_ascii_case("application/json") {
            Some(Format::Json)
        } else if media_type.eq_ignore_ascii_case("application/x-protobuf") {
            Some(Format::Protobuf)
        } else {
            None
        }
    }

    /// The `Content-Type` of responses in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Protobuf => "application/x-protobuf",
        }
    }
}

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The body inflates to more than the limit (bytes).
    TooLargeDecompressed(usize),
    /// The request holds more spans than the limit.
    TooManySpans(usize),
    /// The body holds more JSON objects or protobuf messages than the limit.
    TooManyObjects(usize),
    /// The body is not valid gzip, OTLP JSON or OTLP protobuf; the text says where.
    Malformed(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooLargeDecompressed(limit) => write!(
                f,
                "the body inflates to more than {limit} bytes (--max-decompressed)"
            ),
            DecodeError::TooManySpans(limit) => write!(
                f,
                "the request holds more than {limit} spans (--max-spans-per-request); send smaller batches"
            ),
            DecodeError::TooManyObjects(limit) => write!(
                f,
                "the body holds more than {limit} JSON objects or protobuf messages (one per \
                 {MIN_BYTES_PER_OBJECT} bytes of --max-decompressed); too many tiny objects"
            ),
            DecodeError::Malformed(what) => f.write_str(what),
        }
    }
}

/// Inflates a gzip body (one or more members), refusing it as soon as the output would
/// exceed `limit` bytes: at most `limit + 1` bytes are ever produced.
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let read_limit = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    MultiGzDecoder::new(body)
        .take(read_limit)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Malformed(format!("the body is not valid gzip: {e}")))?;
    if out.len() > limit {
        return Err(DecodeError::TooLargeDecompressed(limit));
    }
    Ok(out)
}

/// Decoding turns a tiny object (`{}` in JSON, 2 bytes of protobuf) into a struct of up to
/// a few hundred bytes. Allowing at most one object per this many bytes of the
/// decompressed-size limit keeps a decoded request within a small multiple of that limit.
pub const MIN_BYTES_PER_OBJECT: usize = 16;

/// Deepest protobuf nesting the message count follows (prost refuses deeper ones).
const MAX_DEPTH: usize = 100;

/// Decodes an export request, refusing it with [`DecodeError::TooManySpans`] when it
/// holds more than `max_spans` spans and with [`DecodeError::TooManyObjects`] when it
/// holds more than `max_objects` JSON objects or protobuf messages, both before decoding
/// it into memory.
pub fn decode(
    bytes: &[u8],
    format: Format,
    max_spans: usize,
    max_objects: usize,
) -> Result<ExportTraceServiceRequest, DecodeError> {
    // An object takes at least 2 bytes, so only a longer body can hold too many: only
    // such a body is scanned.
    if bytes.len() / 2 > max_objects {
        let objects = match format {
            Format::Json => count_json_objects(bytes),
            Format::Protobuf => {
                let mut count = 0;
                count_messages(bytes, Node::Request, 0, &mut count);
                count
            }
        };
        if objects > max_objects {
            return Err(DecodeError::TooManyObjects(max_objects));
        }
    }
    match format {
        Format::Json => decode_json(bytes, max_spans),
        Format::Protobuf => decode_protobuf(bytes, max_spans),
    }
}

fn decode_protobuf(
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

/// Counts the `{` outside strings: the objects of a JSON text.
fn count_json_objects(bytes: &[u8]) -> usize {
    let (mut count, mut in_string, mut escaped) = (0, false, false);
    for &byte in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if byte == b'"' {
            in_string = true;
        } else if byte == b'{' {
            count += 1;
        }
    }
    count
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

thread_local! {
    /// Spans the JSON request being decoded on this thread may still hold.
    static SPANS_LEFT: Cell<usize> = const { Cell::new(0) };
    /// Whether that budget ran out.
    static SPANS_EXCEEDED: Cell<bool> = const { Cell::new(false) };
}

fn decode_json(bytes: &[u8], max_spans: usize) -> Result<ExportTraceServiceRequest, DecodeError> {
    SPANS_LEFT.set(max_spans);
    SPANS_EXCEEDED.set(false);
    let parsed = serde_json::from_slice::<JsonRequest>(bytes);
    if SPANS_EXCEEDED.get() {
        return Err(DecodeError::TooManySpans(max_spans));
    }
    parsed
        .map(JsonRequest::into_request)
        .map_err(|e| DecodeError::Malformed(format!("invalid OTLP JSON: {e}")))
}

// The outer three levels of the request, mirrored so that the span list can count its
// elements while it is parsed; everything inside a resource, scope or span is
// opentelemetry-proto's serde model. Unknown fields are ignored, as in that model.

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct JsonRequest {
    resource_spans: Vec<JsonResourceSpans>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct JsonResourceSpans {
    resource: Option<Resource>,
    scope_spans: Vec<JsonScopeSpans>,
    schema_url: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct JsonScopeSpans {
    scope: Option<InstrumentationScope>,
    spans: CountedSpans,
    schema_url: String,
}

/// A span list that stops the parse once the thread's span budget is spent.
#[derive(Default)]
struct CountedSpans(Vec<Span>);

impl JsonRequest {
    fn into_request(self) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: self
                .resource_spans
                .into_iter()
                .map(|rs| ResourceSpans {
                    resource: rs.resource,
                    scope_spans: rs
                        .scope_spans
                        .into_iter()
                        .map(|ss| ScopeSpans {
                            scope: ss.scope,
                            spans: ss.spans.0,
                            schema_url: ss.schema_url,
                        })
                        .collect(),
                    schema_url: rs.schema_url,
                })
                .collect(),
        }
    }
}

impl<'de> Deserialize<'de> for CountedSpans {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpansVisitor;

        impl<'de> Visitor<'de> for SpansVisitor {
            type Value = CountedSpans;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of spans")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CountedSpans, A::Error> {
                let mut spans = Vec::new();
                while let Some(span) = seq.next_element::<Span>()? {
                    let left = SPANS_LEFT.get();
                    if left == 0 {
                        SPANS_EXCEEDED.set(true);
                        return Err(de::Error::custom("too many spans"));
                    }
                    SPANS_LEFT.set(left - 1);
                    spans.push(span);
                }
                Ok(CountedSpans(spans))
            }
        }

        deserializer.deserialize_seq(SpansVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    const SPAN_JSON: &str = r#"{
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "",
        "name": "GET /",
        "kind": 3,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": 1700000000500000000,
        "attributes": [{"key": "http.request.method", "value": {"stringValue": "GET"}},
                       {"key": "http.response.status_code", "value": {"intValue": "200"}}],
        "status": {"code": 2, "message": "boom"},
        "someFutureField": {"nested": [1, 2, 3]}
    }"#;

    fn request_json(spans: usize) -> String {
        let spans = vec![SPAN_JSON; spans].join(",");
        format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"web"}}}}]}},
                "scopeSpans":[{{"scope":{{"name":"fetch","version":"1"}},"spans":[{spans}],"unknown":1}}]}}],
                "extra":"ignored"}}"#
        )
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn content_types() {
        assert_eq!(
            Format::from_content_type("application/json; charset=utf-8"),
            Some(Format::Json)
        );
        assert_eq!(
            Format::from_content_type("Application/X-Protobuf"),
            Some(Format::Protobuf)
        );
        assert_eq!(Format::from_content_type("text/plain"), None);
        assert_eq!(Format::from_content_type(""), None);
    }

    #[test]
    fn json_decodes_hex_ids_int64_strings_and_numbers_and_ignores_unknown_fields() {
        let request = decode(request_json(2).as_bytes(), Format::Json, 10, usize::MAX).unwrap();
        let span = &request.resource_spans[0].scope_spans[0].spans[1];
        assert_eq!(span.trace_id.len(), 16);
        assert_eq!(
            span.span_id,
            [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]
        );
        assert!(span.parent_span_id.is_empty());
        assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_000_000);
        assert_eq!(span.end_time_unix_nano, 1_700_000_000_500_000_000);
        assert_eq!(span.kind, 3);
        assert_eq!(span.status.as_ref().unwrap().code, 2);
        assert_eq!(span.attributes.len(), 2);
        assert_eq!(
            request.resource_spans[0].scope_spans[0]
                .scope
                .as_ref()
                .unwrap()
                .name,
            "fetch"
        );
    }

    #[test]
    fn json_span_limit_is_exact() {
        assert!(decode(request_json(3).as_bytes(), Format::Json, 3, usize::MAX).is_ok());
        assert_eq!(
            decode(request_json(4).as_bytes(), Format::Json, 3, usize::MAX),
            Err(DecodeError::TooManySpans(3))
        );
        // The budget is per request: a later request on the same thread starts afresh.
        assert!(decode(request_json(3).as_bytes(), Format::Json, 3, usize::MAX).is_ok());
    }

    #[test]
    fn malformed_json_says_where() {
        let Err(DecodeError::Malformed(message)) =
            decode(b"{\"resourceSpans\": [", Format::Json, 10, usize::MAX)
        else {
            panic!("expected a malformed error");
        };
        assert!(message.contains("line 1"), "{message}");
        let enum_name = request_json(1).replace("\"kind\": 3", "\"kind\": \"SPAN_KIND_CLIENT\"");
        assert!(decode(enum_name.as_bytes(), Format::Json, 10, usize::MAX).is_err());
        assert!(decode(b"", Format::Json, 10, usize::MAX).is_err());
    }

    #[test]
    fn protobuf_round_trip_and_span_count() {
        let request = decode(request_json(5).as_bytes(), Format::Json, 10, usize::MAX).unwrap();
        let bytes = request.encode_to_vec();
        assert_eq!(count_protobuf_spans(&bytes), Some(5));
        assert_eq!(
            decode(&bytes, Format::Protobuf, 5, usize::MAX).unwrap(),
            request
        );
        assert_eq!(
            decode(&bytes, Format::Protobuf, 4, usize::MAX),
            Err(DecodeError::TooManySpans(4))
        );
        assert!(
            decode(&[], Format::Protobuf, 4, usize::MAX)
                .unwrap()
                .resource_spans
                .is_empty()
        );
    }

    #[test]
    fn empty_protobuf_spans_are_counted_before_decoding() {
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
            decode(&bytes, Format::Protobuf, 10_000, usize::MAX),
            Err(DecodeError::TooManySpans(10_000))
        );
    }

    #[test]
    fn bodies_of_many_tiny_objects_are_refused_before_decoding() {
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
        assert_eq!(
            decode(&bytes, Format::Protobuf, 10, 100_000),
            Err(DecodeError::TooManyObjects(100_000))
        );
        // Within the limit the same body decodes.
        assert!(decode(&bytes, Format::Protobuf, 10, 200_003).is_ok());

        let json = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"name":"{{not an object}}","links":[{}]}}]}}]}}]}}"#,
            vec!["{}"; 100_000].join(",")
        );
        assert_eq!(count_json_objects(json.as_bytes()), 100_004);
        assert_eq!(
            decode(json.as_bytes(), Format::Json, 10, 50_000),
            Err(DecodeError::TooManyObjects(50_000))
        );
        // A small body is not scanned: it cannot hold more objects than half its bytes.
        assert!(decode(request_json(1).as_bytes(), Format::Json, 10, 1000).is_ok());
    }

    #[test]
    fn json_object_count_skips_strings() {
        assert_eq!(count_json_objects(br#"{"a":"{\"{","b":[{}]}"#), 2);
    }

    #[test]
    fn malformed_protobuf_is_reported() {
        let Err(DecodeError::Malformed(message)) =
            decode(b"{\"json\":1}", Format::Protobuf, 10, usize::MAX)
        else {
            panic!("expected a malformed error");
        };
        assert!(message.starts_with("invalid OTLP protobuf"), "{message}");
        assert_eq!(count_protobuf_spans(&[0x0a, 0x05, 0x12]), None);
    }

    #[test]
    fn gunzip_within_and_beyond_the_limit() {
        let body = request_json(2);
        assert_eq!(
            gunzip(&gzip(body.as_bytes()), 1 << 20).unwrap(),
            body.as_bytes()
        );
        // Two concatenated members are one body.
        let mut two = gzip(b"abc");
        two.extend(gzip(b"def"));
        assert_eq!(gunzip(&two, 6).unwrap(), b"abcdef");
        assert_eq!(gunzip(&two, 5), Err(DecodeError::TooLargeDecompressed(5)));
        assert!(matches!(
            gunzip(b"not gzip", 100),
            Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn gzip_bomb_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 20 << 20]);
        assert!(bomb.len() < 64 << 10);
        let started = std::time::Instant::now();
        assert_eq!(
            gunzip(&bomb, 1 << 20),
            Err(DecodeError::TooLargeDecompressed(1 << 20))
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
