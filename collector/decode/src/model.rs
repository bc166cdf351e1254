//! An export request as the collector reads it: the OTLP trace or logs messages with their
//! strings borrowed from the body where they can be (a JSON string without escapes, any
//! protobuf string), so that decoding allocates one `Vec` per list and nothing per field.
//!
//! Field for field these are `ExportTraceServiceRequest` ([`Request`]) and
//! `ExportLogsServiceRequest` ([`LogsRequest`]) of opentelemetry-proto, less what no
//! receiver of them uses: `Resource.entity_refs` (in development) and the profiles-only
//! `KeyValue.key_strindex` and `AnyValue.string_value_strindex`. `to_proto` converts them
//! back to opentelemetry-proto's messages, which the tests compare with (the collector
//! encodes with [`crate::encode`]).

use std::borrow::Cow;

use opentelemetry_proto::tonic::collector::logs::v1 as logs_collector;
use opentelemetry_proto::tonic::collector::trace::v1 as collector;
use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::logs::v1 as logs;
use opentelemetry_proto::tonic::resource::v1 as resource;
use opentelemetry_proto::tonic::trace::v1 as trace;

/// Deepest nesting of `arrayValue`/`kvlistValue` inside an attribute value or a log
/// record's body; deeper requests are refused as malformed. Decoding and validating
/// recurse, and a stored span or log record must decode again with prost, whose recursion limit is 100 messages: a `kvlistValue`
/// level is three (`AnyValue`, `KeyValueList`, `KeyValue`), so 16 levels stay well within.
pub const MAX_VALUE_DEPTH: usize = 16;

/// A string of the request, borrowed from the body where it can be.
pub type Str<'a> = Cow<'a, str>;

/// `ExportTraceServiceRequest`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request<'a> {
    /// The spans, grouped by resource.
    pub resource_spans: Vec<ResourceSpans<'a>>,
}

/// `ResourceSpans`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceSpans<'a> {
    /// What produced the spans.
    pub resource: Option<Resource<'a>>,
    /// The spans, grouped by instrumentation scope.
    pub scope_spans: Vec<ScopeSpans<'a>>,
    /// The resource's schema URL.
    pub schema_url: Str<'a>,
}

/// `Resource`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resource<'a> {
    /// Its attributes (`service.name`, ...).
    pub attributes: Vec<KeyValue<'a>>,
    /// Attributes the sender dropped.
    pub dropped_attributes_count: u32,
}

/// `ScopeSpans`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScopeSpans<'a> {
    /// The instrumentation scope.
    pub scope: Option<Scope<'a>>,
    /// The spans.
    pub spans: Vec<Span<'a>>,
    /// The scope's schema URL.
    pub schema_url: Str<'a>,
}

/// `InstrumentationScope`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope<'a> {
    /// The instrumentation library's name.
    pub name: Str<'a>,
    /// Its version.
    pub version: Str<'a>,
    /// Its attributes.
    pub attributes: Vec<KeyValue<'a>>,
    /// Attributes the sender dropped.
    pub dropped_attributes_count: u32,
}

/// A trace or span ID as received: its length, and its bytes if it has at most 16 (a
/// longer one is invalid and only its length matters).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Id {
    len: usize,
    bytes: [u8; 16],
}

impl Id {
    /// The ID of `bytes` (only the first 16 are kept).
    pub fn new(bytes: &[u8]) -> Id {
        let mut id = Id {
            len: bytes.len(),
            bytes: [0; 16],
        };
        let kept = bytes.len().min(16);
        id.bytes[..kept].copy_from_slice(&bytes[..kept]);
        id
    }

    /// The ID of `len` bytes whose first 16 (at most) are `bytes`.
    pub(crate) fn from_parts(bytes: [u8; 16], len: usize) -> Id {
        Id { len, bytes }
    }

    /// Its length in bytes as received (0: absent).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is absent (empty).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Its bytes (the first 16 of a longer one).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len.min(16)]
    }
}

impl std::fmt::Debug for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in self.as_bytes() {
            write!(f, "{byte:02x}")?;
        }
        if self.len > 16 {
            write!(f, "... ({} bytes)", self.len)?;
        }
        Ok(())
    }
}

/// `Span`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span<'a> {
    /// 16 bytes.
    pub trace_id: Id,
    /// 8 bytes.
    pub span_id: Id,
    /// W3C `tracestate`.
    pub trace_state: Str<'a>,
    /// 8 bytes, or empty for a root span.
    pub parent_span_id: Id,
    /// W3C trace flags and the parent-is-remote bits.
    pub flags: u32,
    /// The operation's name.
    pub name: Str<'a>,
    /// `SpanKind` as its number.
    pub kind: i32,
    /// Unix nanoseconds.
    pub start_time_unix_nano: u64,
    /// Unix nanoseconds.
    pub end_time_unix_nano: u64,
    /// Its attributes.
    pub attributes: Vec<KeyValue<'a>>,
    /// Attributes the sender dropped.
    pub dropped_attributes_count: u32,
    /// Timed events.
    pub events: Vec<Event<'a>>,
    /// Events the sender dropped.
    pub dropped_events_count: u32,
    /// Links to other spans.
    pub links: Vec<Link<'a>>,
    /// Links the sender dropped.
    pub dropped_links_count: u32,
    /// Its status.
    pub status: Option<Status<'a>>,
}

