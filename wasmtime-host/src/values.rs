//! Shorthands for building the WIT values the component takes.

use crate::TraceId;
use crate::{
    AttributeValue, BatchSettings, Config, InstrumentationScope, KeyValue, Parent, Sampler,
    SpanContext, SpanHandle, SpanKind, SpanLimits, SpanOptions,
};

impl Config {
    /// OpenTelemetry's defaults (always on, 128 attributes/events/links, strings cut at
    /// 4096 bytes, batches of 512, queue of 2048, 5 s delay) for service `name`, whose
    /// spans go under a scope of the same name.
    pub fn for_service(name: &str) -> Self {
        Self {
            resource: vec![KeyValue::new("service.name", name)],
            default_scope: InstrumentationScope {
                name: name.into(),
                version: "0.1.0".into(),
                attributes: Vec::new(),
            },
            sampler: Sampler::AlwaysOn,
            limits: SpanLimits {
                max_attributes: 128,
                max_value_length: 4096,
                max_events: 128,
                max_links: 128,
                max_attributes_per_item: 128,
            },
            batch: BatchSettings {
                max_export_batch_size: 512,
                max_export_batch_bytes: 0,
                max_queue_size: 2048,
                scheduled_delay_ms: 5000,
                max_open_spans: 16384,
            },
        }
    }
}

impl SpanOptions {
    /// An internal span starting a new trace now, in the default scope.
    pub fn root() -> Self {
        Self {
            kind: SpanKind::Internal,
            parent: Parent::None,
            attributes: Vec::new(),
            links: Vec::new(),
            start_time: None,
            scope: 0,
        }
    }

    /// An internal span, child of the open span `parent`, starting now.
    pub fn child_of(parent: SpanHandle) -> Self {
        Self {
            parent: Parent::Span(parent),
            ..Self::root()
        }
    }

    /// An internal span, child of a context from elsewhere, starting now.
    pub fn child_of_context(parent: SpanContext) -> Self {
        Self {
            parent: Parent::Context(parent),
            ..Self::root()
        }
    }
}

impl KeyValue {
    /// An attribute `key` = `value`.
    pub fn new(key: impl Into<String>, value: impl Into<AttributeValue>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

impl From<&str> for AttributeValue {
    fn from(value: &str) -> Self {
        Self::String(value.to_owned())
    }
}

impl From<String> for AttributeValue {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

impl From<bool> for AttributeValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<i64> for AttributeValue {
    fn from(value: i64) -> Self {
        Self::S64(value)
    }
}

impl From<f64> for AttributeValue {
    fn from(value: f64) -> Self {
        Self::F64(value)
    }
}

impl TraceId {
    /// The 32 lowercase hex digits OTLP/JSON and `traceparent` use.
    pub fn to_hex(&self) -> String {
        format!("{:016x}{:016x}", self.hi, self.lo)
    }
}

impl SpanContext {
    /// The span ID as the 16 lowercase hex digits OTLP/JSON and `traceparent` use.
    pub fn span_id_hex(&self) -> String {
        format!("{:016x}", self.span_id)
    }

    /// Whether the `sampled` trace flag is set.
    pub fn is_sampled(&self) -> bool {
        self.trace_flags & 1 == 1
    }
}
