//! Runs the wasm-otlp tracing component (`dist/wasm_otlp_tracing.wasm`, world `tracing`)
//! under wasmtime; the browser build (`dist/wasm_otlp_browser.wasm`, world `browser`,
//! without the direct `tracer` API) runs the same way.
//!
//! * [`host`]: the host side of the component's imports (clock, randomness, transport).
//! * [`runtime`]: engine set-up, loading a component of either world once, instantiating it.
//! * [`instance`]: one instantiated component with a method per exported function (the
//!   `tracer` ones return an error on a world `browser` component).
//! * [`path`]: where the built components are found.
//! * [`wasi_otel`]: `wasi:otel` for guests that import it, answered by a tracing instance.
//! * [`bindings`]: the Rust types generated from `wit/tracing.wit` (with shorthands such as
//!   [`SpanOptions::root`] and [`KeyValue::new`]).
//!
//! ```no_run
//! use wasmtime_host::{HostState, TracingRuntime};
//!
//! let runtime = TracingRuntime::load_default()?;
//! let host = HostState::new();
//! let payloads = host.payloads();
//! let mut tracing = runtime.instantiate(host)?;
//! let span = tracing.start_span("hello", &wasmtime_host::SpanOptions::root())??;
//! tracing.end_span(span, None)??;
//! tracing.force_flush()?;
//! assert_eq!(payloads.drain().len(), 1);
//! # Ok::<(), wasmtime::Error>(())
//! ```

pub mod bindings;
pub mod host;
pub mod instance;
pub mod path;
pub mod runtime;
mod values;
pub mod wasi_otel;

pub use bindings::Tracing;
pub use bindings::exports::wasm_otlp::tracing::propagation::TraceHeaders;
pub use bindings::exports::wasm_otlp::tracing::recorder::{ApplyOutcome, OpBatch};
pub use bindings::exports::wasm_otlp::tracing::tracer::{
    Link, LogRecord, Parent, SpanHandle, SpanOptions,
};
pub use bindings::wasm_otlp::tracing::transport::Signal;
pub use bindings::wasm_otlp::tracing::types::{
    AttributeValue, BatchSettings, Config, InstrumentationScope, KeyValue, Sampler, SpanContext,
    SpanId, SpanKind, SpanLimits, Stats, Status, TraceId, TracingError,
};
pub use host::{
    Clock, HostState, MAX_RANDOM_BYTES, ManualClock, Payload, PayloadLog, PayloadSink, Randomness,
};
pub use instance::{CallResult, TracingInstance};
pub use path::{
    BROWSER_COMPONENT_PATH_ENV, COMPONENT_PATH_ENV, default_browser_component_path,
    default_component_path,
};
pub use runtime::TracingRuntime;