/// `Span.Event`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Event<'a> {
    /// Unix nanoseconds.
    pub time_unix_nano: u64,
    /// Its name (`exception`, ...).
    pub name: Str<'a>,
    /// Its attributes.
    pub attributes: Vec<KeyValue<'a>>,
    /// Attributes the sender dropped.
    pub dropped_attributes_count: u32,
}

/// `Span.Link`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Link<'a> {
    /// The linked span's trace.
    pub trace_id: Id,
    /// The linked span.
    pub span_id: Id,
    /// Its `tracestate`.
    pub trace_state: Str<'a>,
    /// The link's attributes.
    pub attributes: Vec<KeyValue<'a>>,
    /// Attributes the sender dropped.
    pub dropped_attributes_count: u32,
    /// Trace flags.
    pub flags: u32,
}

/// `Status`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status<'a> {
    /// A developer-facing message.
    pub message: Str<'a>,
    /// `StatusCode` as its number.
    pub code: i32,
}

/// `KeyValue`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyValue<'a> {
    /// The attribute's key.
    pub key: Str<'a>,
    /// Its value (`None`: absent).
    pub value: Option<AnyValue<'a>>,
}

/// `AnyValue`: a value that may be empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnyValue<'a> {
    /// The value (`None`: an empty `AnyValue`).
    pub value: Option<Value<'a>>,
}

/// `AnyValue.value`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// `stringValue`.
    String(Str<'a>),
    /// `boolValue`.
    Bool(bool),
    /// `intValue`.
    Int(i64),
    /// `doubleValue`.
    Double(f64),
    /// `arrayValue`.
    Array(Vec<AnyValue<'a>>),
    /// `kvlistValue`.
    Kvlist(Vec<KeyValue<'a>>),
    /// `bytesValue`.
    Bytes(Cow<'a, [u8]>),
}

impl Request<'_> {
    /// The same request as opentelemetry-proto's messages (what prost encodes).
    pub fn to_proto(&self) -> collector::ExportTraceServiceRequest {
        collector::ExportTraceServiceRequest {
            resource_spans: self
                .resource_spans
                .iter()
                .map(|rs| trace::ResourceSpans {
                    resource: rs.resource.as_ref().map(Resource::to_proto),
                    scope_spans: rs
                        .scope_spans
                        .iter()
                        .map(|ss| trace::ScopeSpans {
                            scope: ss.scope.as_ref().map(Scope::to_proto),
                            spans: ss.spans.iter().map(Span::to_proto).collect(),
                            schema_url: ss.schema_url.to_string(),
                        })
                        .collect(),
                    schema_url: rs.schema_url.to_string(),
                })
                .collect(),
        }
    }
}

impl Resource<'_> {
    /// As opentelemetry-proto's message.
    pub fn to_proto(&self) -> resource::Resource {
        resource::Resource {
            attributes: attributes_to_proto(&self.attributes),
            dropped_attributes_count: self.dropped_attributes_count,
            entity_refs: Vec::new(),
        }
    }
}

impl Scope<'_> {
    /// As opentelemetry-proto's message.
    pub fn to_proto(&self) -> common::InstrumentationScope {
        common::InstrumentationScope {
            name: self.name.to_string(),
            version: self.version.to_string(),
            attributes: attributes_to_proto(&self.attributes),
            dropped_attributes_count: self.dropped_attributes_count,
        }
    }
}

impl Span<'_> {
    /// As opentelemetry-proto's message.
    pub fn to_proto(&self) -> trace::Span {
        trace::Span {
            trace_id: self.trace_id.as_bytes().to_vec(),
            span_id: self.span_id.as_bytes().to_vec(),
            trace_state: self.trace_state.to_string(),
            parent_span_id: self.parent_span_id.as_bytes().to_vec(),
            flags: self.flags,
            name: self.name.to_string(),
            kind: self.kind,
            start_time_unix_nano: self.start_time_unix_nano,
            end_time_unix_nano: self.end_time_unix_nano,
            attributes: attributes_to_proto(&self.attributes),
            dropped_attributes_count: self.dropped_attributes_count,
            events: self
                .events
                .iter()
                .map(|e| trace::span::Event {
                    time_unix_nano: e.time_unix_nano,
                    name: e.name.to_string(),
                    attributes: attributes_to_proto(&e.attributes),
                    dropped_attributes_count: e.dropped_attributes_count,
                })
                .collect(),
            dropped_events_count: self.dropped_events_count,
            links: self
                .links
                .iter()
                .map(|l| trace::span::Link {
                    trace_id: l.trace_id.as_bytes().to_vec(),
                    span_id: l.span_id.as_bytes().to_vec(),
                    trace_state: l.trace_state.to_string(),
                    attributes: attributes_to_proto(&l.attributes),
                    dropped_attributes_count: l.dropped_attributes_count,
                    flags: l.flags,
                })
                .collect(),
            dropped_links_count: self.dropped_links_count,
            status: self.status.as_ref().map(|s| trace::Status {
                message: s.message.to_string(),
                code: s.code,
            }),
        }
    }
}

