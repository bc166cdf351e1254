//! The thin layer between the WIT contract and the plain-Rust tracer: converts WIT types
//! to the model and back, keeps the one tracer of this instance, and reaches the host's
//! imports. No tracing logic lives here.
#![allow(unsafe_code)] // wit-bindgen's generated glue (canonical ABI) is unsafe by nature.

use ::core::cell::RefCell;
use alloc::{string::String, vec::Vec};

use crate::config::{BatchSettings, Config, ScopeConfig};
use crate::ids::{IdGenerator, SEED_LEN};
use crate::limits::SpanLimits;
use crate::model;
use crate::propagation::{extract, format_traceparent, validate_tracestate};
use crate::recorder::{self, OpBatch};
use crate::sampler::Sampler;
use crate::tracer::{self as core, Host, Tracer};

// World `tracing` with the direct API (feature `direct-api`), world `browser` without.
#[cfg(feature = "direct-api")]
wit_bindgen::generate!({
    path: "../wit",
    world: "tracing",
});
#[cfg(not(feature = "direct-api"))]
wit_bindgen::generate!({
    path: "../wit",
    world: "browser",
});

#[cfg(feature = "direct-api")]
mod tracer;

use exports::wasm_otlp::tracing::{pipeline, propagation, recorder as wit_recorder};
use wasm_otlp::tracing::types::{self as wit, TracingError};
use wasm_otlp::tracing::{clock, random, transport};

/// The component instance's export implementation.
struct Component;

export!(Component);

/// One tracer per instance, created on first use with IDs seeded by the host.
static TRACER: Instance = Instance(RefCell::new(None));

/// The instance's state. (`thread_local!` needs std, which this crate leaves out on wasm.)
struct Instance(RefCell<Option<Tracer>>);

// SAFETY: wasm32 without the `atomics` feature has a single thread, and the component
// model never re-enters an instance, so the cell is only ever used from one call at a time.
unsafe impl Sync for Instance {}

/// The host's imports as the tracer's [`Host`].
struct Imports;

impl Host for Imports {
    fn now(&mut self) -> u64 {
        clock::now_unix_nanos()
    }

    fn send(&mut self, body: Vec<u8>, span_count: u32) -> bool {
        transport::send(&body, span_count)
    }
}

/// Runs `f` on this instance's tracer.
fn with_tracer<R>(f: impl FnOnce(&mut Tracer, &mut Imports) -> R) -> R {
    // Never already borrowed (see `Instance`); a plain trap keeps `borrow_mut`'s panic
    // message and location out of every export.
    let Ok(mut slot) = TRACER.0.try_borrow_mut() else {
        ::core::arch::wasm32::unreachable()
    };
    let tracer = slot.get_or_insert_with(new_tracer);
    f(tracer, &mut Imports)
}

/// The instance's tracer, seeded by the host. Not inlined: one copy rather than one in
/// every export.
#[inline(never)]
fn new_tracer() -> Tracer {
    Tracer::new(IdGenerator::from_seed_bytes(&random::random_bytes(
        SEED_LEN as u32,
    )))
}

// ---- WIT -> model ----

fn value(v: wit::AttributeValue) -> model::Value {
    use wit::AttributeValue as A;
    match v {
        A::String(s) => model::Value::String(s),
        A::Bool(b) => model::Value::Bool(b),
        A::S64(i) => model::Value::Int(i),
        A::F64(d) => model::Value::Double(d),
        A::StringArray(items) => model::Value::StringArray(items),
        A::BoolArray(items) => model::Value::BoolArray(items),
        A::S64Array(items) => model::Value::IntArray(items),
        A::F64Array(items) => model::Value::DoubleArray(items),
    }
}

fn key_value(kv: wit::KeyValue) -> model::KeyValue {
    model::KeyValue {
        key: kv.key,
        value: value(kv.value),
    }
}

fn key_values(kvs: Vec<wit::KeyValue>) -> Vec<model::KeyValue> {
    kvs.into_iter().map(key_value).collect()
}

/// A context from the caller; its `tracestate` is validated like a header's.
fn context(c: wit::SpanContext) -> model::SpanContext {
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

fn config(c: wit::Config) -> Config {
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
            max_queue_size: c.batch.max_queue_size,
            scheduled_delay_ms: c.batch.scheduled_delay_ms,
            max_open_spans: c.batch.max_open_spans,
        },
    }
}

