//! What `wasi:otel` hands over, in plain Rust: a guest that runs its own OpenTelemetry
//! SDK gives the component finished spans and log records (`on-end`, `on-emit`) whose IDs
//! are hex text and whose attribute values are OTLP `AnyValue`s written as JSON. These
//! modules read them into the [`model`](crate::model); the tracer then applies its
//! sampler, limits and queue as to any span ([`Tracer::record_finished`]).
//!
//! [`Tracer::record_finished`]: crate::tracer::Tracer::record_finished

pub mod hex;
pub mod value;
