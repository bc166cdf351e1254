//! Helpers shared by the integration tests: one compiled component for the test binary, a
//! harness with a manual clock and a payload log, configurations, OTLP/JSON decoding,
//! and an op-stream builder for the recorder ([`ops`]).
#![allow(
    dead_code,
    reason = "not every helper is used by every build of the tests"
)]

pub mod ops;

use std::collections::BTreeSet;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue as OtlpKeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use wasmtime_host::{
    AttributeValue, BatchSettings, CallResult, Clock, Config, HostState, InstrumentationScope,
    KeyValue, ManualClock, Payload, PayloadLog, Sampler, SpanHandle, SpanLimits, SpanOptions,
    TracingInstance, TracingRuntime, default_browser_component_path,
};

/// The component (world `tracing`), compiled once per test binary.
pub fn runtime() -> &'static TracingRuntime {
    static RUNTIME: OnceLock<TracingRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        TracingRuntime::load_default()
            .unwrap_or_else(|err| panic!("loading the component: {err:?}"))
    })
}

/// The browser component (world `browser`, no `tracer`), compiled once per test binary.
pub fn browser_runtime() -> &'static TracingRuntime {
    static RUNTIME: OnceLock<TracingRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        TracingRuntime::load(&default_browser_component_path())
            .unwrap_or_else(|err| panic!("loading the browser component: {err:?}"))
    })
}

/// The names of the interfaces a component exports (`wasm-otlp:tracing/pipeline@0.1.0`, ...).
pub fn exported_interfaces(runtime: &TracingRuntime) -> BTreeSet<String> {
    runtime
        .component()
        .component_type()
        .exports(runtime.engine())
        .map(|(name, _)| name.to_owned())
        .collect()
}

/// Where the manual clock of every harness starts: 2023-11-14T22:13:20Z in Unix nanoseconds.
pub const T0: u64 = 1_700_000_000_000_000_000;

/// Nanoseconds per millisecond.
pub const MS: u64 = 1_000_000;

/// Generous limits: nothing in a test is cut unless the test says so.
pub fn roomy_limits() -> SpanLimits {
    SpanLimits {
        max_attributes: 128,
        max_value_length: 4096,
        max_events: 128,
        max_links: 128,
        max_attributes_per_item: 128,
    }
}

/// Batch settings (no byte bound), the rest in the order of the WIT record.
pub fn batch(
    max_export_batch_size: u32,
    max_queue_size: u32,
    scheduled_delay_ms: u32,
    max_open_spans: u32,
) -> BatchSettings {
    BatchSettings {
        max_export_batch_size,
        max_export_batch_bytes: 0,
        max_queue_size,
        scheduled_delay_ms,
        max_open_spans,
    }
}

/// A scope without attributes.
pub fn scope(name: &str, version: &str) -> InstrumentationScope {
    InstrumentationScope {
        name: name.to_owned(),
        version: version.to_owned(),
        attributes: Vec::new(),
    }
}

/// The configuration tests start from: always on, roomy limits, batches of 512 spans,
/// a 5 s delay, and nothing exported before a test asks for it.
pub fn test_config() -> Config {
    Config {
        resource: vec![KeyValue::new("service.name", "wasm-otlp-tests")],
        default_scope: scope("wasm-otlp-tests", "0.1.0"),
        sampler: Sampler::AlwaysOn,
        limits: roomy_limits(),
        batch: batch(512, 4096, 5_000, 4096),
    }
}

/// Unwraps a call that must neither trap nor be refused.
#[track_caller]
pub fn ok<T>(result: CallResult<T>) -> T {
    match result {
        Ok(Ok(value)) => value,
        Ok(Err(refusal)) => panic!("the component refused the call: {refusal:?}"),
        Err(trap) => panic!("the component trapped: {trap:?}"),
    }
}

/// Unwraps a call that must not trap.
#[track_caller]
pub fn no_trap<T>(result: wasmtime::Result<T>) -> T {
    result.unwrap_or_else(|trap| panic!("the component trapped: {trap:?}"))
}

/// A fresh component instance with a manual clock at [`T0`] and a payload log.
pub struct Harness {
    /// The instance under test.
    pub tracing: TracingInstance,
    /// The clock the instance reads; move it between calls.
    pub clock: ManualClock,
    /// Every payload the instance sent.
    pub payloads: PayloadLog,
}

impl Harness {
    /// An instance configured with [`test_config`].
    pub fn new() -> Self {
        Self::with_config(&test_config())
    }

    /// An instance configured with `config` (which must be accepted).
    pub fn with_config(config: &Config) -> Self {
        let mut harness = Self::unconfigured();
        ok(harness.tracing.configure(config));
        harness
    }

    /// An instance with the component's own default configuration.
    pub fn unconfigured() -> Self {
        Self::with_host(|host| host)
    }

    /// An unconfigured instance whose host state `customize` adjusts (for instance to
    /// add a transport sink); the clock is manual at [`T0`].
    pub fn with_host(customize: impl FnOnce(HostState) -> HostState) -> Self {
        Self::of(runtime(), customize)
    }

    /// An unconfigured instance of `runtime`'s component, host state as in [`Self::with_host`].
    pub fn of(runtime: &TracingRuntime, customize: impl FnOnce(HostState) -> HostState) -> Self {
        let clock = ManualClock::new(T0);
        let host = customize(HostState::new().with_clock(Clock::Manual(clock.clone())));
        let payloads = host.payloads();
        let tracing = no_trap(runtime.instantiate(host));
        Self {
            tracing,
            clock,
            payloads,
        }
    }

