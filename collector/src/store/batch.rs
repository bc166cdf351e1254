//! One request's accepted spans as the writer receives them, and as the write-ahead log
//! keeps them: a byte buffer with every encoding back to back, fixed-size rows that point
//! into it, and each span's search terms. It is built on the request's thread and
//! crosses to the writer as one object (no per-span heap objects cross threads).
//!
//! Its record (what [`Batch::record`] writes and [`Batch::from_record`] reads back) is
//! little-endian: a version byte, four counts (resources, scopes, spans, terms, `u32`),
//! the resource rows, scope rows, span rows and terms, then the buffer. Reading checks
//! every length and offset, so a damaged record is an error, never a panic.

use std::ops::Range;

use collector_decode::encode;
use collector_decode::model::{Resource, Scope, Span, Value};

use super::segment::format::Reader;
use super::terms;

/// The service name of a resource without a `service.name` string attribute, as the
/// OpenTelemetry SDKs name it.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// The record layout's version.
const RECORD_VERSION: u8 = 1;

/// A byte range inside [`Batch`]'s buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slice {
    start: u32,
    end: u32,
}

impl Slice {
    fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A resource (or scope) of the batch: the protobuf encoding of a `ResourceSpans` (or
/// `ScopeSpans`) that holds it and its schema URL but no children, and for a resource its
/// service name and the terms of its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    body: Slice,
    service: Slice,
    terms: Slice,
}

/// One accepted span: its indexed fields, and where its encoding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Whether its status code is ERROR.
    pub error: bool,
    /// Index into the batch's resources.
    pub resource: u32,
    /// Index into the batch's scopes.
    pub scope: u32,
    name: Slice,
    body: Slice,
    terms: Slice,
}

/// The accepted spans of one export request, with their resources and scopes.
#[derive(Debug, Default, PartialEq)]
pub struct Batch {
    bytes: Vec<u8>,
    resources: Vec<Part>,
    scopes: Vec<Part>,
    spans: Vec<SpanRow>,
    terms: Vec<u64>,
}

impl Batch {
    /// An empty batch with room for about `bytes` bytes of encodings and `spans` spans.
    pub fn with_capacity(bytes: usize, spans: usize) -> Self {
        Batch {
            bytes: Vec::with_capacity(bytes),
            spans: Vec::with_capacity(spans),
            terms: Vec::with_capacity(spans * 12),
            ..Batch::default()
        }
    }

