//! `wasi:otel`: the example guest that traces through it (`examples/otel-guest`), composed
//! with the tracing component (`just compose`: `dist/otel_guest_composed.wasm`) and run
//! alone with the host providing `wasi:otel` (`wasmtime_host::wasi_otel`); and the tracing
//! component's `wasi:otel` exports fed hostile input directly.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, KeyValue as OtlpKeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};
use wasmtime_host::bindings::exports::wasi::otel::logs::LogRecord;
use wasmtime_host::bindings::exports::wasi::otel::tracing::{
    SpanContext as OtelContext, SpanData, SpanKind as OtelKind, Status, TraceFlags,
};
use wasmtime_host::bindings::wasi::clocks::wall_clock::{self, Datetime};
use wasmtime_host::bindings::wasi::otel::types::{
    InstrumentationScope as OtelScope, KeyValue as OtelKeyValue,
};
use wasmtime_host::runtime::imported_functions;
use wasmtime_host::{
    Clock, Config, HostState, InstrumentationScope, KeyValue, ManualClock, Payload, PayloadLog,
    Signal, TracingInstance, wasi_otel,
};

use crate::common::{Harness, T0, attribute, decode, hex, no_trap, runtime, test_config};

/// Bindings for the guest alone and for its composition (`examples/otel-guest/wit/guest.wit`).
/// Their imports reuse `wasmtime_host`'s bindings, which `HostState` implements.
pub(crate) mod bindings {
    pub mod guest {
        wasmtime::component::bindgen!({
            world: "wasm-otlp:otel-guest/otel-guest",
            path: ["../wit", "../examples/otel-guest/wit"],
            with: {
                "wasi:clocks/wall-clock": wasmtime_host::bindings::wasi::clocks::wall_clock,
                "wasi:otel/types": wasmtime_host::bindings::wasi::otel::types,
            },
            // `wasi:otel/tracing` and `logs` get traits here that nothing implements:
            // `wasmtime_host::wasi_otel` answers them.
        });
    }

    pub mod composed {
        wasmtime::component::bindgen!({
            world: "wasm-otlp:otel-guest/composed",
            path: ["../wit", "../examples/otel-guest/wit"],
            with: {
                "wasm-otlp:tracing/types": wasmtime_host::bindings::wasm_otlp::tracing::types,
                "wasm-otlp:tracing/clock": wasmtime_host::bindings::wasm_otlp::tracing::clock,
                "wasm-otlp:tracing/random": wasmtime_host::bindings::wasm_otlp::tracing::random,
                "wasm-otlp:tracing/transport": wasmtime_host::bindings::wasm_otlp::tracing::transport,
                "wasi:clocks/wall-clock": wasmtime_host::bindings::wasi::clocks::wall_clock,
            },
        });
    }
}

use bindings::composed::exports::wasm_otlp::otel_guest::inventory::Reservation;
use bindings::composed::exports::wasm_otlp::tracing::tracer::{Parent, SpanOptions};
use bindings::composed::{Composed, ComposedPre};
use bindings::guest::{OtelGuest, OtelGuestPre};

/// A built component under `dist/`, which `just compose` writes.
pub(crate) fn dist(file: &str) -> std::path::PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dist")
        .join(file);
    assert!(
        path.is_file(),
        "no {} : run `just compose` first",
        path.display()
    );
    path
}

/// The composition `file`, compiled and linked.
fn link_composed(file: &str) -> ComposedPre<HostState> {
    let engine = Engine::default();
    let component = Component::from_file(&engine, dist(file)).expect("compiling the composition");
    let mut linker = Linker::new(&engine);
    Composed::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)
        .expect("linking the host imports");
    let pre = linker
        .instantiate_pre(&component)
        .expect("the composition imports the tracing component's host services and the wall clock");
    ComposedPre::new(pre).expect("the composition has world composed's exports")
}

