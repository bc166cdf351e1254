//! One instance of the component: its store and a method per exported function.
//!
//! One type runs both worlds of `wit/tracing.wit`: `tracing` (every export) and
//! `browser` (only `pipeline` and `recorder`). The interfaces both worlds export are
//! loaded always; `setup`, `propagation` and `tracer` when the component exports them.
//!
//! Every method returns `wasmtime::Result<_>`: `Err` means the guest trapped (a bug in
//! the component; the WIT promises it never traps on bad input), or, for the methods of
//! world `tracing`'s own interfaces, that the component does not export them. The
//! WIT-level outcome, such as `result<_, tracing-error>`, is the `Ok` value.

use wasmtime::component::{Instance, InstancePre};
use wasmtime::{AsContextMut, Store};

use crate::bindings::exports::wasi::otel::{logs as otel_logs, tracing as otel_tracing};
use crate::bindings::exports::wasm_otlp::tracing::{
    pipeline, propagation, recorder, setup, tracer,
};
use crate::host::HostState;
use crate::{
    ApplyOutcome, AttributeValue, Config, InstrumentationScope, KeyValue, Link, LogRecord, OpBatch,
    SpanContext, SpanHandle, SpanOptions, Stats, Status, TraceHeaders, TracingError,
};

/// What a call that may be refused returns: a trap (`Err`) or the WIT result (`Ok`).
pub type CallResult<T> = wasmtime::Result<Result<T, TracingError>>;

/// The name under which a world `tracing` component exports the direct API (world
/// `browser` exports none of `setup`, `propagation` and `tracer`).
const TRACER_EXPORT: &str = "wasm-otlp:tracing/tracer@0.1.0";

/// Where each export lives in a component, looked up once before instantiation.
#[derive(Clone)]
pub(crate) struct ExportIndices {
    pipeline: pipeline::GuestIndices,
    recorder: recorder::GuestIndices,
    /// None for a world `browser` component.
    direct: Option<DirectIndices>,
}

/// The interfaces only world `tracing` exports.
#[derive(Clone)]
struct DirectIndices {
    setup: setup::GuestIndices,
    propagation: propagation::GuestIndices,
    tracer: tracer::GuestIndices,
    otel_tracing: otel_tracing::GuestIndices,
    otel_logs: otel_logs::GuestIndices,
}

impl ExportIndices {
    /// Finds the exports of the component behind `pre`; a component of neither world
    /// (an export missing, or of another type) is an error.
    pub(crate) fn new(pre: &InstancePre<HostState>) -> wasmtime::Result<Self> {
        let has_tracer = pre
            .component()
            .get_export_index(None, TRACER_EXPORT)
            .is_some();
        let direct = || {
            Ok::<_, wasmtime::Error>(DirectIndices {
                setup: setup::GuestIndices::new(pre)?,
                propagation: propagation::GuestIndices::new(pre)?,
                tracer: tracer::GuestIndices::new(pre)?,
                otel_tracing: otel_tracing::GuestIndices::new(pre)?,
                otel_logs: otel_logs::GuestIndices::new(pre)?,
            })
        };
        Ok(Self {
            pipeline: pipeline::GuestIndices::new(pre)?,
            recorder: recorder::GuestIndices::new(pre)?,
            direct: has_tracer.then(direct).transpose()?,
        })
    }

    /// Whether the component exports the direct `tracer` API (world `tracing`).
    pub(crate) fn has_tracer(&self) -> bool {
        self.direct.is_some()
    }