// ---- model -> WIT ----

fn wit_context(c: model::SpanContext) -> wit::SpanContext {
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

fn wit_error(e: core::TracingError) -> TracingError {
    match e {
        core::TracingError::UnknownSpan => TracingError::UnknownSpan,
        core::TracingError::TooManyOpenSpans => TracingError::TooManyOpenSpans,
        core::TracingError::UnknownScope => TracingError::UnknownScope,
        core::TracingError::ShutDown => TracingError::ShutDown,
        core::TracingError::InvalidArgument(why) => TracingError::InvalidArgument(why),
    }
}

/// Most IDs handed out by one `reserve-*` call (keeps a bad count from exhausting memory).
const MAX_RESERVE: u32 = 1 << 20;

type WitResult<T> = Result<T, TracingError>;

impl pipeline::Guest for Component {
    fn configure(config: wit::Config) -> WitResult<()> {
        let config = self::config(config);
        with_tracer(|t, host| t.configure(host, config)).map_err(wit_error)
    }

    fn register_scope(scope: wit::InstrumentationScope) -> WitResult<u32> {
        with_tracer(|t, _| {
            t.register_scope(scope.name, scope.version, key_values(scope.attributes))
        })
        .map_err(wit_error)
    }

    fn tick() {
        with_tracer(|t, host| t.tick(host));
    }

    fn next_deadline() -> Option<u64> {
        with_tracer(|t, _| t.next_deadline())
    }

    fn force_flush() {
        with_tracer(|t, host| t.force_flush(host));
    }

    fn shutdown() {
        with_tracer(|t, host| t.shutdown(host));
    }

    fn read_stats() -> wit::Stats {
        let s = with_tracer(|t, _| t.stats());
        wit::Stats {
            spans_started: s.spans_started,
            spans_unsampled: s.spans_unsampled,
            spans_ended: s.spans_ended,
            spans_exported: s.spans_exported,
            spans_dropped_queue_full: s.spans_dropped_queue_full,
            spans_refused_open_limit: s.spans_refused_open_limit,
            truncated_values: s.truncated_values,
            payloads_sent: s.payloads_sent,
            rejected_operations: s.rejected_operations,
        }
    }
}

impl wit_recorder::Guest for Component {
    fn apply(batch: wit_recorder::OpBatch) -> wit_recorder::ApplyOutcome {
        let batch = OpBatch {
            words: &batch.words,
            numbers: &batch.numbers,
            text: &batch.text,
            time_origin_unix_nanos: batch.time_origin_unix_nanos,
        };
        let outcome = with_tracer(|t, host| recorder::apply(t, host, &batch));
        wit_recorder::ApplyOutcome {
            applied: outcome.applied,
            refused: outcome.refused,
            malformed: outcome.malformed,
        }
    }

    fn reserve_roots(count: u32) -> Vec<u32> {
        let count = count.min(MAX_RESERVE);
        with_tracer(|t, _| {
            let mut words = Vec::with_capacity(count as usize * 7);
            for _ in 0..count {
                let root = t.reserve_root();
                let id = root.trace_id;
                words.extend([
                    (id.hi >> 32) as u32,
                    id.hi as u32,
                    (id.lo >> 32) as u32,
                    id.lo as u32,
                    (root.span_id >> 32) as u32,
                    root.span_id as u32,
                    u32::from(root.trace_flags),
                ]);
            }
            words
        })
    }

    fn reserve_span_ids(count: u32) -> Vec<u32> {
        let count = count.min(MAX_RESERVE);
        with_tracer(|t, _| {
            let mut words = Vec::with_capacity(count as usize * 2);
            for _ in 0..count {
                let id = t.reserve_span_id();
                words.extend([(id >> 32) as u32, id as u32]);
            }
            words
        })
    }
}

impl propagation::Guest for Component {
    fn inject(context: wit::SpanContext) -> Option<propagation::TraceHeaders> {
        let context = self::context(context);
        context.is_valid().then(|| propagation::TraceHeaders {
            traceparent: format_traceparent(&context),
            tracestate: Some(context.trace_state).filter(|s| !s.is_empty()),
        })
    }

    fn extract(
        traceparent: String,
        tracestate: Option<String>,
    ) -> Result<wit::SpanContext, String> {
        extract(&traceparent, tracestate.as_deref()).map(wit_context)
    }
}