/// The composition of the guest (`current-span-context`), compiled once per test binary.
fn composed() -> &'static ComposedPre<HostState> {
    static PRE: OnceLock<ComposedPre<HostState>> = OnceLock::new();
    PRE.get_or_init(|| link_composed("otel_guest_composed.wasm"))
}

/// The composition of the guest built against the tag text (`outer-span-context`).
fn tag_text_composed() -> &'static ComposedPre<HostState> {
    static PRE: OnceLock<ComposedPre<HostState>> = OnceLock::new();
    PRE.get_or_init(|| link_composed("otel_guest_tag_text_composed.wasm"))
}

/// The configuration both ways of running the guest use.
pub(crate) fn config() -> Config {
    Config {
        resource: vec![KeyValue::new("service.name", "warehouse")],
        default_scope: InstrumentationScope {
            name: "host".into(),
            version: "1.0.0".into(),
            attributes: Vec::new(),
        },
        ..test_config()
    }
}

/// One configured instance of a composition, at [`T0`] on a manual clock; its store's
/// data is the tracing component's host (`T = HostState`) or holds it.
pub(crate) struct ComposedGuest<T: 'static = HostState> {
    store: Store<T>,
    bindings: Composed,
    payloads: PayloadLog,
}

impl ComposedGuest {
    fn new() -> Self {
        Self::of(composed(), |host, _| host)
    }
}

impl<T: 'static> ComposedGuest<T> {
    /// An instance of `pre` whose store holds what `data` makes of the tracing component's
    /// host and the manual clock it reads.
    pub(crate) fn of(pre: &ComposedPre<T>, data: impl FnOnce(HostState, ManualClock) -> T) -> Self {
        let clock = ManualClock::new(T0);
        let host = HostState::new().with_clock(Clock::Manual(clock.clone()));
        let payloads = host.payloads();
        let mut store = Store::new(pre.engine(), data(host, clock));
        let bindings = no_trap(pre.instantiate(&mut store));
        let setup = bindings.wasm_otlp_tracing_setup();
        no_trap(setup.call_configure(&mut store, &config())).expect("config accepted");
        Self {
            store,
            bindings,
            payloads,
        }
    }

    pub(crate) fn reserve(&mut self, sku: &str, quantity: u32) -> Result<Reservation, String> {
        let inventory = self.bindings.wasm_otlp_otel_guest_inventory();
        no_trap(inventory.call_reserve(&mut self.store, sku, quantity))
    }

    /// Starts a root span of the host's through the composition's `tracer`.
    pub(crate) fn start(&mut self, name: &str) -> u64 {
        let tracer = self.bindings.wasm_otlp_tracing_tracer();
        let options = SpanOptions {
            kind: wasmtime_host::SpanKind::Server,
            parent: Parent::None,
            attributes: Vec::new(),
            links: Vec::new(),
            start_time: None,
            scope: 0,
        };
        no_trap(tracer.call_start_span(&mut self.store, name, &options)).expect("started")
    }

    pub(crate) fn end(&mut self, span: u64) {
        let tracer = self.bindings.wasm_otlp_tracing_tracer();
        no_trap(tracer.call_end_span(&mut self.store, span, None)).expect("ended");
    }

    /// Reserves 2 `TEA-BLACK-250` inside a span of the host's, and checks that the guest's
    /// three spans hang under it ([`assert_reservation_under`]); returns all four.
    pub(crate) fn reserve_under_a_host_span(&mut self) -> Vec<(Span, String, String)> {
        let request = self.start("POST /reserve");
        let reservation = self.reserve("TEA-BLACK-250", 2).expect("reserved");
        assert_eq!((reservation.reserved, reservation.remaining), (2, 38));
        self.end(request);
        let spans = spans(&self.flush());
        assert_eq!(
            spans.len(),
            4,
            "{:?}",
            spans.iter().map(|(s, ..)| &s.name).collect::<Vec<_>>()
        );
        assert_reservation_under(&spans, named(&spans, "POST /reserve"));
        spans
    }

    pub(crate) fn flush(&mut self) -> Vec<Payload> {
        let pipeline = self.bindings.wasm_otlp_tracing_pipeline();
        no_trap(pipeline.call_force_flush(&mut self.store));
        self.payloads.drain()
    }
}