    /// Starts a root span now (must be accepted).
    #[track_caller]
    pub fn start(&mut self, name: &str) -> SpanHandle {
        ok(self.tracing.start_span(name, &SpanOptions::root()))
    }

    /// Starts a span with `options` (must be accepted).
    #[track_caller]
    pub fn start_with(&mut self, name: &str, options: &SpanOptions) -> SpanHandle {
        ok(self.tracing.start_span(name, options))
    }

    /// Ends a span now (must be accepted).
    #[track_caller]
    pub fn end(&mut self, span: SpanHandle) {
        ok(self.tracing.end_span(span, None));
    }

    /// Sets one attribute (must be accepted).
    #[track_caller]
    pub fn set(&mut self, span: SpanHandle, key: &str, value: impl Into<AttributeValue>) {
        ok(self.tracing.set_attribute(span, key, &value.into()));
    }

    /// Force-flushes and takes every payload sent so far.
    pub fn flush(&mut self) -> Vec<Payload> {
        no_trap(self.tracing.force_flush());
        self.payloads.drain()
    }

    /// Force-flushes and returns every span sent so far, in payload order.
    pub fn flush_spans(&mut self) -> Vec<Span> {
        let payloads = self.flush();
        spans_of_payloads(&payloads)
    }

    /// Force-flushes and returns the single span sent.
    #[track_caller]
    pub fn flush_one_span(&mut self) -> Span {
        let mut spans = self.flush_spans();
        assert_eq!(spans.len(), 1, "expected exactly one exported span");
        spans.remove(0)
    }
}

impl Deref for Harness {
    type Target = TracingInstance;

    fn deref(&self) -> &TracingInstance {
        &self.tracing
    }
}

impl DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut TracingInstance {
        &mut self.tracing
    }
}

/// Decodes a payload with opentelemetry-proto's serde model, checking `span-count`.
#[track_caller]
pub fn decode(payload: &Payload) -> ExportTraceServiceRequest {
    let text = payload.json().expect("the payload is not UTF-8");
    let request: ExportTraceServiceRequest = serde_json::from_str(text).unwrap_or_else(|err| {
        panic!(
            "the payload is not an ExportTraceServiceRequest: {err}\n{}",
            preview(text)
        )
    });
    let spans: usize = spans_of(&request).count();
    assert_eq!(
        spans, payload.count as usize,
        "span-count disagrees with the spans in the body"
    );
    request
}

/// The payload as untyped JSON, for checks on the wire form itself.
#[track_caller]
pub fn raw_json(payload: &Payload) -> serde_json::Value {
    serde_json::from_slice(&payload.body).expect("the payload is not JSON")
}

/// Every span of every `scopeSpans` of every `resourceSpans`.
pub fn spans_of(request: &ExportTraceServiceRequest) -> impl Iterator<Item = &Span> {
    request
        .resource_spans
        .iter()
        .flat_map(|resource| &resource.scope_spans)
        .flat_map(|scope| &scope.spans)
}

/// Every span of several payloads, in order.
#[track_caller]
pub fn spans_of_payloads(payloads: &[Payload]) -> Vec<Span> {
    payloads
        .iter()
        .flat_map(|payload| spans_of(&decode(payload)).cloned().collect::<Vec<_>>())
        .collect()
}

/// Every span object in a payload's raw JSON.
pub fn raw_spans(json: &serde_json::Value) -> Vec<&serde_json::Value> {
    let mut spans = Vec::new();
    for resource in json["resourceSpans"].as_array().into_iter().flatten() {
        for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
            spans.extend(scope["spans"].as_array().into_iter().flatten());
        }
    }
    spans
}

/// The first span named `name`.
#[track_caller]
pub fn span_named<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans
        .iter()
        .find(|span| span.name == name)
        .unwrap_or_else(|| panic!("no span named {name:?} among {:?}", names(spans)))
}

/// The names of `spans`.
pub fn names(spans: &[Span]) -> Vec<&str> {
    spans.iter().map(|span| span.name.as_str()).collect()
}

/// The value of attribute `key`, if present.
pub fn attribute<'a>(attributes: &'a [OtlpKeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|value| value.value.as_ref())
}

/// The string value of attribute `key`.
#[track_caller]
pub fn string_attribute<'a>(attributes: &'a [OtlpKeyValue], key: &str) -> &'a str {
    match attribute(attributes, key) {
        Some(Value::StringValue(text)) => text,
        other => panic!("attribute {key:?} is not a string: {other:?}"),
    }
}

/// The keys of `attributes`, in order.
pub fn keys(attributes: &[OtlpKeyValue]) -> Vec<&str> {
    attributes.iter().map(|kv| kv.key.as_str()).collect()
}

/// A span ID as the bytes OTLP carries (big-endian).
pub fn span_id_bytes(span_id: u64) -> Vec<u8> {
    span_id.to_be_bytes().to_vec()
}

/// A trace ID as the bytes OTLP carries (big-endian, `hi` first).
pub fn trace_id_bytes(trace_id: &wasmtime_host::TraceId) -> Vec<u8> {
    let mut bytes = trace_id.hi.to_be_bytes().to_vec();
    bytes.extend_from_slice(&trace_id.lo.to_be_bytes());
    bytes
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The start of a long text, for failure messages.
pub fn preview(text: &str) -> &str {
    let mut end = text.len().min(2_000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
