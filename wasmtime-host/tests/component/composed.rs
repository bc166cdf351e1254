//! The example guest (`examples/traced-guest`, world `traced`) composed with the tracing
//! component into one component (`just compose`: `dist/traced_guest_composed.wasm`): the
//! host calls the guest's `checkout.price-cart`, the guest traces through the tracing
//! component inside the same component, and the host configures and flushes through the
//! tracing component's `setup` and `pipeline`, which the composition exports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Span};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};
use wasmtime_host::runtime::imported_functions;
use wasmtime_host::{
    Clock, Config, HostState, InstrumentationScope, KeyValue, ManualClock, Payload, PayloadLog,
    Signal,
};

use crate::common::{T0, attribute, decode, hex, names, no_trap, string_attribute, test_config};

/// Bindings for world `composed` of `examples/traced-guest/wit/guest.wit`: what the
/// composition exports and imports. Its imports are the tracing component's host
/// services, so they reuse `wasmtime_host`'s bindings, which `HostState` implements.
mod bindings {
    wasmtime::component::bindgen!({
        world: "wasm-otlp:traced-guest/composed",
        path: ["../wit", "../examples/traced-guest/wit"],
        with: {
            "wasm-otlp:tracing/types": wasmtime_host::bindings::wasm_otlp::tracing::types,
            "wasm-otlp:tracing/clock": wasmtime_host::bindings::wasm_otlp::tracing::clock,
            "wasm-otlp:tracing/random": wasmtime_host::bindings::wasm_otlp::tracing::random,
            "wasm-otlp:tracing/transport": wasmtime_host::bindings::wasm_otlp::tracing::transport,
        },
    });
}

use bindings::exports::wasm_otlp::traced_guest::checkout::{CartLine, Quote};
use bindings::{Composed, ComposedPre};

/// The composed component `just compose` writes, unless `WASM_OTLP_COMPOSED_COMPONENT`
/// names another file.
fn composed_path() -> PathBuf {
    match std::env::var_os("WASM_OTLP_COMPOSED_COMPONENT") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/traced_guest_composed.wasm"),
    }
}

/// The composed component, compiled and linked once per test binary.
fn composed() -> &'static ComposedPre<HostState> {
    static PRE: OnceLock<ComposedPre<HostState>> = OnceLock::new();
    PRE.get_or_init(|| {
        let path = composed_path();
        assert!(
            path.is_file(),
            "no composed component at {}: run `just compose` first",
            path.display()
        );
        let engine = Engine::default();
        let component = Component::from_file(&engine, &path)
            .unwrap_or_else(|err| panic!("compiling {}: {err:?}", path.display()));
        let mut linker = Linker::new(&engine);
        Composed::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)
            .expect("linking the host imports");
        let pre = linker
            .instantiate_pre(&component)
            .expect("the composed component's imports are the host's");
        ComposedPre::new(pre).expect("the composed component has world composed's exports")
    })
}

/// The resource and default scope the host configures the tracing component with.
fn config() -> Config {
    Config {
        resource: vec![
            KeyValue::new("service.name", "checkout"),
            KeyValue::new("service.version", "2.4.1"),
        ],
        default_scope: InstrumentationScope {
            name: "traced-guest".into(),
            version: "0.1.0".into(),
            attributes: Vec::new(),
        },
        ..test_config()
    }
}

/// One instance of the composed component, configured with [`config`].
struct Guest {
    store: Store<HostState>,
    bindings: Composed,
    payloads: PayloadLog,
}

impl Guest {
    /// An instance reading `clock`.
    fn new(clock: Clock) -> Self {
        let pre = composed();
        let host = HostState::new().with_clock(clock);
        let payloads = host.payloads();
        let mut store = Store::new(pre.engine(), host);
        let bindings = no_trap(pre.instantiate(&mut store));
        let mut guest = Self {
            store,
            bindings,
            payloads,
        };
        let setup = guest.bindings.wasm_otlp_tracing_setup();
        no_trap(setup.call_configure(&mut guest.store, &config())).expect("config accepted");
        guest
    }

    /// An instance reading a manual clock at [`T0`].
    fn manual() -> Self {
        Self::new(Clock::Manual(ManualClock::new(T0)))
    }

    /// Calls the guest's `checkout.price-cart`.
    fn price(
        &mut self,
        lines: &[(&str, u32)],
        coupon: Option<&str>,
        traceparent: Option<&str>,
    ) -> Result<Quote, String> {
        let lines: Vec<CartLine> = lines
            .iter()
            .map(|&(sku, quantity)| CartLine {
                sku: sku.into(),
                quantity,
            })
            .collect();
        let checkout = self.bindings.wasm_otlp_traced_guest_checkout();
        no_trap(checkout.call_price_cart(&mut self.store, &lines, coupon, traceparent))
    }