/// The spans of the traces payloads, with their scope's name and version.
pub(crate) fn spans(payloads: &[Payload]) -> Vec<(Span, String, String)> {
    payloads
        .iter()
        .filter(|p| p.signal == Signal::Traces)
        .flat_map(|p| decode(p).resource_spans)
        .inspect(|resource| {
            let attributes = &resource.resource.as_ref().expect("a resource").attributes;
            assert_eq!(
                attribute(attributes, "service.name"),
                Some(&Value::StringValue("warehouse".into()))
            );
        })
        .flat_map(|resource| resource.scope_spans)
        .flat_map(|scope| {
            let s = scope.scope.unwrap_or_default();
            scope
                .spans
                .into_iter()
                .map(move |span| (span, s.name.clone(), s.version.clone()))
        })
        .collect()
}

/// The log records of the logs payloads.
pub(crate) fn logs(payloads: &[Payload]) -> Vec<opentelemetry_proto::tonic::logs::v1::LogRecord> {
    payloads
        .iter()
        .filter(|p| p.signal == Signal::Logs)
        .map(|p| serde_json::from_slice::<ExportLogsServiceRequest>(&p.body).expect("logs JSON"))
        .flat_map(|request| request.resource_logs)
        .flat_map(|resource| resource.scope_logs)
        .flat_map(|scope| scope.log_records)
        .collect()
}

#[track_caller]
pub(crate) fn named<'a>(spans: &'a [(Span, String, String)], name: &str) -> &'a Span {
    let found: Vec<_> = spans.iter().filter(|(s, ..)| s.name == name).collect();
    assert_eq!(found.len(), 1, "one span named {name}");
    &found[0].0
}

pub(crate) fn string(text: &str) -> Value {
    Value::StringValue(text.into())
}

/// The guest's spans of one successful reservation of 2 `TEA-BLACK-250` under `host`
/// (the host's span): nested through `current-span-context`, with strings, integers, a
/// double, a boolean, a string array and a map read from their JSON (the reader's unit
/// tests cover the other shapes).
#[track_caller]
pub(crate) fn assert_reservation_under(spans: &[(Span, String, String)], host: &Span) {
    let reserve = named(spans, "inventory.reserve");
    let lookup = named(spans, "stock.lookup");
    let update = named(spans, "stock.update");
    for (span, parent) in [(reserve, host), (lookup, reserve), (update, reserve)] {
        assert_eq!(
            span.trace_id, parent.trace_id,
            "{} in the host's trace",
            span.name
        );
        assert_eq!(
            span.parent_span_id, parent.span_id,
            "{} under {}",
            span.name, parent.name
        );
    }
    for (span, scope, version) in spans {
        if span.name != host.name {
            assert_eq!(
                (scope.as_str(), version.as_str()),
                ("otel-guest", "0.1.0"),
                "{}",
                span.name
            );
        }
        assert_eq!(
            span.start_time_unix_nano, T0,
            "{}: the wall clock is the host's",
            span.name
        );
    }
    assert_eq!(reserve.kind, SpanKind::Server as i32);
    let attr = |span: &Span, key| attribute(&span.attributes, key).cloned();
    assert_eq!(attr(reserve, "product.sku"), Some(string("TEA-BLACK-250")));
    assert_eq!(attr(reserve, "reserve.quantity"), Some(Value::IntValue(2)));
    assert_eq!(
        attr(reserve, "reserve.remaining"),
        Some(Value::IntValue(38))
    );
    assert_eq!(reserve.events[0].name, "reservation.made");
    assert_eq!(attr(lookup, "stock.on_hand"), Some(Value::IntValue(40)));
    assert_eq!(
        attr(lookup, "stock.unit_weight_kg"),
        Some(Value::DoubleValue(0.25))
    );
    let array = |items: &[&str]| {
        Value::ArrayValue(ArrayValue {
            values: items
                .iter()
                .map(|item| AnyValue {
                    value: Some(string(item)),
                })
                .collect(),
        })
    };
    assert_eq!(
        attr(lookup, "stock.warehouses"),
        Some(array(&["lyon", "porto"]))
    );
    let entry = |key: &str, value: &str| OtlpKeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(string(value)),
        }),
        ..OtlpKeyValue::default()
    };
    assert_eq!(
        attr(lookup, "stock.location"),
        Some(Value::KvlistValue(KeyValueList {
            values: vec![entry("aisle", "A3"), entry("bay", "12")],
        })),
        "a map is a kvlistValue"
    );
    assert_eq!(attr(update, "stock.low"), Some(Value::BoolValue(false)));
}