    /// The exported functions of `instance`, typed.
    pub(crate) fn load(
        &self,
        mut store: impl AsContextMut,
        instance: &Instance,
    ) -> wasmtime::Result<Exports> {
        let mut direct = |d: &DirectIndices| {
            Ok::<_, wasmtime::Error>(Direct {
                setup: d.setup.load(&mut store, instance)?,
                propagation: d.propagation.load(&mut store, instance)?,
                tracer: d.tracer.load(&mut store, instance)?,
                otel_tracing: d.otel_tracing.load(&mut store, instance)?,
                otel_logs: d.otel_logs.load(&mut store, instance)?,
            })
        };
        let direct = self.direct.as_ref().map(&mut direct).transpose()?;
        Ok(Exports {
            pipeline: self.pipeline.load(&mut store, instance)?,
            recorder: self.recorder.load(&mut store, instance)?,
            direct,
        })
    }
}

/// The exported functions of one instance.
pub(crate) struct Exports {
    pipeline: pipeline::Guest,
    recorder: recorder::Guest,
    direct: Option<Direct>,
}

/// The functions only world `tracing` exports.
struct Direct {
    setup: setup::Guest,
    propagation: propagation::Guest,
    tracer: tracer::Guest,
    otel_tracing: otel_tracing::Guest,
    otel_logs: otel_logs::Guest,
}

impl Exports {
    /// World `tracing`'s own interfaces, or an error for a world `browser` component.
    fn direct(&self, interface: &str) -> wasmtime::Result<&Direct> {
        self.direct.as_ref().ok_or_else(|| {
            wasmtime::format_err!(
                "this component (world browser) has no {interface} export: \
                 send settings and spans through the recorder, or load the world tracing component"
            )
        })
    }

    fn tracer(&self) -> wasmtime::Result<&tracer::Guest> {
        Ok(&self.direct("tracer")?.tracer)
    }
}

/// A running component: its [`Store`] (holding the [`HostState`]) and its exports.
pub struct TracingInstance {
    store: Store<HostState>,
    instance: Instance,
    exports: Exports,
}

impl TracingInstance {
    /// Wraps an instantiated component and its loaded exports.
    pub(crate) fn new(store: Store<HostState>, instance: Instance, exports: Exports) -> Self {
        Self {
            store,
            instance,
            exports,
        }
    }

    /// The host state answering the component's imports.
    pub fn host(&self) -> &HostState {
        self.store.data()
    }

    /// The host state, mutably.
    pub fn host_mut(&mut self) -> &mut HostState {
        self.store.data_mut()
    }

    /// Whether the component exports the direct `tracer` API (world `tracing`); without
    /// it (world `browser`) the `setup`, `propagation` and `tracer` methods return an error.
    pub fn has_tracer(&self) -> bool {
        self.exports.direct.is_some()
    }

    /// The store and the component instance, for calls this type does not wrap.
    pub fn parts(&mut self) -> (&mut Store<HostState>, &Instance) {
        (&mut self.store, &self.instance)
    }

    // --- setup (world `tracing` only) ---

    /// `setup.configure`: replaces the configuration.
    pub fn configure(&mut self, config: &Config) -> CallResult<()> {
        let setup = &self.exports.direct("setup")?.setup;
        setup.call_configure(&mut self.store, config)
    }

    /// `setup.register-scope`: registers a scope, returns its index.
    pub fn register_scope(&mut self, scope: &InstrumentationScope) -> CallResult<u32> {
        let setup = &self.exports.direct("setup")?.setup;
        setup.call_register_scope(&mut self.store, scope)
    }

    // --- pipeline ---

    /// `pipeline.tick`: exports a partial batch whose delay has passed.
    pub fn tick(&mut self) -> wasmtime::Result<()> {
        let pipeline = &self.exports.pipeline;
        pipeline.call_tick(&mut self.store)
    }

    /// `pipeline.next-deadline`: when `tick` would next export, in Unix nanoseconds.
    pub fn next_deadline(&mut self) -> wasmtime::Result<Option<u64>> {
        let pipeline = &self.exports.pipeline;
        pipeline.call_next_deadline(&mut self.store)
    }

    /// `pipeline.force-flush`: exports everything queued.
    pub fn force_flush(&mut self) -> wasmtime::Result<()> {
        let pipeline = &self.exports.pipeline;
        pipeline.call_force_flush(&mut self.store)
    }

