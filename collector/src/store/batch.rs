//! One request's accepted spans as the writer receives them: a single byte buffer with
//! every encoding back to back, and fixed-size rows that point into it (no per-span heap
//! objects cross the thread boundary).

use std::ops::Range;

use collector_decode::model::{Resource, Scope, Span, Value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use prost::Message;
use sha2::{Digest, Sha256};

/// The service name of a resource without a `service.name` string attribute, as the
/// OpenTelemetry SDKs name it.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// A byte range inside [`Batch::bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    start: usize,
    end: usize,
}

impl Slice {
    fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

/// A resource (or scope) of the batch: the content hash and protobuf encoding of a
/// `ResourceSpans` (or `ScopeSpans`) that holds it and its schema URL but no children.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    /// SHA-256 of the encoding: the key that deduplicates it in the store.
    pub hash: [u8; 32],
    body: Slice,
    /// The `service.name` of a resource (empty range for scopes).
    service: Slice,
}

/// One accepted span: its indexed fields, and where its encoding is.
#[derive(Debug, Clone, Copy)]
pub struct SpanRow {
    /// The trace ID.
    pub trace_id: [u8; 16],
    /// The span ID.
    pub span_id: [u8; 8],
    /// The parent span ID; `None` for a root span.
    pub parent_span_id: Option<[u8; 8]>,
    /// Start time, Unix nanoseconds (validated to fit).
    pub start: i64,
    /// End time, Unix nanoseconds.
    pub end: i64,
    /// `Status.code` (0 unset, 1 ok, 2 error).
    pub status_code: i32,
    /// Index into the batch's resources.
    pub resource: usize,
    /// Index into the batch's scopes.
    pub scope: usize,
    name: Slice,
    body: Slice,
}

/// The accepted spans of one export request, with their resources and scopes.
#[derive(Debug, Default)]
pub struct Batch {
    bytes: Vec<u8>,
    resources: Vec<Part>,
    scopes: Vec<Part>,
    spans: Vec<SpanRow>,
}

impl Batch {
    /// An empty batch with room for about `bytes` bytes of encodings.
    pub fn with_capacity(bytes: usize, spans: usize) -> Self {
        Batch {
            bytes: Vec::with_capacity(bytes),
            spans: Vec::with_capacity(spans),
            ..Batch::default()
        }
    }