#[test]
fn the_composition_imports_the_host_services_and_the_wall_clock_only() {
    let engine = composed().engine();
    let ty = composed().instance_pre().component().component_type();
    let exports: BTreeSet<String> = ty.exports(engine).map(|(name, _)| name.into()).collect();
    let expected: BTreeSet<String> = [
        "wasm-otlp:otel-guest/inventory@0.1.0",
        "wasm-otlp:tracing/pipeline@0.1.0",
        "wasm-otlp:tracing/setup@0.1.0",
        "wasm-otlp:tracing/tracer@0.1.0",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(exports, expected, "wasi:otel stays inside");
    let component = composed().instance_pre().component();
    let functions: BTreeSet<String> = imported_functions(engine, component).into_iter().collect();
    let mut expected: BTreeSet<String> = crate::imports::HOST_FUNCTIONS.map(String::from).into();
    expected.insert("wasi:clocks/wall-clock@0.2.0#now".into());
    assert_eq!(functions, expected);
}

#[test]
fn composed_guest_spans_hang_under_the_hosts_open_span() {
    let spans = ComposedGuest::new().reserve_under_a_host_span();
    let host = named(&spans, "POST /reserve");
    assert!(host.parent_span_id.is_empty());
    let (_, scope, _) = spans.iter().find(|(s, ..)| s.name == host.name).unwrap();
    assert_eq!(scope, "host", "the host's span keeps the default scope");
}

#[test]
fn a_guest_built_against_the_tag_text_composes_and_hangs_under_the_hosts_span() {
    // The guest asks `outer-span-context`, the tag text's name, and not `current-span-context`.
    let engine = Engine::default();
    let guest = Component::from_file(&engine, dist("otel_guest_tag_text.wasm"))
        .expect("compiling the guest");
    let ty = guest.component_type();
    let (_, tracing) = ty
        .imports(&engine)
        .find(|(name, _)| *name == "wasi:otel/tracing@0.2.0-rc.2")
        .expect("the guest imports wasi:otel/tracing");
    let ComponentItem::ComponentInstance(tracing) = tracing.ty else {
        panic!("an instance import");
    };
    let functions: BTreeSet<&str> = tracing
        .exports(&engine)
        .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        functions,
        BTreeSet::from(["on-start", "on-end", "outer-span-context"])
    );

    ComposedGuest::of(tag_text_composed(), |host, _| host).reserve_under_a_host_span();
}

