//! `wasi:otel`'s `tracing` and `logs` (world `tracing` only): a guest that runs its own
//! OpenTelemetry SDK hands over finished spans and log records, which go through this
//! component's sampler, limits, queue and encoder. The JSON values and hex IDs are read by
//! [`crate::otel`]; this file only moves WIT types into the model.

use alloc::vec::Vec;

use super::exports::wasi::otel::logs::{self, LogRecord};
use super::exports::wasi::otel::tracing::{self as otel, SpanData, TraceFlags};
use super::wasi::clocks::wall_clock::Datetime;
use super::wasi::otel::types::{InstrumentationScope, KeyValue};
use super::{Component, with_tracer};
use crate::model::{self, Attributes, Event, Link, SAMPLED, Scope, SpanContext, SpanKind, Status};
use crate::otel::{hex, value};
use crate::propagation::tracestate_from_pairs;
use crate::tracer::{FinishedSpan, LogInput};

impl otel::Guest for Component {
    fn on_start(context: otel::SpanContext) {
        let context = span_context(context);
        if context.is_valid() {
            with_tracer(|t, _| t.enter(context));
        }
    }

    fn on_end(span: SpanData) {
        let finished = FinishedSpan {
            context: span_context(span.span_context),
            parent_span_id: hex::span_id(&span.parent_span_id),
            name: span.name,
            kind: kind(span.span_kind),
            start_time: nanos(span.start_time),
            end_time: nanos(span.end_time),
            attributes: attributes(span.attributes, span.dropped_attributes),
            events: span
                .events
                .into_iter()
                .map(|e| Event {
                    name: e.name,
                    time: nanos(e.time),
                    attributes: attributes(e.attributes, 0),
                })
                .collect(),
            dropped_events: span.dropped_events,
            links: span
                .links
                .into_iter()
                .map(|l| Link {
                    context: span_context(l.span_context),
                    attributes: attributes(l.attributes, 0),
                })
                .collect(),
            dropped_links: span.dropped_links,
            status: match span.status {
                otel::Status::Unset => Status::Unset,
                otel::Status::Ok => Status::Ok,
                otel::Status::Error(message) => Status::Error(message),
            },
            scope: scope(span.instrumentation_scope),
        };
        // A refusal (shut down, invalid IDs) is counted in the stats' rejected operations.
        let _ = with_tracer(|t, host| t.record_finished(host, finished));
    }

    fn current_span_context() -> otel::SpanContext {
        wit_context(with_tracer(|t, _| t.current_context()))
    }

    fn outer_span_context() -> otel::SpanContext {
        wit_context(with_tracer(|t, _| t.host_context()))
    }
}

impl logs::Guest for Component {
    fn on_emit(record: LogRecord) {
        let (items, dropped) = record
            .attributes
            .map(|kvs| attributes(kvs, 0))
            .map_or((Vec::new(), 0), |a| (a.items, a.dropped));
        let mut log = LogInput {
            time: record.timestamp.or(record.observed_timestamp).map(nanos),
            severity_number: record.severity_number.unwrap_or(0),
            severity_text: record.severity_text.unwrap_or_default(),
            body: record
                .body
                .as_deref()
                .map(value::read_body)
                .unwrap_or_default(),
            attributes: items,
            dropped_attributes: dropped,
            context: None,
            scope: 0,
        };
        // OTLP's `event_name` field is newer than the encoder's log record: the semantic
        // conventions' attribute carries it.
        if let Some(name) = record.event_name
            && !log.attributes.iter().any(|kv| kv.key == "event.name")
        {
            log.attributes.push(model::KeyValue {
                key: "event.name".into(),
                value: model::Value::String(name),
            });
        }
        if let (Some(trace_id), Some(span_id)) = (record.trace_id, record.span_id) {
            log.context = Some(SpanContext {
                trace_id: hex::trace_id(&trace_id),
                span_id: hex::span_id(&span_id),
                trace_flags: flags(record.trace_flags.unwrap_or(TraceFlags::empty())),
                ..SpanContext::default()
            });
        }
        // The record's own resource is not kept: the component's configured resource
        // describes everything it exports.
        let _ = with_tracer(|t, host| {
            if let Some(s) = record.instrumentation_scope {
                log.scope = t.scope_index(scope(s));
            }
            t.emit_log(host, log)
        });
    }
}

/// A model context as `wasi:otel`'s.
fn wit_context(c: SpanContext) -> otel::SpanContext {
    otel::SpanContext {
        trace_id: hex::format_trace_id(c.trace_id),
        span_id: hex::format_span_id(c.span_id),
        trace_flags: if c.is_sampled() {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::empty()
        },
        is_remote: c.is_remote,
        trace_state: c
            .trace_state
            .split([','])
            .filter_map(|member| member.split_once('='))
            .map(|(key, value)| (key.into(), value.into()))
            .collect(),
    }
}

/// A `wasi:otel` context in the model; invalid IDs read as zero (an invalid context).
fn span_context(c: otel::SpanContext) -> SpanContext {
    SpanContext {
        trace_id: hex::trace_id(&c.trace_id),
        span_id: hex::span_id(&c.span_id),
        trace_flags: flags(c.trace_flags),
        // Invalid keys or values make the whole list empty, as the proposal says.
        trace_state: tracestate_from_pairs(
            c.trace_state
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str())),
        )
        .unwrap_or_default(),
        is_remote: c.is_remote,
    }
}

fn flags(f: TraceFlags) -> u8 {
    if f.bits() & TraceFlags::SAMPLED.bits() != 0 {
        SAMPLED
    } else {
        0
    }
}

fn kind(k: otel::SpanKind) -> SpanKind {
    match k {
        otel::SpanKind::Client => SpanKind::Client,
        otel::SpanKind::Server => SpanKind::Server,
        otel::SpanKind::Producer => SpanKind::Producer,
        otel::SpanKind::Consumer => SpanKind::Consumer,
        otel::SpanKind::Internal => SpanKind::Internal,
    }
}

/// A `datetime` as Unix nanoseconds (saturating far in the future).
fn nanos(t: Datetime) -> u64 {
    t.seconds
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(t.nanoseconds))
}

/// Attributes whose JSON values are read; those that read as no value are dropped and
/// counted with `dropped`.
fn attributes(kvs: Vec<KeyValue>, dropped: u32) -> Attributes {
    let mut out = Attributes {
        items: Vec::with_capacity(kvs.len()),
        dropped,
    };
    for kv in kvs {
        match value::read(&kv.value) {
            Some(value) => out.items.push(model::KeyValue { key: kv.key, value }),
            None => out.dropped = out.dropped.saturating_add(1),
        }
    }
    out
}

fn scope(s: InstrumentationScope) -> Scope {
    Scope {
        name: s.name,
        version: s.version.unwrap_or_default(),
        attributes: attributes(s.attributes, 0),
    }
}
