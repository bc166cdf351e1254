//! The protobuf path as it was before `protobuf::decode` read the wire format itself, kept
//! as the reference it is checked against (`tests/reference.rs`) and measured beside
//! (`benches/decode.rs`): prost decodes opentelemetry-proto's messages, then a view
//! borrows their strings as the model, refusing attribute values nested deeper than
//! `MAX_VALUE_DEPTH` as the collector does. The same for logs requests
//! (`protobuf::decode_logs`).

use std::borrow::Cow;

use collector_decode::DecodeError;
use collector_decode::model::{
    AnyValue, Event, Id, KeyValue, Link, LogRecord, LogsRequest, MAX_VALUE_DEPTH, Request,
    Resource, ResourceLogs, ResourceSpans, Scope, ScopeLogs, ScopeSpans, Span, Status, Value,
};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::logs::v1 as logs;
use opentelemetry_proto::tonic::resource::v1 as resource;
use prost::Message;

/// prost's decoding of `bytes`, its error as the collector reports it.
pub fn prost_decode<M: Message + Default>(bytes: &[u8]) -> Result<M, DecodeError> {
    M::decode(bytes).map_err(|e| DecodeError::Malformed(format!("invalid OTLP protobuf: {e}")))
}

/// The view of a request decoded by prost, borrowing its strings; refuses attribute
/// values nested deeper than [`MAX_VALUE_DEPTH`].
pub fn from_proto(request: &ExportTraceServiceRequest) -> Result<Request<'_>, DecodeError> {
    let resource_spans = request
        .resource_spans
        .iter()
        .map(|rs| {
            Ok(ResourceSpans {
                resource: rs.resource.as_ref().map(resource).transpose()?,
                scope_spans: rs
                    .scope_spans
                    .iter()
                    .map(|ss| {
                        Ok(ScopeSpans {
                            scope: ss.scope.as_ref().map(scope).transpose()?,
                            spans: ss.spans.iter().map(span).collect::<Result<_, _>>()?,
                            schema_url: Cow::Borrowed(&ss.schema_url),
                        })
                    })
                    .collect::<Result<_, DecodeError>>()?,
                schema_url: Cow::Borrowed(&rs.schema_url),
            })
        })
        .collect::<Result<_, DecodeError>>()?;
    Ok(Request { resource_spans })
}

/// The view of a logs request decoded by prost, as [`from_proto`].
pub fn logs_from_proto(request: &ExportLogsServiceRequest) -> Result<LogsRequest<'_>, DecodeError> {
    let resource_logs = request
        .resource_logs
        .iter()
        .map(|rl| {
            Ok(ResourceLogs {
                resource: rl.resource.as_ref().map(resource).transpose()?,
                scope_logs: rl
                    .scope_logs
                    .iter()
                    .map(|sl| {
                        Ok(ScopeLogs {
                            scope: sl.scope.as_ref().map(scope).transpose()?,
                            log_records: sl
                                .log_records
                                .iter()
                                .map(log_record)
                                .collect::<Result<_, _>>()?,
                            schema_url: Cow::Borrowed(&sl.schema_url),
                        })
                    })
                    .collect::<Result<_, DecodeError>>()?,
                schema_url: Cow::Borrowed(&rl.schema_url),
            })
        })
        .collect::<Result<_, DecodeError>>()?;
    Ok(LogsRequest { resource_logs })
}

fn resource(resource: &resource::Resource) -> Result<Resource<'_>, DecodeError> {
    Ok(Resource {
        attributes: attributes(&resource.attributes, 0)?,
        dropped_attributes_count: resource.dropped_attributes_count,
    })
}

fn scope(scope: &common::InstrumentationScope) -> Result<Scope<'_>, DecodeError> {
    Ok(Scope {
        name: Cow::Borrowed(&scope.name),
        version: Cow::Borrowed(&scope.version),
        attributes: attributes(&scope.attributes, 0)?,
        dropped_attributes_count: scope.dropped_attributes_count,
    })
}