#[test]
fn without_a_host_span_the_guest_starts_a_trace_and_logs_in_it() {
    let mut guest = ComposedGuest::new();
    let reservation = guest.reserve("CUP-PORCELAIN", 4).expect("reserved");
    assert_eq!(reservation.remaining, 2);
    let payloads = guest.flush();
    let spans = spans(&payloads);
    let root = named(&spans, "inventory.reserve");
    assert!(root.parent_span_id.is_empty(), "a root span");
    assert_eq!(root.trace_id.len(), 16);
    assert_eq!(named(&spans, "stock.update").parent_span_id, root.span_id);

    let logs = logs(&payloads);
    assert_eq!(logs.len(), 1, "the low-stock record");
    let log = &logs[0];
    assert_eq!(
        (log.severity_number, log.severity_text.as_str()),
        (9, "INFO")
    );
    assert_eq!(
        log.body.as_ref().and_then(|b| b.value.clone()),
        Some(string("stock of CUP-PORCELAIN is low: 2 left"))
    );
    assert_eq!(
        (&log.trace_id, &log.span_id),
        (&root.trace_id, &root.span_id)
    );
    assert_eq!(
        attribute(&log.attributes, "product.domain"),
        Some(&string("inventory"))
    );
    assert_eq!(log.time_unix_nano, T0);
}

#[test]
fn a_refused_reservation_records_an_error_and_a_warning() {
    let mut guest = ComposedGuest::new();
    assert_eq!(
        guest.reserve("NOPE", 1).err().as_deref(),
        Some("unknown SKU: NOPE")
    );
    assert_eq!(
        guest.reserve("CUP-PORCELAIN", 7).err().as_deref(),
        Some("not enough stock: CUP-PORCELAIN")
    );
    let payloads = guest.flush();
    let spans = spans(&payloads);
    let roots: Vec<&Span> = spans
        .iter()
        .map(|(s, ..)| s)
        .filter(|s| s.name == "inventory.reserve")
        .collect();
    assert_eq!(roots.len(), 2);
    for root in &roots {
        let status = root.status.as_ref().expect("a status");
        assert_eq!(status.code, StatusCode::Error as i32);
        let exception = root
            .events
            .iter()
            .find(|e| e.name == "exception")
            .expect("an exception event");
        assert_eq!(
            attribute(&exception.attributes, "exception.message"),
            Some(&string(&status.message))
        );
    }
    let failed_lookup = spans
        .iter()
        .map(|(s, ..)| s)
        .find(|s| {
            s.name == "stock.lookup"
                && s.status
                    .as_ref()
                    .is_some_and(|st| st.code == StatusCode::Error as i32)
        })
        .expect("the unknown SKU's lookup failed");
    assert_eq!(
        failed_lookup.status.as_ref().unwrap().message,
        "unknown SKU"
    );
    let warnings: Vec<_> = logs(&payloads)
        .into_iter()
        .filter(|l| l.severity_number == 13)
        .collect();
    assert_eq!(warnings.len(), 2);
    assert_eq!(
        warnings[1].body.as_ref().and_then(|b| b.value.clone()),
        Some(string(
            "reservation refused: not enough stock: CUP-PORCELAIN"
        ))
    );
}

/// A tracing instance for a guest run alone, which the host gives `wasi:otel`
/// ([`wasi_otel::add_to_linker`]): shared with the host, which has a span open.
pub(crate) struct SharedTracing {
    /// The instance, shared with the guest's `wasi:otel`.
    pub(crate) tracing: Arc<Mutex<TracingInstance>>,
    /// The clock the instance reads; give the guest's wall clock the same.
    pub(crate) clock: ManualClock,
    payloads: PayloadLog,
    host_span: u64,
}

impl SharedTracing {
    /// An instance configured with [`config`], with the host's `POST /reserve` span open.
    pub(crate) fn new() -> Self {
        let mut harness = Harness::with_config(&config());
        let host_span = crate::common::ok(
            harness
                .tracing
                .start_span("POST /reserve", &wasmtime_host::SpanOptions::root()),
        );
        Self {
            tracing: Arc::new(Mutex::new(harness.tracing)),
            clock: harness.clock,
            payloads: harness.payloads,
            host_span,
        }
    }