    /// `pipeline.shutdown`: flushes, then refuses new spans.
    pub fn shutdown(&mut self) -> wasmtime::Result<()> {
        let pipeline = &self.exports.pipeline;
        pipeline.call_shutdown(&mut self.store)
    }

    /// `pipeline.read-stats`: counters since the component started.
    pub fn read_stats(&mut self) -> wasmtime::Result<Stats> {
        let pipeline = &self.exports.pipeline;
        pipeline.call_read_stats(&mut self.store)
    }

    // --- tracer (world `tracing` only) ---

    /// `tracer.start-span`: starts a span and returns its handle (its span ID).
    pub fn start_span(&mut self, name: &str, options: &SpanOptions) -> CallResult<SpanHandle> {
        let tracer = self.exports.tracer()?;
        tracer.call_start_span(&mut self.store, name, options)
    }

    /// `tracer.context-of`: the span's context, for propagation or parenting.
    pub fn context_of(&mut self, span: SpanHandle) -> CallResult<SpanContext> {
        let tracer = self.exports.tracer()?;
        tracer.call_context_of(&mut self.store, span)
    }

    /// `tracer.is-recording`: whether the span is sampled.
    pub fn is_recording(&mut self, span: SpanHandle) -> CallResult<bool> {
        let tracer = self.exports.tracer()?;
        tracer.call_is_recording(&mut self.store, span)
    }

    /// `tracer.set-attribute`: sets or replaces one attribute.
    pub fn set_attribute(
        &mut self,
        span: SpanHandle,
        key: &str,
        value: &AttributeValue,
    ) -> CallResult<()> {
        let tracer = self.exports.tracer()?;
        tracer.call_set_attribute(&mut self.store, span, key, value)
    }

    /// `tracer.set-attributes`: sets several attributes.
    pub fn set_attributes(&mut self, span: SpanHandle, attributes: &[KeyValue]) -> CallResult<()> {
        let tracer = self.exports.tracer()?;
        tracer.call_set_attributes(&mut self.store, span, attributes)
    }

    /// `tracer.add-event`: adds an event (`time` none = now).
    pub fn add_event(
        &mut self,
        span: SpanHandle,
        name: &str,
        attributes: &[KeyValue],
        time: Option<u64>,
    ) -> CallResult<()> {
        let tracer = self.exports.tracer()?;
        tracer.call_add_event(&mut self.store, span, name, attributes, time)
    }

    /// `tracer.add-link`: links the span to another span after its start.
    pub fn add_link(&mut self, span: SpanHandle, link: &Link) -> CallResult<()> {
        let tracer = self.exports.tracer()?;
        tracer.call_add_link(&mut self.store, span, link)
    }

    /// `tracer.record-exception`: adds an `exception` event.
    pub fn record_exception(
        &mut self,
        span: SpanHandle,
        exception_type: &str,
        message: &str,
        stacktrace: &str,
        time: Option<u64>,
    ) -> CallResult<()> {
        let tracer = self.exports.tracer()?;
        tracer.call_record_exception(
            &mut self.store,
            span,
            exception_type,
            message,
            stacktrace,
            time,
        )
    }

    /// `tracer.set-status`: sets the status (`ok` is final).
    pub fn set_status(&mut self, span: SpanHandle, status: &Status) -> CallResult<()> {
        let tracer = self.exports.tracer()?;
        tracer.call_set_status(&mut self.store, span, status)
    }

    /// `tracer.update-name`: renames the span.
    pub fn update_name(&mut self, span: SpanHandle, name: &str) -> CallResult<()> {
        let tracer = self.exports.tracer()?;
        tracer.call_update_name(&mut self.store, span, name)
    }

    /// `tracer.end-span`: ends the span (`time` none = now).
    pub fn end_span(&mut self, span: SpanHandle, time: Option<u64>) -> CallResult<()> {
        let tracer = self.exports.tracer()?;
        tracer.call_end_span(&mut self.store, span, time)
    }