    /// Adds a resource and its schema URL; returns its index for [`Batch::add_span`].
    pub fn add_resource(&mut self, resource: Option<&Resource<'_>>, schema_url: &str) -> u32 {
        let service = resource
            .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                Value::String(name) if !name.is_empty() => Some(&**name),
                _ => None,
            })
            .unwrap_or(UNKNOWN_SERVICE);
        let body = self.append(|buf| encode::resource_spans_header(resource, schema_url, buf));
        let service_slice = self.append(|buf| buf.extend_from_slice(service.as_bytes()));
        let first = self.terms.len();
        self.terms.push(terms::service(service));
        if let Some(resource) = resource {
            terms::of_attributes(&resource.attributes, &mut self.terms);
        }
        let terms = self.term_slice(first);
        self.resources.push(Part {
            body,
            service: service_slice,
            terms,
        });
        self.resources.len() as u32 - 1
    }

    /// Adds an instrumentation scope and its schema URL; returns its index.
    pub fn add_scope(&mut self, scope: Option<&Scope<'_>>, schema_url: &str) -> u32 {
        let body = self.append(|buf| encode::scope_spans_header(scope, schema_url, buf));
        self.scopes.push(Part {
            body,
            service: Slice::default(),
            terms: Slice::default(),
        });
        self.scopes.len() as u32 - 1
    }

    /// Adds a span that passed validation (IDs of the right lengths, times that fit
    /// `i64`), under resource and scope indexes returned by this batch.
    pub fn add_span(&mut self, resource: u32, scope: u32, span: &Span<'_>) {
        let name = self.append(|buf| buf.extend_from_slice(span.name.as_bytes()));
        let body = self.append(|buf| encode::span(span, buf));
        let error = span.status.as_ref().is_some_and(|s| s.code == 2);
        let first = self.terms.len();
        self.terms.push(terms::name(&span.name));
        if error {
            self.terms.push(terms::error());
        }
        terms::of_attributes(&span.attributes, &mut self.terms);
        let terms = self.term_slice(first);
        self.spans.push(SpanRow {
            trace_id: span.trace_id.as_bytes().try_into().unwrap_or_default(),
            span_id: span.span_id.as_bytes().try_into().unwrap_or_default(),
            parent_span_id: span.parent_span_id.as_bytes().try_into().ok(),
            start: i64::try_from(span.start_time_unix_nano).unwrap_or(i64::MAX),
            end: i64::try_from(span.end_time_unix_nano).unwrap_or(i64::MAX),
            error,
            resource,
            scope,
            name,
            body,
            terms,
        });
    }

    /// Runs `write` on the buffer and returns the range it appended.
    fn append(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> Slice {
        let start = self.bytes.len() as u32;
        write(&mut self.bytes);
        Slice {
            start,
            end: self.bytes.len() as u32,
        }
    }

    fn term_slice(&self, first: usize) -> Slice {
        Slice {
            start: first as u32,
            end: self.terms.len() as u32,
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

    /// The service name of a span's resource.
    pub fn service_of_span(&self, span: &SpanRow) -> &str {
        self.service_of(&self.resources[span.resource as usize])
    }

    /// The name of a span.
    pub fn name_of(&self, span: &SpanRow) -> &str {
        std::str::from_utf8(&self.bytes[span.name.range()]).unwrap_or_default()
    }

    /// The protobuf encoding of a span.
    pub fn span_body(&self, span: &SpanRow) -> &[u8] {
        &self.bytes[span.body.range()]
    }

    /// The span's own terms (name, error, attributes).
    pub fn span_terms(&self, span: &SpanRow) -> &[u64] {
        &self.terms[span.terms.range()]
    }

    /// The terms of a span's resource (service, resource attributes).
    pub fn resource_terms(&self, span: &SpanRow) -> &[u64] {
        &self.terms[self.resources[span.resource as usize].terms.range()]
    }

    /// Whether the span carries every term of `wanted` (its own or its resource's).
    pub fn has_terms(&self, span: &SpanRow, wanted: &[u64]) -> bool {
        let (own, resource) = (self.span_terms(span), self.resource_terms(span));
        wanted
            .iter()
            .all(|term| own.contains(term) || resource.contains(term))
    }

    /// Bytes this batch holds in memory (for the head's size).
    pub fn memory(&self) -> usize {
        self.bytes.len()
            + self.spans.len() * size_of::<SpanRow>()
            + (self.resources.len() + self.scopes.len()) * size_of::<Part>()
            + self.terms.len() * 8
    }

    /// Appends the batch's record (the write-ahead log's payload) to `out`.
    pub fn record(&self, out: &mut Vec<u8>) {
        out.push(RECORD_VERSION);
        for count in [
            self.resources.len(),
            self.scopes.len(),
            self.spans.len(),
            self.terms.len(),
        ] {
            put_u32(out, count as u32);
        }
        for part in self.resources.iter().chain(&self.scopes) {
            for slice in [part.body, part.service, part.terms] {
                put_slice(out, slice);
            }
        }
        for span in &self.spans {
            out.extend_from_slice(&span.trace_id);
            out.extend_from_slice(&span.span_id);
            out.extend_from_slice(&span.parent_span_id.unwrap_or_default());
            out.push(u8::from(span.parent_span_id.is_some()) | (u8::from(span.error) << 1));
            out.extend_from_slice(&span.start.to_le_bytes());
            out.extend_from_slice(&span.end.to_le_bytes());
            put_u32(out, span.resource);
            put_u32(out, span.scope);
            for slice in [span.name, span.body, span.terms] {
                put_slice(out, slice);
            }
        }
        for term in &self.terms {
            out.extend_from_slice(&term.to_le_bytes());
        }
        out.extend_from_slice(&self.bytes);
    }

    /// Reads a record written by [`Batch::record`]; an error says what is wrong with it.
    pub fn from_record(record: &[u8]) -> Result<Batch, String> {
        let mut r = Reader::new(record);
        let version = r.u8()?;
        if version != RECORD_VERSION {
            return Err(format!("unknown record version {version}"));
        }
        let [resources, scopes, spans, terms] = [r.u32()?, r.u32()?, r.u32()?, r.u32()?];
        // Each row takes at least 24 bytes: a count beyond the record is damage, and
        // must not make us reserve memory for it.
        if (resources as usize + scopes as usize + spans as usize) * 24 + terms as usize * 8
            > record.len()
        {
            return Err("counts larger than the record".into());
        }
        let part = |r: &mut Reader<'_>| -> Result<Part, String> {
            Ok(Part {
                body: read_slice(r)?,
                service: read_slice(r)?,
                terms: read_slice(r)?,
            })
        };
        let resources = (0..resources)
            .map(|_| part(&mut r))
            .collect::<Result<Vec<_>, _>>()?;
        let scopes = (0..scopes)
            .map(|_| part(&mut r))
            .collect::<Result<Vec<_>, _>>()?;
        let mut rows = Vec::with_capacity(spans as usize);
        for _ in 0..spans {
            let trace_id = r.array::<16>()?;
            let span_id = r.array::<8>()?;
            let parent = r.array::<8>()?;
            let flags = r.u8()?;
            rows.push(SpanRow {
                trace_id,
                span_id,
                parent_span_id: (flags & 1 != 0).then_some(parent),
                error: flags & 2 != 0,
                start: i64::from_le_bytes(r.array()?),
                end: i64::from_le_bytes(r.array()?),
                resource: r.u32()?,
                scope: r.u32()?,
                name: read_slice(&mut r)?,
                body: read_slice(&mut r)?,
                terms: read_slice(&mut r)?,
            });
        }
        let terms = (0..terms)
            .map(|_| r.array().map(u64::from_le_bytes))
            .collect::<Result<Vec<_>, _>>()?;
        let batch = Batch {
            bytes: r.rest().to_vec(),
            resources,
            scopes,
            spans: rows,
            terms,
        };
        batch.check()?;
        Ok(batch)
    }

    /// Checks that every row points inside the batch.
    fn check(&self) -> Result<(), String> {
        let bytes = self.bytes.len();
        let terms = self.terms.len();
        let fits = |s: Slice, len: usize| s.start <= s.end && s.end as usize <= len;
        for part in self.resources.iter().chain(&self.scopes) {
            if !fits(part.body, bytes) || !fits(part.service, bytes) || !fits(part.terms, terms) {
                return Err("a resource or scope points outside the record".into());
            }
        }
        for span in &self.spans {
            if !fits(span.name, bytes)
                || !fits(span.body, bytes)
                || !fits(span.terms, terms)
                || span.resource as usize >= self.resources.len()
                || span.scope as usize >= self.scopes.len()
            {
                return Err("a span points outside the record".into());
            }
        }
        Ok(())
    }
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_slice(out: &mut Vec<u8>, slice: Slice) {
    put_u32(out, slice.start);
    put_u32(out, slice.end);
}

/// A [`Slice`]: start and end, each a `u32`.
fn read_slice(r: &mut Reader<'_>) -> Result<Slice, String> {
    Ok(Slice {
        start: r.u32()?,
        end: r.u32()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use collector_decode::model::{AnyValue, Id, KeyValue, Status};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
    use prost::Message;

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

    fn sample() -> (Batch, Span<'static>) {
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
            status: Some(Status {
                code: 2,
                ..Status::default()
            }),
            ..Span::default()
        };
        batch.add_span(r, s, &span);
        (batch, span)
    }

    #[test]
    fn rows_point_at_their_encodings() {
        let (batch, span) = sample();
        let row = batch.spans()[0];
        assert_eq!(row.parent_span_id, None);
        assert_eq!(row.trace_id, [1; 16]);
        assert_eq!((row.start, row.end, row.error), (5, 7, true));
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
        assert!(batch.has_terms(
            &row,
            &[
                terms::service("shop"),
                terms::name("GET /"),
                terms::error(),
                terms::attribute("service.name", "shop")
            ]
        ));
        assert!(!batch.has_terms(&row, &[terms::name("GET")]));
    }

    #[test]
    fn a_resource_without_a_service_name() {
        let mut batch = Batch::default();
        batch.add_resource(None, "");
        assert_eq!(batch.service_of(&batch.resources()[0]), UNKNOWN_SERVICE);
    }

    #[test]
    fn records_read_back_and_damage_is_an_error() {
        let (batch, _) = sample();
        let mut record = Vec::new();
        batch.record(&mut record);
        assert_eq!(Batch::from_record(&record).unwrap(), batch);
        for cut in 0..record.len() {
            assert!(Batch::from_record(&record[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = record.clone();
        bad[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Batch::from_record(&bad).is_err());
        // Every single-byte change reads back or fails: never a panic.
        for at in 0..record.len() {
            let mut changed = record.clone();
            changed[at] ^= 0xff;
            let _ = Batch::from_record(&changed);
        }
    }
}