    /// The guest `dist/<file>` compiled, its `wasi:otel` imports answered by this instance
    /// and the rest by what `link` adds.
    pub(crate) fn link_guest<T: 'static>(
        &self,
        file: &str,
        link: impl FnOnce(&mut Linker<T>),
    ) -> OtelGuestPre<T> {
        let engine = runtime().engine();
        let component = Component::from_file(engine, dist(file)).expect("compiling the guest");
        let mut linker = Linker::new(engine);
        wasi_otel::add_to_linker(&mut linker, &self.tracing).expect("wasi:otel linked");
        link(&mut linker);
        let pre = linker
            .instantiate_pre(&component)
            .expect("every import answered");
        OtelGuestPre::new(pre).expect("the guest's exports")
    }

    /// Ends the host's span and checks what the guest sent after reserving 2
    /// `TEA-BLACK-250` and 4 `CUP-PORCELAIN`: both reservations under the host's span, the
    /// first one's spans as [`assert_reservation_under`] says, and the low-stock record in
    /// the host's trace.
    pub(crate) fn assert_two_reservations_under_the_hosts_span(self) {
        let mut tracing = self.tracing.lock().unwrap();
        crate::common::ok(tracing.end_span(self.host_span, None));
        no_trap(tracing.force_flush());
        let payloads = self.payloads.drain();
        let spans = spans(&payloads);
        let host = named(&spans, "POST /reserve");
        assert_eq!(spans.len(), 7, "the host's span and three per reservation");
        let reserves: Vec<&Span> = spans
            .iter()
            .map(|(s, ..)| s)
            .filter(|s| s.name == "inventory.reserve")
            .collect();
        assert_eq!(reserves.len(), 2);
        for reserve in &reserves {
            assert_eq!(
                reserve.parent_span_id, host.span_id,
                "both under the host's span"
            );
        }
        let tea = reserves
            .iter()
            .find(|s| attribute(&s.attributes, "product.sku") == Some(&string("TEA-BLACK-250")))
            .unwrap();
        let tea_spans: Vec<_> = spans
            .iter()
            .filter(|(s, ..)| {
                s.span_id == tea.span_id || s.parent_span_id == tea.span_id || s.name == host.name
            })
            .cloned()
            .collect();
        assert_reservation_under(&tea_spans, host);
        let logs = logs(&payloads);
        assert_eq!(logs.len(), 1, "the low-stock record");
        assert_eq!(logs[0].trace_id, host.trace_id);
    }
}

#[test]
fn a_wasmtime_host_provides_wasi_otel_to_the_guest_directly() {
    let shared = SharedTracing::new();
    let pre = shared.link_guest("otel_guest.wasm", |linker| {
        wall_clock::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)
            .expect("the wall clock linked");
    });
    let guest_host = HostState::new().with_clock(Clock::Manual(shared.clock.clone()));
    let mut store = Store::new(pre.engine(), guest_host);
    let guest: OtelGuest = no_trap(pre.instantiate(&mut store));
    let inventory = guest.wasm_otlp_otel_guest_inventory();
    let reservation =
        no_trap(inventory.call_reserve(&mut store, "TEA-BLACK-250", 2)).expect("reserved");
    assert_eq!(reservation.remaining, 38);

    // The low-stock log record goes through the forwarded `on-emit`.
    let low = no_trap(inventory.call_reserve(&mut store, "CUP-PORCELAIN", 4)).expect("reserved");
    assert_eq!(low.remaining, 2);

    // Holding the instance's lock while calling the guest makes its wasi:otel calls trap,
    // with the reason, rather than hang.
    let held = shared.tracing.lock().unwrap();
    let trap = inventory
        .call_reserve(&mut store, "TEA-BLACK-250", 1)
        .expect_err("the guest's on-start finds the lock taken");
    assert!(
        format!("{trap:?}").contains("the host holds its lock"),
        "{trap:?}"
    );
    drop(held);
    shared.assert_two_reservations_under_the_hosts_span();
}