/// Attributes as opentelemetry-proto's messages.
pub fn attributes_to_proto(attributes: &[KeyValue<'_>]) -> Vec<common::KeyValue> {
    attributes
        .iter()
        .map(|kv| common::KeyValue {
            key: kv.key.to_string(),
            value: kv.value.as_ref().map(any_to_proto),
            key_strindex: 0,
        })
        .collect()
}

fn any_to_proto(value: &AnyValue<'_>) -> common::AnyValue {
    use common::any_value::Value as P;
    common::AnyValue {
        value: value.value.as_ref().map(|v| match v {
            Value::String(s) => P::StringValue(s.to_string()),
            Value::Bool(b) => P::BoolValue(*b),
            Value::Int(i) => P::IntValue(*i),
            Value::Double(d) => P::DoubleValue(*d),
            Value::Bytes(b) => P::BytesValue(b.to_vec()),
            Value::Array(values) => P::ArrayValue(common::ArrayValue {
                values: values.iter().map(any_to_proto).collect(),
            }),
            Value::Kvlist(values) => P::KvlistValue(common::KeyValueList {
                values: attributes_to_proto(values),
            }),
        }),
    }
}

/// `ExportLogsServiceRequest`: log records, grouped like spans by resource and scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogsRequest<'a> {
    /// The log records, grouped by resource.
    pub resource_logs: Vec<ResourceLogs<'a>>,
}

/// `ResourceLogs`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceLogs<'a> {
    /// What produced the records.
    pub resource: Option<Resource<'a>>,
    /// The records, grouped by instrumentation scope.
    pub scope_logs: Vec<ScopeLogs<'a>>,
    /// The resource's schema URL.
    pub schema_url: Str<'a>,
}

/// `ScopeLogs`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScopeLogs<'a> {
    /// The instrumentation scope.
    pub scope: Option<Scope<'a>>,
    /// The records.
    pub log_records: Vec<LogRecord<'a>>,
    /// The scope's schema URL.
    pub schema_url: Str<'a>,
}

/// `LogRecord`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRecord<'a> {
    /// When the event happened, Unix nanoseconds (0: unknown).
    pub time_unix_nano: u64,
    /// When the sender's logging pipeline saw it, Unix nanoseconds (0: unknown).
    pub observed_time_unix_nano: u64,
    /// `SeverityNumber` as its number (0: unspecified, 1-24 from TRACE to FATAL4).
    pub severity_number: i32,
    /// The severity as the source called it (`error`, `warn`, ...).
    pub severity_text: Str<'a>,
    /// The message, any value.
    pub body: Option<AnyValue<'a>>,
    /// Its attributes.
    pub attributes: Vec<KeyValue<'a>>,
    /// Attributes the sender dropped.
    pub dropped_attributes_count: u32,
    /// W3C trace flags of the span it belongs to.
    pub flags: u32,
    /// The trace it belongs to: 16 bytes, or empty.
    pub trace_id: Id,
    /// The span it belongs to: 8 bytes, or empty.
    pub span_id: Id,
    /// The name of the event it describes, or empty.
    pub event_name: Str<'a>,
}

impl LogsRequest<'_> {
    /// The same request as opentelemetry-proto's messages (what prost encodes).
    pub fn to_proto(&self) -> logs_collector::ExportLogsServiceRequest {
        logs_collector::ExportLogsServiceRequest {
            resource_logs: self
                .resource_logs
                .iter()
                .map(|rl| logs::ResourceLogs {
                    resource: rl.resource.as_ref().map(Resource::to_proto),
                    scope_logs: rl
                        .scope_logs
                        .iter()
                        .map(|sl| logs::ScopeLogs {
                            scope: sl.scope.as_ref().map(Scope::to_proto),
                            log_records: sl.log_records.iter().map(LogRecord::to_proto).collect(),
                            schema_url: sl.schema_url.to_string(),
                        })
                        .collect(),
                    schema_url: rl.schema_url.to_string(),
                })
                .collect(),
        }
    }
}

impl LogRecord<'_> {
    /// As opentelemetry-proto's message.
    pub fn to_proto(&self) -> logs::LogRecord {
        logs::LogRecord {
            time_unix_nano: self.time_unix_nano,
            observed_time_unix_nano: self.observed_time_unix_nano,
            severity_number: self.severity_number,
            severity_text: self.severity_text.to_string(),
            body: self.body.as_ref().map(any_to_proto),
            attributes: attributes_to_proto(&self.attributes),
            dropped_attributes_count: self.dropped_attributes_count,
            flags: self.flags,
            trace_id: self.trace_id.as_bytes().to_vec(),
            span_id: self.span_id.as_bytes().to_vec(),
            event_name: self.event_name.to_string(),
        }
    }
}