    /// Flushes through the composition's `pipeline` and takes every payload sent.
    fn flush(&mut self) -> Vec<Payload> {
        let pipeline = self.bindings.wasm_otlp_tracing_pipeline();
        no_trap(pipeline.call_force_flush(&mut self.store));
        self.payloads.drain()
    }

    /// Flushes and returns the `resourceSpans` of the traces payloads.
    fn flush_traces(&mut self) -> Vec<ResourceSpans> {
        self.flush()
            .iter()
            .filter(|payload| payload.signal == Signal::Traces)
            .flat_map(|payload| decode(payload).resource_spans)
            .collect()
    }
}

/// Every span of `resources`.
fn spans(resources: &[ResourceSpans]) -> Vec<Span> {
    resources
        .iter()
        .flat_map(|resource| &resource.scope_spans)
        .flat_map(|scope| scope.spans.iter().cloned())
        .collect()
}

/// The spans named `name`.
fn all_named<'a>(spans: &'a [Span], name: &str) -> Vec<&'a Span> {
    spans.iter().filter(|span| span.name == name).collect()
}

/// The one span named `name`.
#[track_caller]
fn one_named<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    match all_named(spans, name).as_slice() {
        [span] => span,
        other => panic!(
            "{} spans named {name:?} among {:?}",
            other.len(),
            names(spans)
        ),
    }
}

/// The integer value of attribute `key` of `span`.
#[track_caller]
fn int_attribute(span: &Span, key: &str) -> i64 {
    match attribute(&span.attributes, key) {
        Some(Value::IntValue(n)) => *n,
        other => panic!(
            "{}: attribute {key:?} is not an integer: {other:?}",
            span.name
        ),
    }
}

/// Whether `child` is a child of `parent` in the same trace.
fn is_child(child: &Span, parent: &Span) -> bool {
    child.trace_id == parent.trace_id && child.parent_span_id == parent.span_id
}

