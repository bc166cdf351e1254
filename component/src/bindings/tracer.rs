//! The direct API (`tracer` export, world `tracing` only): one call per span operation.

use alloc::{string::String, vec::Vec};

use super::convert::{WitResult, context, key_value, key_values, value, wit_context, wit_error};
use super::exports::wasm_otlp::tracing::tracer;
use super::wasm_otlp::tracing::types as wit;
use super::{Component, with_tracer};
use crate::model;
use crate::tracer::{self as core, StartOptions};

fn kind(k: wit::SpanKind) -> model::SpanKind {
    match k {
        wit::SpanKind::Internal => model::SpanKind::Internal,
        wit::SpanKind::Server => model::SpanKind::Server,
        wit::SpanKind::Client => model::SpanKind::Client,
        wit::SpanKind::Producer => model::SpanKind::Producer,
        wit::SpanKind::Consumer => model::SpanKind::Consumer,
    }
}

fn status(s: wit::Status) -> model::Status {
    match s {
        wit::Status::Unset => model::Status::Unset,
        wit::Status::Ok => model::Status::Ok,
        wit::Status::Error(message) => model::Status::Error(message),
    }
}

impl tracer::Guest for Component {
    fn start_span(name: String, options: tracer::SpanOptions) -> WitResult<tracer::SpanHandle> {
        let options = StartOptions {
            kind: kind(options.kind),
            parent: match options.parent {
                tracer::Parent::None => core::Parent::None,
                tracer::Parent::Span(handle) => core::Parent::Span(handle),
                tracer::Parent::Context(c) => core::Parent::Context(context(c)),
            },
            attributes: key_values(options.attributes),
            links: options
                .links
                .into_iter()
                .map(|l| (context(l.context), key_values(l.attributes)))
                .collect(),
            start_time: options.start_time,
            scope: options.scope,
        };
        with_tracer(|t, host| t.start_span(host, name, options)).map_err(wit_error)
    }

    fn context_of(span: tracer::SpanHandle) -> WitResult<wit::SpanContext> {
        with_tracer(|t, _| t.span_context(span))
            .map(wit_context)
            .map_err(wit_error)
    }

    fn is_recording(span: tracer::SpanHandle) -> WitResult<bool> {
        with_tracer(|t, _| t.is_recording(span)).map_err(wit_error)
    }

    fn set_attribute(
        span: tracer::SpanHandle,
        key: String,
        value: wit::AttributeValue,
    ) -> WitResult<()> {
        let kv = model::KeyValue {
            key,
            value: self::value(value),
        };
        with_tracer(|t, _| t.set_attributes(span, [kv])).map_err(wit_error)
    }

    fn set_attributes(span: tracer::SpanHandle, attributes: Vec<wit::KeyValue>) -> WitResult<()> {
        with_tracer(|t, _| t.set_attributes(span, attributes.into_iter().map(key_value)))
            .map_err(wit_error)
    }

    fn add_event(
        span: tracer::SpanHandle,
        name: String,
        attributes: Vec<wit::KeyValue>,
        time: Option<u64>,
    ) -> WitResult<()> {
        with_tracer(|t, host| t.add_event(host, span, name, key_values(attributes), time))
            .map_err(wit_error)
    }

    fn add_link(span: tracer::SpanHandle, link: tracer::Link) -> WitResult<()> {
        with_tracer(|t, _| t.add_link(span, context(link.context), key_values(link.attributes)))
            .map_err(wit_error)
    }

    fn record_exception(
        span: tracer::SpanHandle,
        exception_type: String,
        message: String,
        stacktrace: String,
        time: Option<u64>,
    ) -> WitResult<()> {
        with_tracer(|t, host| {
            t.record_exception(host, span, exception_type, message, stacktrace, time)
        })
        .map_err(wit_error)
    }

    fn set_status(span: tracer::SpanHandle, status: wit::Status) -> WitResult<()> {
        with_tracer(|t, _| t.set_status(span, self::status(status))).map_err(wit_error)
    }

    fn update_name(span: tracer::SpanHandle, name: String) -> WitResult<()> {
        with_tracer(|t, _| t.update_name(span, name)).map_err(wit_error)
    }

    fn end_span(span: tracer::SpanHandle, time: Option<u64>) -> WitResult<()> {
        with_tracer(|t, host| t.end_span(host, span, time)).map_err(wit_error)
    }

    fn emit_log(entry: tracer::LogRecord) -> WitResult<()> {
        let log = core::LogInput {
            time: entry.time,
            severity_number: entry.severity_number,
            severity_text: entry.severity_text,
            body: model::Value::String(entry.body),
            attributes: key_values(entry.attributes),
            dropped_attributes: 0,
            context: entry.context.map(context),
            scope: entry.scope,
        };
        with_tracer(|t, host| t.emit_log(host, log)).map_err(wit_error)
    }
}