    /// Adds a resource and its schema URL; returns its index for [`Batch::add_span`].
    pub fn add_resource(&mut self, resource: Option<&Resource<'_>>, schema_url: &str) -> usize {
        let service = resource
            .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                Value::String(name) if !name.is_empty() => Some(&**name),
                _ => None,
            })
            .unwrap_or(UNKNOWN_SERVICE);
        let holder = ResourceSpans {
            resource: resource.map(Resource::to_proto),
            scope_spans: Vec::new(),
            schema_url: schema_url.to_owned(),
        };
        let body = self.append(|buf| holder.encode_raw(buf));
        let service = self.append(|buf| buf.extend_from_slice(service.as_bytes()));
        let hash = Sha256::digest(&self.bytes[body.range()]).into();
        self.resources.push(Part {
            hash,
            body,
            service,
        });
        self.resources.len() - 1
    }

    /// Adds an instrumentation scope and its schema URL; returns its index.
    pub fn add_scope(&mut self, scope: Option<&Scope<'_>>, schema_url: &str) -> usize {
        let holder = ScopeSpans {
            scope: scope.map(Scope::to_proto),
            spans: Vec::new(),
            schema_url: schema_url.to_owned(),
        };
        let body = self.append(|buf| holder.encode_raw(buf));
        let hash = Sha256::digest(&self.bytes[body.range()]).into();
        let empty = Slice {
            start: body.end,
            end: body.end,
        };
        self.scopes.push(Part {
            hash,
            body,
            service: empty,
        });
        self.scopes.len() - 1
    }

    /// Adds a span that passed validation (IDs of the right lengths, times that fit
    /// `i64`), under resource and scope indexes returned by this batch.
    /// (The span is encoded through opentelemetry-proto's message: its own record format
    /// comes with the span store.)
    pub fn add_span(&mut self, resource: usize, scope: usize, span: &Span<'_>) {
        let name = self.append(|buf| buf.extend_from_slice(span.name.as_bytes()));
        let body = self.append(|buf| span.to_proto().encode_raw(buf));
        self.spans.push(SpanRow {
            trace_id: span.trace_id.as_bytes().try_into().unwrap_or_default(),
            span_id: span.span_id.as_bytes().try_into().unwrap_or_default(),
            parent_span_id: span.parent_span_id.as_bytes().try_into().ok(),
            start: i64::try_from(span.start_time_unix_nano).unwrap_or(i64::MAX),
            end: i64::try_from(span.end_time_unix_nano).unwrap_or(i64::MAX),
            status_code: span.status.as_ref().map_or(0, |s| s.code),
            resource,
            scope,
            name,
            body,
        });
    }

    /// Runs `write` on the buffer and returns the range it appended. (Messages are
    /// written with `encode_raw`, which needs room only a `Vec` always makes.)
    fn append(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Slice {
        let start = self.bytes.len();
        write(&mut self.bytes);
        Slice {
            start,
            end: self.bytes.len(),
        }
    }

    /// The number of spans.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the batch holds no span.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The spans.
    pub fn spans(&self) -> &[SpanRow] {
        &self.spans
    }

    /// The resources.
    pub fn resources(&self) -> &[Part] {
        &self.resources
    }

    /// The scopes.
    pub fn scopes(&self) -> &[Part] {
        &self.scopes
    }

    /// The encoding of a resource or scope (a childless `ResourceSpans`/`ScopeSpans`).
    pub fn body_of(&self, part: &Part) -> &[u8] {
        &self.bytes[part.body.range()]
    }

    /// The service name of a resource.
    pub fn service_of(&self, resource: &Part) -> &str {
        std::str::from_utf8(&self.bytes[resource.service.range()]).unwrap_or(UNKNOWN_SERVICE)
    }

    /// The name of a span.
    pub fn name_of(&self, span: &SpanRow) -> &str {
        std::str::from_utf8(&self.bytes[span.name.range()]).unwrap_or_default()
    }

    /// The protobuf encoding of a span.
    pub fn span_body(&self, span: &SpanRow) -> &[u8] {
        &self.bytes[span.body.range()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use collector_decode::model::{AnyValue, Id, KeyValue};

    fn resource(service: &str) -> Resource<'_> {
        Resource {
            attributes: vec![KeyValue {
                key: "service.name".into(),
                value: Some(AnyValue {
                    value: Some(Value::String(service.into())),
                }),
            }],
            ..Resource::default()
        }
    }

    #[test]
    fn rows_point_at_their_encodings() {
        let mut batch = Batch::default();
        let r = batch.add_resource(Some(&resource("shop")), "https://schema");
        let s = batch.add_scope(
            Some(&Scope {
                name: "fetch".into(),
                ..Scope::default()
            }),
            "",
        );
        let span = Span {
            trace_id: Id::new(&[1; 16]),
            span_id: Id::new(&[2; 8]),
            name: "GET /".into(),
            start_time_unix_nano: 5,
            end_time_unix_nano: 7,
            ..Span::default()
        };
        batch.add_span(r, s, &span);
        let row = batch.spans()[0];
        assert_eq!(row.parent_span_id, None);
        assert_eq!(row.trace_id, [1; 16]);
        assert_eq!((row.start, row.end), (5, 7));
        assert_eq!(batch.name_of(&row), "GET /");
        assert_eq!(
            opentelemetry_proto::tonic::trace::v1::Span::decode(batch.span_body(&row)).unwrap(),
            span.to_proto()
        );
        let part = batch.resources()[0];
        assert_eq!(batch.service_of(&part), "shop");
        let decoded = ResourceSpans::decode(batch.body_of(&part)).unwrap();
        assert_eq!(decoded.schema_url, "https://schema");
        let scope = ScopeSpans::decode(batch.body_of(&batch.scopes()[0])).unwrap();
        assert_eq!(scope.scope.unwrap().name, "fetch");
    }

    #[test]
    fn same_content_same_hash_and_a_default_service() {
        let mut batch = Batch::default();
        batch.add_resource(Some(&resource("a")), "");
        batch.add_resource(Some(&resource("a")), "");
        batch.add_resource(None, "");
        let parts = batch.resources();
        assert_eq!(parts[0].hash, parts[1].hash);
        assert_ne!(parts[0].hash, parts[2].hash);
        assert_eq!(batch.service_of(&parts[2]), UNKNOWN_SERVICE);
    }
}