    /// `tracer.emit-log`: emits a log record.
    pub fn emit_log(&mut self, entry: &LogRecord) -> CallResult<()> {
        let tracer = self.exports.tracer()?;
        tracer.call_emit_log(&mut self.store, entry)
    }

    // --- recorder ---

    /// `recorder.apply`: applies a batch of recorded span operations.
    pub fn apply(&mut self, batch: &OpBatch) -> wasmtime::Result<ApplyOutcome> {
        let recorder = &self.exports.recorder;
        recorder.call_apply(&mut self.store, batch)
    }

    /// `recorder.reserve-roots`: `count` root contexts, 7 words each.
    pub fn reserve_roots(&mut self, count: u32) -> wasmtime::Result<Vec<u32>> {
        let recorder = &self.exports.recorder;
        recorder.call_reserve_roots(&mut self.store, count)
    }

    /// `recorder.reserve-span-ids`: `count` child span IDs, 2 words each.
    pub fn reserve_span_ids(&mut self, count: u32) -> wasmtime::Result<Vec<u32>> {
        let recorder = &self.exports.recorder;
        recorder.call_reserve_span_ids(&mut self.store, count)
    }

    // --- propagation (world `tracing` only) ---

    /// `propagation.inject`: W3C headers for a context (none for an all-zero context).
    pub fn inject(&mut self, context: &SpanContext) -> wasmtime::Result<Option<TraceHeaders>> {
        let propagation = &self.exports.direct("propagation")?.propagation;
        propagation.call_inject(&mut self.store, context)
    }

    /// `propagation.extract`: parses W3C headers into a context, or says why not.
    pub fn extract(
        &mut self,
        traceparent: &str,
        tracestate: Option<&str>,
    ) -> wasmtime::Result<Result<SpanContext, String>> {
        let propagation = &self.exports.direct("propagation")?.propagation;
        propagation.call_extract(&mut self.store, traceparent, tracestate)
    }

    // --- wasi:otel (world `tracing` only) ---

    /// `wasi:otel/tracing.on-start`: a guest's SDK started a span (it becomes the current span).
    pub fn otel_on_start(&mut self, context: &otel_tracing::SpanContext) -> wasmtime::Result<()> {
        let otel = &self.exports.direct("wasi:otel/tracing")?.otel_tracing;
        otel.call_on_start(&mut self.store, context)
    }

    /// `wasi:otel/tracing.on-end`: a guest's SDK ended a span; it is sampled, bounded and queued.
    pub fn otel_on_end(&mut self, span: &otel_tracing::SpanData) -> wasmtime::Result<()> {
        let otel = &self.exports.direct("wasi:otel/tracing")?.otel_tracing;
        otel.call_on_end(&mut self.store, span)
    }

    /// `wasi:otel/tracing.current-span-context`: the innermost entered span, or all zeros.
    pub fn otel_current_span_context(&mut self) -> wasmtime::Result<otel_tracing::SpanContext> {
        let otel = &self.exports.direct("wasi:otel/tracing")?.otel_tracing;
        otel.call_current_span_context(&mut self.store)
    }

    /// `wasi:otel/tracing.outer-span-context` (the tag text's name): the innermost span the
    /// host started through `tracer`, or all zeros.
    pub fn otel_outer_span_context(&mut self) -> wasmtime::Result<otel_tracing::SpanContext> {
        let otel = &self.exports.direct("wasi:otel/tracing")?.otel_tracing;
        otel.call_outer_span_context(&mut self.store)
    }

    /// `wasi:otel/logs.on-emit`: a guest's SDK emitted a log record.
    pub fn otel_on_emit(&mut self, record: &otel_logs::LogRecord) -> wasmtime::Result<()> {
        let otel = &self.exports.direct("wasi:otel/logs")?.otel_logs;
        otel.call_on_emit(&mut self.store, record)
    }
}
