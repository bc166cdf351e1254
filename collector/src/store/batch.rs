//! One request's accepted spans or log records as the writer receives them, and as the
//! write-ahead log keeps them: a byte buffer with every encoding back to back, fixed-size
//! rows that point into it, and each span's search terms. It is built on the request's
//! thread and crosses to the writer as one object (no per-item heap objects cross
//! threads).
//!
//! Its record (what [`Batch::record`] writes and [`Batch::from_record`] reads back) is
//! little-endian: a version byte, five counts (resources, scopes, spans, terms, log
//! records, `u32`), the resource rows, scope rows, span rows, log rows and terms, then the
//! buffer. Version 1 (before logs) had no log count and no log rows, and still reads.
//! Reading checks every length and offset, so a damaged record is an error, never a
//! panic.

use std::ops::Range;

use collector_decode::encode;
use collector_decode::model::{AnyValue, LogRecord, Resource, Scope, Span, Value};
use xxhash_rust::xxh3::xxh3_64;

use super::segment::format::Reader;
use super::terms;

/// The service name of a resource without a `service.name` string attribute, as the
/// OpenTelemetry SDKs name it.
pub const UNKNOWN_SERVICE: &str = "unknown_service";

/// The record layout's version: 2 added log records.
const RECORD_VERSION: u8 = 2;

/// The record layout before log records, still read (logs of collectors before them).
const RECORD_VERSION_SPANS_ONLY: u8 = 1;

/// The attribute that names a browser session (on a span, a log record or a resource).
pub const SESSION_ID: &str = "session.id";

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
/// `ScopeSpans`; `ResourceLogs` and `ScopeLogs` have the same fields and tags) that holds
/// it and its schema URL but no children, and for a resource its service name, the terms
/// of its attributes and the term of its `session.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    body: Slice,
    service: Slice,
    terms: Slice,
    session: Option<u64>,
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

/// One accepted log record: its indexed fields, and where its encoding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRow {
    /// The trace it belongs to, if any.
    pub trace_id: Option<[u8; 16]>,
    /// The span it belongs to, if any (only with a trace).
    pub span_id: Option<[u8; 8]>,
    /// When it happened, Unix nanoseconds: its `timeUnixNano`, else its observed time.
    pub time: i64,
    /// Its `SeverityNumber` (0 unspecified, 1-24).
    pub severity: u8,
    /// The term of its `session.id` (the record's, else its resource's), if any.
    pub session: Option<u64>,
    /// What makes two records the same one sent twice: a hash of its trace and span IDs,
    /// time and body.
    pub identity: u64,
    /// Index into the batch's resources.
    pub resource: u32,
    /// Index into the batch's scopes.
    pub scope: u32,
    body: Slice,
}

/// The accepted spans or log records of one export request, with their resources and
/// scopes.
#[derive(Debug, Default, PartialEq)]
pub struct Batch {
    bytes: Vec<u8>,
    resources: Vec<Part>,
    scopes: Vec<Part>,
    spans: Vec<SpanRow>,
    logs: Vec<LogRow>,
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

