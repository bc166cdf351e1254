//! A small OpenTelemetry-style SDK over `wasi:otel`, doing what a guest's SDK does with
//! it: a span starts under the current span and says so (`on-start`); when it ends, the
//! whole span goes to `on-end`; log records go to `on-emit` with the span's IDs. Attribute
//! values are JSON text ([`crate::json`]), times come from `wasi:clocks/wall-clock`.
//!
//! The current span comes from `current-span-context` (the tracing component keeps the
//! nesting: `on-start` makes a span current until it ends). With the `tag-text` feature,
//! the SDK keeps its own nesting and asks `outer-span-context` (the host's span: the tag
//! text of `0.2.0-rc.2`, which has no `current-span-context`) only for a root's parent.
//!
//! Built for wasm32-wasip2, IDs come from `wasi:random`, as in an SDK for production. Built
//! for wasm32-unknown-unknown (no WASI but `wasi:otel` and the clock), they come from a
//! generator seeded by the wall clock.

#[cfg(not(target_os = "wasi"))]
use std::cell::Cell;

use crate::bindings::wasi::clocks::wall_clock;
use crate::bindings::wasi::otel::logs::{self, LogRecord};
use crate::bindings::wasi::otel::tracing::{
    self as otel, Event, SpanContext, SpanData, SpanKind, Status, TraceFlags,
};
use crate::bindings::wasi::otel::types::{InstrumentationScope, KeyValue};

/// The invalid span ID: a root span's parent.
const NO_SPAN: &str = "0000000000000000";

/// A span being recorded; [`Span::end`] hands it over.
pub struct Span {
    data: SpanData,
}

impl Span {
    /// Starts `name` as a child of the current span, or as the root of a new, sampled
    /// trace when there is none, and makes it the current span.
    pub fn start(name: &str, kind: SpanKind) -> Span {
        let current = current_span();
        let has_parent = is_valid(&current);
        let context = SpanContext {
            trace_id: if has_parent {
                current.trace_id.clone()
            } else {
                format!("{:016x}{:016x}", next_id(), next_id())
            },
            span_id: format!("{:016x}", next_id()),
            trace_flags: if has_parent {
                current.trace_flags
            } else {
                TraceFlags::SAMPLED
            },
            is_remote: false,
            trace_state: if has_parent {
                current.trace_state
            } else {
                Vec::new()
            },
        };
        otel::on_start(&context);
        #[cfg(feature = "tag-text")]
        OPEN.with(|open| open.borrow_mut().push(context.clone()));
        let start = wall_clock::now();
        Span {
            data: SpanData {
                span_context: context,
                parent_span_id: if has_parent {
                    current.span_id
                } else {
                    NO_SPAN.into()
                },
                span_kind: kind,
                name: name.into(),
                start_time: start,
                end_time: start,
                attributes: Vec::new(),
                events: Vec::new(),
                links: Vec::new(),
                status: Status::Unset,
                instrumentation_scope: scope(),
                dropped_attributes: 0,
                dropped_events: 0,
                dropped_links: 0,
            },
        }
    }

    /// Sets an attribute to a JSON value.
    pub fn set(&mut self, key: &str, json: String) {
        self.data.attributes.retain(|kv| kv.key != key);
        self.data.attributes.push(kv(key, json));
    }

    /// Adds an event now.
    pub fn event(&mut self, name: &str, attributes: Vec<KeyValue>) {
        self.data.events.push(Event {
            name: name.into(),
            time: wall_clock::now(),
            attributes,
        });
    }

    /// Marks the span failed: an error status and an `exception` event.
    pub fn fail(&mut self, exception_type: &str, message: &str) {
        self.event(
            "exception",
            vec![
                kv("exception.type", crate::json::string(exception_type)),
                kv("exception.message", crate::json::string(message)),
            ],
        );
        self.data.status = Status::Error(message.into());
    }

    /// Emits a log record in this span's trace.
    pub fn log(&self, severity_number: u8, severity_text: &str, body: &str) {
        let context = &self.data.span_context;
        logs::on_emit(&LogRecord {
            timestamp: Some(wall_clock::now()),
            observed_timestamp: None,
            severity_text: Some(severity_text.into()),
            severity_number: Some(severity_number),
            body: Some(crate::json::string(body)),
            attributes: Some(vec![kv("product.domain", crate::json::string("inventory"))]),
            event_name: None,
            resource: None,
            instrumentation_scope: Some(scope()),
            trace_id: Some(context.trace_id.clone()),
            span_id: Some(context.span_id.clone()),
            trace_flags: Some(context.trace_flags),
        });
    }

    /// Ends the span now and hands it over; its parent is the current span again.
    pub fn end(mut self) {
        self.data.end_time = wall_clock::now();
        #[cfg(feature = "tag-text")]
        OPEN.with(|open| {
            let mut open = open.borrow_mut();
            open.retain(|c| c.span_id != self.data.span_context.span_id);
        });
        otel::on_end(&self.data);
    }
}

/// The span new spans start under: the tracing component's current span.
#[cfg(not(feature = "tag-text"))]
fn current_span() -> SpanContext {
    otel::current_span_context()
}

#[cfg(feature = "tag-text")]
thread_local! {
    /// This SDK's open spans, innermost last.
    static OPEN: std::cell::RefCell<Vec<SpanContext>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The span new spans start under: this SDK's innermost open span, else the host's.
#[cfg(feature = "tag-text")]
fn current_span() -> SpanContext {
    OPEN.with(|open| open.borrow().last().cloned())
        .unwrap_or_else(otel::outer_span_context)
}

/// One attribute with a JSON value.
pub fn kv(key: &str, json: String) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: json,
    }
}

/// This SDK's instrumentation scope.
fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: env!("CARGO_PKG_NAME").into(),
        version: Some(env!("CARGO_PKG_VERSION").into()),
        schema_url: None,
        attributes: Vec::new(),
    }
}

/// Whether a context names a span (non-zero IDs).
fn is_valid(context: &SpanContext) -> bool {
    let non_zero = |hex: &str| hex.bytes().any(|b| b != b'0');
    non_zero(&context.trace_id) && non_zero(&context.span_id)
}

/// A non-zero 64-bit ID from `wasi:random` (built for wasm32-wasip2).
#[cfg(target_os = "wasi")]
fn next_id() -> u64 {
    loop {
        // `wasi:random` does not fail; a host that made it fail would trap the guest anyway.
        let id = getrandom::u64().expect("wasi:random");
        if id != 0 {
            return id;
        }
    }
}

#[cfg(not(target_os = "wasi"))]
thread_local! {
    /// The ID generator's state; zero until the first ID.
    static ID_STATE: Cell<u64> = const { Cell::new(0) };
}

/// A non-zero 64-bit ID (splitmix64 over a state seeded from the clock), for the build
/// without WASI (wasm32-unknown-unknown), whose only imports are `wasi:otel` and the clock.
#[cfg(not(target_os = "wasi"))]
fn next_id() -> u64 {
    ID_STATE.with(|state| {
        if state.get() == 0 {
            let now = wall_clock::now();
            state.set(now.seconds.wrapping_mul(1_000_000_000) ^ u64::from(now.nanoseconds) | 1);
        }
        loop {
            let s = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
            state.set(s);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            if z != 0 {
                return z;
            }
        }
    })
}