fn log_record(record: &logs::LogRecord) -> Result<LogRecord<'_>, DecodeError> {
    Ok(LogRecord {
        time_unix_nano: record.time_unix_nano,
        observed_time_unix_nano: record.observed_time_unix_nano,
        severity_number: record.severity_number,
        severity_text: Cow::Borrowed(&record.severity_text),
        body: record.body.as_ref().map(|v| any(v, 0)).transpose()?,
        attributes: attributes(&record.attributes, 0)?,
        dropped_attributes_count: record.dropped_attributes_count,
        flags: record.flags,
        trace_id: Id::new(&record.trace_id),
        span_id: Id::new(&record.span_id),
        event_name: Cow::Borrowed(&record.event_name),
    })
}

fn span(span: &opentelemetry_proto::tonic::trace::v1::Span) -> Result<Span<'_>, DecodeError> {
    Ok(Span {
        trace_id: Id::new(&span.trace_id),
        span_id: Id::new(&span.span_id),
        trace_state: Cow::Borrowed(&span.trace_state),
        parent_span_id: Id::new(&span.parent_span_id),
        flags: span.flags,
        name: Cow::Borrowed(&span.name),
        kind: span.kind,
        start_time_unix_nano: span.start_time_unix_nano,
        end_time_unix_nano: span.end_time_unix_nano,
        attributes: attributes(&span.attributes, 0)?,
        dropped_attributes_count: span.dropped_attributes_count,
        events: span
            .events
            .iter()
            .map(|e| {
                Ok(Event {
                    time_unix_nano: e.time_unix_nano,
                    name: Cow::Borrowed(&e.name),
                    attributes: attributes(&e.attributes, 0)?,
                    dropped_attributes_count: e.dropped_attributes_count,
                })
            })
            .collect::<Result<_, DecodeError>>()?,
        dropped_events_count: span.dropped_events_count,
        links: span
            .links
            .iter()
            .map(|l| {
                Ok(Link {
                    trace_id: Id::new(&l.trace_id),
                    span_id: Id::new(&l.span_id),
                    trace_state: Cow::Borrowed(&l.trace_state),
                    attributes: attributes(&l.attributes, 0)?,
                    dropped_attributes_count: l.dropped_attributes_count,
                    flags: l.flags,
                })
            })
            .collect::<Result<_, DecodeError>>()?,
        dropped_links_count: span.dropped_links_count,
        status: span.status.as_ref().map(|s| Status {
            message: Cow::Borrowed(&s.message),
            code: s.code,
        }),
    })
}

fn attributes(
    attributes: &[common::KeyValue],
    depth: usize,
) -> Result<Vec<KeyValue<'_>>, DecodeError> {
    attributes
        .iter()
        .map(|kv| {
            Ok(KeyValue {
                key: Cow::Borrowed(&kv.key),
                value: kv.value.as_ref().map(|v| any(v, depth)).transpose()?,
            })
        })
        .collect()
}

fn any(value: &common::AnyValue, depth: usize) -> Result<AnyValue<'_>, DecodeError> {
    use common::any_value::Value as P;
    let nested = || {
        if depth >= MAX_VALUE_DEPTH {
            Err(DecodeError::Malformed(format!(
                "attribute values are nested more than {MAX_VALUE_DEPTH} levels deep"
            )))
        } else {
            Ok(depth + 1)
        }
    };
    let value = match &value.value {
        None | Some(P::StringValueStrindex(_)) => None,
        Some(P::StringValue(s)) => Some(Value::String(Cow::Borrowed(s))),
        Some(P::BoolValue(b)) => Some(Value::Bool(*b)),
        Some(P::IntValue(i)) => Some(Value::Int(*i)),
        Some(P::DoubleValue(d)) => Some(Value::Double(*d)),
        Some(P::BytesValue(b)) => Some(Value::Bytes(Cow::Borrowed(b))),
        Some(P::ArrayValue(array)) => {
            let depth = nested()?;
            Some(Value::Array(
                array
                    .values
                    .iter()
                    .map(|v| any(v, depth))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Some(P::KvlistValue(list)) => Some(Value::Kvlist(attributes(&list.values, nested()?)?)),
    };
    Ok(AnyValue { value })
}