    /// An empty batch with room for about `bytes` bytes of encodings and `records` log
    /// records (the head keeps a batch as it is: no room reserved for spans).
    pub fn with_log_capacity(bytes: usize, records: usize) -> Self {
        Batch {
            bytes: Vec::with_capacity(bytes),
            logs: Vec::with_capacity(records),
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
        let session = resource
            .and_then(|r| session_of(&r.attributes))
            .map(|id| terms::attribute(SESSION_ID, id));
        self.resources.push(Part {
            body,
            service: service_slice,
            terms,
            session,
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
            session: None,
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

    /// Adds a log record that passed validation (IDs empty or of the right lengths, a
    /// time that fits `i64`), under resource and scope indexes returned by this batch.
    pub fn add_log(&mut self, resource: u32, scope: u32, record: &LogRecord<'_>) {
        let body = self.append(|buf| encode::log_record(record, buf));
        let time = match record.time_unix_nano {
            0 => record.observed_time_unix_nano,
            time => time,
        };
        let time = i64::try_from(time).unwrap_or(i64::MAX);
        let trace_id: Option<[u8; 16]> = record.trace_id.as_bytes().try_into().ok();
        let span_id: Option<[u8; 8]> = record.span_id.as_bytes().try_into().ok();
        let session = session_of(&record.attributes)
            .map(|id| terms::attribute(SESSION_ID, id))
            .or(self.resources[resource as usize].session);
        self.logs.push(LogRow {
            trace_id,
            span_id,
            time,
            severity: u8::try_from(record.severity_number).unwrap_or_default(),
            session,
            identity: log_identity(record, time),
            resource,
            scope,
            body,
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

    /// The number of spans and log records.
    pub fn len(&self) -> usize {
        self.spans.len() + self.logs.len()
    }

    /// Whether the batch holds no span and no log record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The log records.
    pub fn logs(&self) -> &[LogRow] {
        &self.logs
    }

    /// The protobuf encoding of a log record (a `LogRecord` message).
    pub fn log_body(&self, log: &LogRow) -> &[u8] {
        &self.bytes[log.body.range()]
    }

    /// The batch as one protobuf export request body (`ExportTraceServiceRequest` of its
    /// spans, or `ExportLogsServiceRequest` of its log records: the same tags), each item
    /// under its resource and scope again, in request order: what forwarding sends.
    pub fn export_request(&self) -> Vec<u8> {
        // (resource, scope, encoding) of each item; a batch holds one signal.
        let items: Vec<(u32, u32, Slice)> = self
            .spans
            .iter()
            .map(|s| (s.resource, s.scope, s.body))
            .chain(self.logs.iter().map(|l| (l.resource, l.scope, l.body)))
            .collect();
        // Resource and scope groups: tag 1 in the request, tag 2 in a resource group
        // (`scope_spans`, `scope_logs`), items tag 2 in a scope group.
        let item_len = |body: Slice| encode::delimited_len(2, body.range().len());
        let scope_len = |run: &[(u32, u32, Slice)]| {
            self.bytes[self.scopes[run[0].1 as usize].body.range()].len()
                + run
                    .iter()
                    .map(|&(_, _, body)| item_len(body))
                    .sum::<usize>()
        };
        let mut out = Vec::with_capacity(self.bytes.len() + items.len() * 4);
        for resource_run in items.chunk_by(|a, b| a.0 == b.0) {
            let resource = &self.bytes[self.resources[resource_run[0].0 as usize].body.range()];
            let scopes = resource_run.chunk_by(|a, b| a.1 == b.1);
            let len = resource.len()
                + scopes
                    .clone()
                    .map(|run| encode::delimited_len(2, scope_len(run)))
                    .sum::<usize>();
            encode::delimiter(1, len, &mut out);
            out.extend_from_slice(resource);
            for run in scopes {
                encode::delimiter(2, scope_len(run), &mut out);
                out.extend_from_slice(&self.bytes[self.scopes[run[0].1 as usize].body.range()]);
                for &(_, _, body) in run {
                    encode::delimiter(2, body.range().len(), &mut out);
                    out.extend_from_slice(&self.bytes[body.range()]);
                }
            }
        }
        out
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
            + self.logs.len() * size_of::<LogRow>()
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
            self.logs.len(),
        ] {
            put_u32(out, count as u32);
        }
        for part in self.resources.iter().chain(&self.scopes) {
            for slice in [part.body, part.service, part.terms] {
                put_slice(out, slice);
            }
            put_option(out, part.session.map(u64::to_le_bytes));
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
        for log in &self.logs {
            put_option(out, log.trace_id);
            put_option(out, log.span_id);
            put_option(out, log.session.map(u64::to_le_bytes));
            out.extend_from_slice(&log.time.to_le_bytes());
            out.push(log.severity);
            out.extend_from_slice(&log.identity.to_le_bytes());
            put_u32(out, log.resource);
            put_u32(out, log.scope);
            put_slice(out, log.body);
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
        if version != RECORD_VERSION && version != RECORD_VERSION_SPANS_ONLY {
            return Err(format!("unknown record version {version}"));
        }
        let with_logs = version == RECORD_VERSION;
        let [resources, scopes, spans, terms] = [r.u32()?, r.u32()?, r.u32()?, r.u32()?];
        let logs = if with_logs { r.u32()? } else { 0 };
        // Each row takes at least 24 bytes: a count beyond the record is damage, and
        // must not make us reserve memory for it.
        if (resources as usize + scopes as usize + spans as usize + logs as usize) * 24
            + terms as usize * 8
            > record.len()
        {
            return Err("counts larger than the record".into());
        }
        let part = |r: &mut Reader<'_>| -> Result<Part, String> {
            Ok(Part {
                body: read_slice(r)?,
                service: read_slice(r)?,
                terms: read_slice(r)?,
                session: if with_logs {
                    read_option(r)?.map(u64::from_le_bytes)
                } else {
                    None
                },
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
        let mut log_rows = Vec::with_capacity(logs as usize);
        for _ in 0..logs {
            log_rows.push(LogRow {
                trace_id: read_option(&mut r)?,
                span_id: read_option(&mut r)?,
                session: read_option(&mut r)?.map(u64::from_le_bytes),
                time: r.i64()?,
                severity: r.u8()?,
                identity: r.u64()?,
                resource: r.u32()?,
                scope: r.u32()?,
                body: read_slice(&mut r)?,
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
            logs: log_rows,
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
        for log in &self.logs {
            if !fits(log.body, bytes)
                || log.resource as usize >= self.resources.len()
                || log.scope as usize >= self.scopes.len()
            {
                return Err("a log record points outside the record".into());
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

/// A presence byte, then the value's bytes (zeros when absent).
fn put_option<const N: usize>(out: &mut Vec<u8>, value: Option<[u8; N]>) {
    out.push(u8::from(value.is_some()));
    out.extend_from_slice(&value.unwrap_or([0; N]));
}

/// What [`put_option`] wrote.
fn read_option<const N: usize>(r: &mut Reader<'_>) -> Result<Option<[u8; N]>, String> {
    let present = r.u8()?;
    let value = r.array::<N>()?;
    match present {
        0 => Ok(None),
        1 => Ok(Some(value)),
        _ => Err("a damaged presence byte".into()),
    }
}

/// The `session.id` among attributes, if it is a non-empty string.
fn session_of<'a>(attributes: &'a [collector_decode::model::KeyValue<'_>]) -> Option<&'a str> {
    attributes
        .iter()
        .find(|kv| kv.key == SESSION_ID)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::String(id) if !id.is_empty() => Some(&**id),
            _ => None,
        })
}

/// The identity of a log record: XXH3-64 of its trace ID, span ID, time (as stored) and
/// body. A record sent twice (an exporter's retry) has the same one and is kept once;
/// records that differ in any of these are distinct (two equal messages logged at the
/// same nanosecond in the same span are one). A collision has a chance of about 2^-64
/// per pair, which the store accepts as for terms.
fn log_identity(record: &LogRecord<'_>, time: i64) -> u64 {
    let mut bytes = Vec::with_capacity(64);
    for id in [record.trace_id.as_bytes(), record.span_id.as_bytes()] {
        bytes.push(id.len() as u8);
        bytes.extend_from_slice(id);
    }
    bytes.extend_from_slice(&time.to_le_bytes());
    if let Some(body) = &record.body {
        value_bytes(body, &mut bytes);
    }
    xxh3_64(&bytes)
}

/// An unambiguous byte form of a value (a kind byte, lengths before contents).
fn value_bytes(value: &AnyValue<'_>, out: &mut Vec<u8>) {
    let sized = |kind: u8, bytes: &[u8], out: &mut Vec<u8>| {
        out.push(kind);
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    match &value.value {
        None => out.push(0),
        Some(Value::String(s)) => sized(1, s.as_bytes(), out),
        Some(Value::Bytes(b)) => sized(2, b, out),
        Some(Value::Bool(b)) => out.extend_from_slice(&[3, u8::from(*b)]),
        Some(Value::Int(i)) => sized(4, &i.to_le_bytes(), out),
        Some(Value::Double(d)) => sized(5, &d.to_le_bytes(), out),
        Some(Value::Array(values)) => {
            sized(6, &(values.len() as u64).to_le_bytes(), out);
            for value in values {
                value_bytes(value, out);
            }
        }
        Some(Value::Kvlist(pairs)) => {
            sized(7, &(pairs.len() as u64).to_le_bytes(), out);
            for pair in pairs {
                sized(8, pair.key.as_bytes(), out);
                value_bytes(pair.value.as_ref().unwrap_or(&AnyValue::default()), out);
            }
        }
    }
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
    use collector_decode::model::{Id, KeyValue, Status};
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
    fn the_export_request_groups_items_under_their_resources_and_scopes() {
        use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        let (mut batch, span) = sample();
        let other_scope = batch.add_scope(None, "https://scope-schema");
        let second = Span {
            span_id: Id::new(&[3; 8]),
            ..span.clone()
        };
        batch.add_span(0, other_scope, &second);
        let other = batch.add_resource(Some(&resource("api")), "");
        let scope = batch.add_scope(None, "");
        batch.add_span(other, scope, &span);
        let request = ExportTraceServiceRequest::decode(&batch.export_request()[..]).unwrap();
        let shape: Vec<Vec<(String, usize)>> = request
            .resource_spans
            .iter()
            .map(|r| {
                r.scope_spans
                    .iter()
                    .map(|s| (s.schema_url.clone(), s.spans.len()))
                    .collect()
            })
            .collect();
        assert_eq!(
            shape,
            [
                vec![(String::new(), 1), ("https://scope-schema".to_owned(), 1)],
                vec![(String::new(), 1)]
            ]
        );
        assert_eq!(request.resource_spans[0].schema_url, "https://schema");
        assert_eq!(
            request.resource_spans[0].scope_spans[1].spans[0],
            second.to_proto()
        );
        assert_eq!(
            request.resource_spans[1]
                .resource
                .as_ref()
                .unwrap()
                .attributes[0]
                .value
                .as_ref()
                .unwrap(),
            &opentelemetry_proto::tonic::common::v1::AnyValue {
                value: Some(
                    opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                        "api".into()
                    )
                )
            }
        );

        let batch = log_batch();
        let logs = ExportLogsServiceRequest::decode(&batch.export_request()[..]).unwrap();
        let records = &logs.resource_logs[0].scope_logs[0].log_records;
        assert_eq!(
            (records.len(), records[0].severity_number),
            (batch.logs().len(), 13)
        );
        assert!(Batch::default().export_request().is_empty());
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

    fn log_batch() -> Batch {
        let mut batch = Batch::default();
        let mut resource = resource("web");
        resource.attributes.push(KeyValue {
            key: SESSION_ID.into(),
            value: Some(AnyValue {
                value: Some(Value::String("from-resource".into())),
            }),
        });
        let r = batch.add_resource(Some(&resource), "");
        let s = batch.add_scope(None, "");
        let record = LogRecord {
            observed_time_unix_nano: 9,
            severity_number: 13,
            body: Some(AnyValue {
                value: Some(Value::String("slow".into())),
            }),
            trace_id: Id::new(&[1; 16]),
            ..LogRecord::default()
        };
        batch.add_log(r, s, &record);
        let own_session = LogRecord {
            attributes: vec![KeyValue {
                key: SESSION_ID.into(),
                value: Some(AnyValue {
                    value: Some(Value::String("own".into())),
                }),
            }],
            time_unix_nano: 10,
            ..record.clone()
        };
        batch.add_log(r, s, &own_session);
        batch
    }

    #[test]
    fn log_rows_point_at_their_encodings_and_read_back() {
        let batch = log_batch();
        let [first, second] = batch.logs() else {
            panic!("two rows");
        };
        assert_eq!((first.time, first.severity, first.span_id), (9, 13, None));
        assert_eq!(first.trace_id, Some([1; 16]));
        assert_eq!(
            first.session,
            Some(terms::attribute(SESSION_ID, "from-resource"))
        );
        // The record's own session.id wins over its resource's.
        assert_eq!(second.session, Some(terms::attribute(SESSION_ID, "own")));
        assert_ne!(first.identity, second.identity);
        let decoded =
            opentelemetry_proto::tonic::logs::v1::LogRecord::decode(batch.log_body(first)).unwrap();
        assert_eq!(decoded.observed_time_unix_nano, 9);
        let mut record = Vec::new();
        batch.record(&mut record);
        assert_eq!(Batch::from_record(&record).unwrap(), batch);
        for cut in 0..record.len() {
            assert!(Batch::from_record(&record[..cut]).is_err(), "cut at {cut}");
        }
    }

    /// A span-only batch's record as version 1 wrote it (no log count, no sessions).
    fn version_1_record(batch: &Batch) -> Vec<u8> {
        let mut out = vec![RECORD_VERSION_SPANS_ONLY];
        for count in [
            batch.resources.len(),
            batch.scopes.len(),
            batch.spans.len(),
            batch.terms.len(),
        ] {
            put_u32(&mut out, count as u32);
        }
        for part in batch.resources.iter().chain(&batch.scopes) {
            for slice in [part.body, part.service, part.terms] {
                put_slice(&mut out, slice);
            }
        }
        let mut current = Vec::new();
        batch.record(&mut current);
        // The span rows, terms and buffer are as in the current version.
        let parts = (batch.resources.len() + batch.scopes.len()) * (24 + 9);
        out.extend_from_slice(&current[1 + 5 * 4 + parts..]);
        out
    }

    #[test]
    fn version_1_records_read_back() {
        let (batch, _) = sample();
        assert_eq!(
            Batch::from_record(&version_1_record(&batch)).unwrap(),
            batch
        );
    }
}