/// A span as a hostile or buggy guest SDK might hand it over.
fn span_data(trace_id: &str, span_id: &str, attributes: Vec<OtelKeyValue>) -> SpanData {
    let time = Datetime {
        seconds: T0 / 1_000_000_000,
        nanoseconds: 0,
    };
    SpanData {
        span_context: OtelContext {
            trace_id: trace_id.into(),
            span_id: span_id.into(),
            trace_flags: TraceFlags::SAMPLED,
            is_remote: false,
            trace_state: vec![("vendor".into(), "v1".into())],
        },
        parent_span_id: "not hex".into(),
        span_kind: OtelKind::Internal,
        name: "hostile".into(),
        start_time: time,
        end_time: time,
        attributes,
        events: Vec::new(),
        links: Vec::new(),
        status: Status::Unset,
        instrumentation_scope: OtelScope {
            name: "x".repeat(100_000),
            version: None,
            schema_url: None,
            attributes: Vec::new(),
        },
        dropped_attributes: u32::MAX,
        dropped_events: 0,
        dropped_links: 0,
    }
}

fn kv(key: &str, json: &str) -> OtelKeyValue {
    OtelKeyValue {
        key: key.into(),
        value: json.into(),
    }
}

#[test]
fn the_current_span_is_the_innermost_entered_and_the_outer_one_the_hosts() {
    let mut harness = Harness::with_config(&config());
    let host = harness.start("POST /reserve");
    let host_id = format!("{host:016x}");
    let tracing = &mut harness.tracing;
    let guest = OtelContext {
        trace_id: no_trap(tracing.otel_current_span_context()).trace_id,
        span_id: "00f067aa0ba902b7".into(),
        trace_flags: TraceFlags::SAMPLED,
        is_remote: false,
        trace_state: Vec::new(),
    };
    assert_eq!(
        no_trap(tracing.otel_current_span_context()).span_id,
        host_id
    );
    no_trap(tracing.otel_on_start(&guest));
    assert_eq!(
        no_trap(tracing.otel_current_span_context()).span_id,
        guest.span_id
    );
    assert_eq!(
        no_trap(tracing.otel_outer_span_context()).span_id,
        host_id,
        "the tag text's outer-span-context is the host's span"
    );
    let mut ended = span_data(&guest.trace_id, &guest.span_id, Vec::new());
    ended.parent_span_id = host_id.clone();
    no_trap(tracing.otel_on_end(&ended));
    assert_eq!(
        no_trap(tracing.otel_current_span_context()).span_id,
        host_id
    );
    harness.end(host);
    let tracing = &mut harness.tracing;
    for context in [
        no_trap(tracing.otel_current_span_context()),
        no_trap(tracing.otel_outer_span_context()),
    ] {
        assert_eq!(context.span_id, "0000000000000000");
        assert!(!context.trace_flags.contains(TraceFlags::SAMPLED));
    }
}