#[test]
fn the_composition_exports_the_guest_and_the_host_interfaces_and_imports_only_host_services() {
    let component = composed().instance_pre().component();
    let engine = composed().engine();
    let ty = component.component_type();
    let exports: BTreeSet<String> = ty.exports(engine).map(|(name, _)| name.into()).collect();
    let expected: BTreeSet<String> = [
        "wasm-otlp:traced-guest/checkout@0.1.0",
        "wasm-otlp:tracing/pipeline@0.1.0",
        "wasm-otlp:tracing/setup@0.1.0",
        "wasm-otlp:tracing/tracer@0.1.0",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    // The tracing component's `propagation`, `recorder` and `wasi:otel` stay inside.
    assert_eq!(exports, expected);

    for (name, _) in ty.imports(engine) {
        assert!(
            name.starts_with("wasm-otlp:tracing/")
                || crate::imports::WASI_TYPE_IMPORTS.contains(&name),
            "imports {name}"
        );
    }
    let functions: BTreeSet<String> = imported_functions(engine, component).into_iter().collect();
    let host_functions: BTreeSet<String> = crate::imports::HOST_FUNCTIONS.map(String::from).into();
    assert_eq!(functions, host_functions);
}

#[test]
fn the_guests_spans_arrive_nested_with_attributes_and_events_under_the_configured_resource() {
    let mut guest = Guest::new(Clock::System);
    let quote = guest
        .price(
            &[("TEA-GREEN-100", 2), ("POT-CAST-IRON", 1)],
            Some("welcome10"),
            None,
        )
        .expect("a quote");
    assert_eq!(
        (
            quote.subtotal_cents,
            quote.discount_cents,
            quote.total_cents
        ),
        (6_200, 620, 5_580)
    );

    let resources = guest.flush_traces();
    assert_eq!(resources.len(), 1, "one resource");
    let resource = resources[0].resource.as_ref().expect("a resource");
    assert_eq!(
        string_attribute(&resource.attributes, "service.name"),
        "checkout"
    );
    assert_eq!(
        string_attribute(&resource.attributes, "service.version"),
        "2.4.1"
    );
    for scope_spans in &resources[0].scope_spans {
        let scope = scope_spans.scope.as_ref().expect("a scope");
        assert_eq!(
            (scope.name.as_str(), scope.version.as_str()),
            ("traced-guest", "0.1.0")
        );
    }
    let spans = spans(&resources);
    assert_eq!(spans.len(), 6, "{:?}", names(&spans));

    let root = one_named(&spans, "price-cart");
    assert!(root.parent_span_id.is_empty(), "a new trace's root");
    assert!(spans.iter().all(|span| span.trace_id == root.trace_id));
    assert_eq!(int_attribute(root, "cart.line_count"), 2);
    assert_eq!(
        string_attribute(&root.attributes, "cart.coupon"),
        "welcome10"
    );
    assert_eq!(int_attribute(root, "cart.subtotal_cents"), 6_200);
    assert_eq!(int_attribute(root, "cart.total_cents"), 5_580);
    assert_eq!(
        root.status.as_ref().map_or(0, |status| status.code),
        StatusCode::Unset as i32
    );
    // The quote names the root span, so the caller can find the trace.
    assert_eq!(
        quote.traceparent,
        format!("00-{}-{}-01", hex(&root.trace_id), hex(&root.span_id))
    );

    let lines = all_named(&spans, "price-line");
    assert_eq!(lines.len(), 2);
    let lookups = all_named(&spans, "catalog.lookup");
    assert_eq!(lookups.len(), 2);
    for (sku, quantity, total, name, unit) in [
        ("TEA-GREEN-100", 2, 1_300, "Green tea, 100 g", 650),
        ("POT-CAST-IRON", 1, 4_900, "Cast-iron teapot", 4_900),
    ] {
        let line = lines
            .iter()
            .find(|line| string_attribute(&line.attributes, "product.sku") == sku)
            .unwrap_or_else(|| panic!("no price-line for {sku}"));
        assert!(is_child(line, root), "price-line {sku} under price-cart");
        assert_eq!(int_attribute(line, "cart.quantity"), quantity);
        assert_eq!(int_attribute(line, "line.total_cents"), total);
        let lookup = lookups
            .iter()
            .find(|lookup| is_child(lookup, line))
            .unwrap_or_else(|| panic!("no catalog.lookup under the price-line for {sku}"));
        assert_eq!(string_attribute(&lookup.attributes, "product.sku"), sku);
        assert_eq!(string_attribute(&lookup.attributes, "product.name"), name);
        assert_eq!(int_attribute(lookup, "product.unit_price_cents"), unit);
        // Children lie within their parent in time (the host's system clock).
        for (child, parent) in [(*lookup, *line), (*line, root)] {
            assert!(parent.start_time_unix_nano <= child.start_time_unix_nano);
            assert!(child.end_time_unix_nano <= parent.end_time_unix_nano);
        }
    }

    let coupon = one_named(&spans, "apply-coupon");
    assert!(is_child(coupon, root));
    assert_eq!(
        string_attribute(&coupon.attributes, "coupon.code"),
        "welcome10"
    );
    let [event] = coupon.events.as_slice() else {
        panic!("one event on apply-coupon: {:?}", coupon.events);
    };
    assert_eq!(event.name, "coupon.applied");
    let event_int = |key| match attribute(&event.attributes, key) {
        Some(Value::IntValue(n)) => *n,
        other => panic!("event attribute {key:?}: {other:?}"),
    };
    assert_eq!(event_int("coupon.percent_off"), 10);
    assert_eq!(event_int("coupon.discount_cents"), 620);
}

#[test]
fn a_callers_traceparent_parents_the_guests_root_span() {
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";
    let mut guest = Guest::manual();
    let quote = guest
        .price(
            &[("CUP-PORCELAIN", 4)],
            None,
            Some(&format!("00-{TRACE}-{SPAN}-01")),
        )
        .expect("a quote");
    let spans = spans(&guest.flush_traces());
    assert_eq!(spans.len(), 3, "{:?}", names(&spans));
    let root = one_named(&spans, "price-cart");
    assert_eq!(hex(&root.trace_id), TRACE);
    assert_eq!(hex(&root.parent_span_id), SPAN);
    assert!(spans.iter().all(|span| hex(&span.trace_id) == TRACE));
    assert!(is_child(one_named(&spans, "price-line"), root));
    assert!(quote.traceparent.starts_with(&format!("00-{TRACE}-")));
    assert!(
        all_named(&spans, "apply-coupon").is_empty(),
        "no coupon, no span"
    );
}

#[test]
fn an_invalid_traceparent_starts_a_new_trace_and_says_why() {
    let mut guest = Guest::manual();
    guest
        .price(&[("TEA-BLACK-250", 1)], None, Some("not-a-traceparent"))
        .expect("a quote");
    let spans = spans(&guest.flush_traces());
    let root = one_named(&spans, "price-cart");
    assert!(root.parent_span_id.is_empty());
    let [event] = root.events.as_slice() else {
        panic!("one event: {:?}", root.events);
    };
    assert_eq!(event.name, "traceparent.invalid");
    assert!(!string_attribute(&event.attributes, "error.message").is_empty());
}

#[test]
fn an_unknown_sku_fails_the_call_with_error_statuses_along_its_path() {
    let mut guest = Guest::manual();
    let refusal = guest
        .price(&[("TEA-GREEN-100", 1), ("TEA-WHITE-50", 2)], None, None)
        .expect_err("an unknown SKU");
    assert_eq!(refusal, "unknown SKU: TEA-WHITE-50");

    let spans = spans(&guest.flush_traces());
    let error = StatusCode::Error as i32;
    let status = |span: &Span| {
        let status = span.status.clone().unwrap_or_default();
        (status.code, status.message)
    };
    let root = one_named(&spans, "price-cart");
    assert_eq!(status(root), (error, refusal.clone()));
    let [exception] = root.events.as_slice() else {
        panic!("one event on price-cart: {:?}", root.events);
    };
    assert_eq!(exception.name, "exception");
    assert_eq!(
        string_attribute(&exception.attributes, "exception.type"),
        "PricingError"
    );
    assert_eq!(
        string_attribute(&exception.attributes, "exception.message"),
        refusal
    );

    let failed = all_named(&spans, "price-line")
        .into_iter()
        .find(|line| string_attribute(&line.attributes, "product.sku") == "TEA-WHITE-50")
        .expect("the failed line's span");
    assert!(is_child(failed, root));
    assert_eq!(status(failed), (error, refusal.clone()));
    let lookup = spans
        .iter()
        .find(|span| span.name == "catalog.lookup" && is_child(span, failed))
        .expect("the failed lookup");
    assert_eq!(status(lookup), (error, "unknown SKU".to_owned()));
    assert!(attribute(&lookup.attributes, "product.name").is_none());
    // The line priced before the failure is recorded without error.
    let fine = all_named(&spans, "price-line")
        .into_iter()
        .find(|line| string_attribute(&line.attributes, "product.sku") == "TEA-GREEN-100")
        .expect("the first line's span");
    assert_eq!(status(fine).0, StatusCode::Unset as i32);
}

#[test]
fn an_unknown_coupon_is_an_event_and_a_warning_log_record_in_the_trace() {
    let mut guest = Guest::manual();
    let quote = guest
        .price(&[("TEA-GREEN-100", 1)], Some("FREETEA"), None)
        .expect("an unknown coupon is no error");
    assert_eq!((quote.discount_cents, quote.total_cents), (0, 650));

    let payloads = guest.flush();
    let traces: Vec<&Payload> = payloads
        .iter()
        .filter(|payload| payload.signal == Signal::Traces)
        .collect();
    let spans: Vec<Span> = traces
        .iter()
        .flat_map(|payload| spans(&decode(payload).resource_spans))
        .collect();
    let coupon = one_named(&spans, "apply-coupon");
    let [event] = coupon.events.as_slice() else {
        panic!("one event: {:?}", coupon.events);
    };
    assert_eq!(event.name, "coupon.rejected");
    assert_eq!(
        string_attribute(&event.attributes, "coupon.code"),
        "FREETEA"
    );

    let logs: Vec<ExportLogsServiceRequest> = payloads
        .iter()
        .filter(|payload| payload.signal == Signal::Logs)
        .map(|payload| serde_json::from_slice(&payload.body).expect("a logs request"))
        .collect();
    assert_eq!(logs.len(), 1, "one logs payload");
    let resource = logs[0].resource_logs[0]
        .resource
        .as_ref()
        .expect("a resource");
    assert_eq!(
        string_attribute(&resource.attributes, "service.name"),
        "checkout"
    );
    let records: Vec<_> = logs[0].resource_logs[0]
        .scope_logs
        .iter()
        .flat_map(|scope| &scope.log_records)
        .collect();
    let [record] = records.as_slice() else {
        panic!("one log record: {records:?}");
    };
    assert_eq!(record.severity_number, 13);
    assert_eq!(record.severity_text, "warn");
    assert_eq!(
        record.body.as_ref().and_then(|body| body.value.as_ref()),
        Some(&Value::StringValue(
            "unknown coupon FREETEA: no discount".into()
        ))
    );
    assert_eq!(record.trace_id, coupon.trace_id);
    assert_eq!(record.span_id, coupon.span_id);
}
