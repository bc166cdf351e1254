//! WIT types to the model and back, for the one-call-per-operation exports.

use alloc::vec::Vec;

use super::wit::{self, TracingError};
use crate::config::{BatchSettings, Config, ScopeConfig};
use crate::limits::SpanLimits;
use crate::model;
use crate::propagation::validate_tracestate;
use crate::sampler::Sampler;
use crate::tracer as core;

/// What a refusable export returns.
pub type WitResult<T> = Result<T, TracingError>;

/// A WIT attribute value as the model's.
pub fn value(v: wit::AttributeValue) -> model::Value {
    use wit::AttributeValue as A;
    match v {
        A::String(s) => model::Value::String(s),
        A::Bool(b) => model::Value::Bool(b),
        A::S64(i) => model::Value::Int(i),
        A::F64(d) => model::Value::Double(model::Decimal::from_f64(d)),
        A::StringArray(items) => model::Value::StringArray(items),
        A::BoolArray(items) => model::Value::BoolArray(items),
        A::S64Array(items) => model::Value::IntArray(items),
        A::F64Array(items) => {
            model::Value::DoubleArray(items.into_iter().map(model::Decimal::from_f64).collect())
        }
    }
}

/// A WIT attribute as the model's.
pub fn key_value(kv: wit::KeyValue) -> model::KeyValue {
    model::KeyValue {
        key: kv.key,
        value: value(kv.value),
    }
}

/// WIT attributes as the model's.
pub fn key_values(kvs: Vec<wit::KeyValue>) -> Vec<model::KeyValue> {
    kvs.into_iter().map(key_value).collect()
}

/// A context from the caller; its `tracestate` is validated like a header's.
pub fn context(c: wit::SpanContext) -> model::SpanContext {
    model::SpanContext {
        trace_id: model::TraceId {
            hi: c.trace_id.hi,
            lo: c.trace_id.lo,
        },
        span_id: c.span_id,
        trace_flags: c.trace_flags,
        trace_state: validate_tracestate(&c.trace_state).unwrap_or_default(),
        is_remote: c.is_remote,
    }
}

/// `setup.configure`'s argument as the model's configuration.
pub fn config(c: wit::Config) -> Config {
    Config {
        resource: key_values(c.resource),
        default_scope: ScopeConfig {
            name: c.default_scope.name,
            version: c.default_scope.version,
            attributes: key_values(c.default_scope.attributes),
        },
        sampler: match c.sampler {
            wit::Sampler::AlwaysOn => Sampler::AlwaysOn,
            wit::Sampler::AlwaysOff => Sampler::AlwaysOff,
            wit::Sampler::TraceIdRatio(r) => Sampler::TraceIdRatio(r),
            wit::Sampler::ParentBasedRatio(r) => Sampler::ParentBasedRatio(r),
        },
        limits: SpanLimits {
            max_attributes: c.limits.max_attributes,
            max_value_length: c.limits.max_value_length,
            max_events: c.limits.max_events,
            max_links: c.limits.max_links,
            max_attributes_per_item: c.limits.max_attributes_per_item,
        },
        batch: BatchSettings {
            max_export_batch_size: c.batch.max_export_batch_size,
            max_export_batch_bytes: c.batch.max_export_batch_bytes,
            max_queue_size: c.batch.max_queue_size,
            scheduled_delay_ms: c.batch.scheduled_delay_ms,
            max_open_spans: c.batch.max_open_spans,
        },
    }
}

/// A model context as WIT's.
pub fn wit_context(c: model::SpanContext) -> wit::SpanContext {
    wit::SpanContext {
        trace_id: wit::TraceId {
            hi: c.trace_id.hi,
            lo: c.trace_id.lo,
        },
        span_id: c.span_id,
        trace_flags: c.trace_flags,
        trace_state: c.trace_state,
        is_remote: c.is_remote,
    }
}

/// A tracer refusal as WIT's.
pub fn wit_error(e: core::TracingError) -> TracingError {
    match e {
        core::TracingError::UnknownSpan => TracingError::UnknownSpan,
        core::TracingError::TooManyOpenSpans => TracingError::TooManyOpenSpans,
        core::TracingError::UnknownScope => TracingError::UnknownScope,
        core::TracingError::ShutDown => TracingError::ShutDown,
        core::TracingError::InvalidArgument(why) => TracingError::InvalidArgument(why),
    }
}