#[test]
fn hostile_wasi_otel_input_is_dropped_and_counted_without_trapping() {
    let mut harness = Harness::with_config(&config());
    let tracing: &mut TracingInstance = &mut harness.tracing;
    let zero = no_trap(tracing.otel_current_span_context());
    assert_eq!(
        (zero.trace_id.as_str(), zero.span_id.as_str()),
        ("0".repeat(32).as_str(), "0000000000000000")
    );

    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    // Deeper than receivers take (the collector, prost): refused.
    let deep_map = format!("{}1{}", r#"{"k":"#.repeat(17), "}".repeat(17));
    let dupes = format!(
        "{{{}}}",
        (0..10_000)
            .map(|i| format!(r#""a":{i}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    let attributes = vec![
        kv("ok", "1"),
        kv("null", "null"),
        kv("malformed", "{\"a\":"),
        kv("too.deep", &deep),
        kv("too.deep.map", &deep_map),
        kv("dupes", &dupes),
        kv("too.large", "1e400"),
        kv("", "\"empty key\""),
        kv("long", &format!("\"{}\"", "é".repeat(100_000))),
    ];
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    no_trap(tracing.otel_on_end(&span_data(trace, "00f067aa0ba902b7", attributes)));
    // Invalid IDs: refused and counted.
    no_trap(tracing.otel_on_end(&span_data("xyz", "00f067aa0ba902b7", Vec::new())));
    no_trap(tracing.otel_on_end(&span_data(trace, "", Vec::new())));
    // A context that is not hex is not entered.
    let mut bad = span_data("nope", "nope", Vec::new()).span_context;
    no_trap(tracing.otel_on_start(&bad));
    assert_eq!(
        no_trap(tracing.otel_current_span_context()).span_id,
        "0000000000000000"
    );
    bad.trace_id = trace.into();
    bad.span_id = "00f067aa0ba902b8".into();
    no_trap(tracing.otel_on_start(&bad));
    let current = no_trap(tracing.otel_current_span_context());
    assert_eq!(
        (current.span_id.as_str(), current.trace_state),
        ("00f067aa0ba902b8", vec![("vendor".into(), "v1".into())])
    );
    // A severity beyond 24 is refused; a body that is not JSON is kept as text, one that
    // is keeps its value.
    let record = |severity, body: &str| LogRecord {
        timestamp: None,
        observed_timestamp: None,
        severity_text: None,
        severity_number: Some(severity),
        body: Some(body.into()),
        attributes: Some(vec![kv("null", "null")]),
        event_name: Some("stock.checked".into()),
        resource: None,
        instrumentation_scope: None,
        trace_id: Some("zz".into()),
        span_id: None,
        trace_flags: None,
    };
    no_trap(tracing.otel_on_emit(&record(200, "not JSON")));
    no_trap(tracing.otel_on_emit(&record(9, "not JSON")));
    no_trap(tracing.otel_on_emit(&record(9, r#"{"order": 7}"#)));
    no_trap(tracing.force_flush());

    let stats = no_trap(tracing.read_stats());
    assert_eq!(
        stats.rejected_operations, 3,
        "two spans with invalid IDs, one severity"
    );
    let payloads = harness.payloads.drain();
    let raw: Vec<_> = payloads
        .iter()
        .filter(|p| p.signal == Signal::Traces)
        .map(decode)
        .collect();
    let span = &raw[0].resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(hex(&span.trace_id), trace);
    assert!(
        span.parent_span_id.is_empty(),
        "a parent ID that is not hex is no parent"
    );
    let keys: Vec<&str> = span.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["ok", "dupes", "long"]);
    assert_eq!(
        attribute(&span.attributes, "dupes"),
        Some(&Value::KvlistValue(KeyValueList {
            values: vec![OtlpKeyValue {
                key: "a".into(),
                value: Some(AnyValue {
                    value: Some(Value::IntValue(9_999))
                }),
                ..OtlpKeyValue::default()
            }],
        })),
        "a repeated key's last value"
    );
    assert_eq!(span.dropped_attributes_count, u32::MAX, "saturated");
    let scope = raw[0].resource_spans[0].scope_spans[0]
        .scope
        .as_ref()
        .unwrap();
    assert!(scope.name.len() <= test_config().limits.max_value_length as usize);
    let logs = logs(&payloads);
    assert_eq!(logs.len(), 2);
    assert_eq!(
        logs[0].body.as_ref().and_then(|b| b.value.clone()),
        Some(string("not JSON"))
    );
    assert_eq!(
        logs[1].body.as_ref().and_then(|b| b.value.clone()),
        Some(Value::KvlistValue(KeyValueList {
            values: vec![OtlpKeyValue {
                key: "order".into(),
                value: Some(AnyValue {
                    value: Some(Value::IntValue(7))
                }),
                ..OtlpKeyValue::default()
            }],
        })),
        "a map body is a kvlistValue"
    );
    assert_eq!(
        attribute(&logs[0].attributes, "event.name"),
        Some(&string("stock.checked"))
    );
    assert_eq!(logs[0].dropped_attributes_count, 1);
    assert!(logs[0].trace_id.is_empty());
}
