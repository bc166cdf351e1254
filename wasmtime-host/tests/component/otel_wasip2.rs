//! The `wasi:otel` example guest built for wasm32-wasip2, as most Rust components are: std
//! on WASI 0.2 and span IDs from `wasi:random`. Composed with `--wasi`
//! (`dist/otel_guest_wasip2_composed.wasm`), it runs where wasmtime-wasi gives WASI and
//! `wasmtime_host` the tracing component's host services; run alone, where wasmtime-wasi
//! gives WASI and `wasmtime_host::wasi_otel` gives `wasi:otel`.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::Span;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_host::bindings::wasi::otel::types as otel_types;
use wasmtime_host::bindings::wasm_otlp::tracing::{clock, random, transport, types};
use wasmtime_host::runtime::imported_functions;
use wasmtime_host::{Clock, HostState, ManualClock};
use wasmtime_wasi::{HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::common::no_trap;
use crate::otel::bindings::composed::ComposedPre;
use crate::otel::{ComposedGuest, SharedTracing, dist, named, spans};

/// A store's data for a guest with WASI: the tracing component's host services (`host`)
/// and WASI 0.2, whose wall clock is the host's manual clock.
struct WasiHost {
    host: HostState,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiHost {
    fn new(host: HostState, clock: ManualClock) -> Self {
        Self {
            host,
            wasi: WasiCtxBuilder::new().wall_clock(WallClock(clock)).build(),
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for WasiHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A manual clock as WASI's wall clock, so the guest's SDK stamps the time the test sets.
struct WallClock(ManualClock);

impl HostWallClock for WallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.now())
    }
}

/// The wasip2 composition, compiled and linked once: WASI from wasmtime-wasi, the
/// tracing component's host services from `wasmtime_host`.
fn composed() -> &'static ComposedPre<WasiHost> {
    static PRE: OnceLock<ComposedPre<WasiHost>> = OnceLock::new();
    PRE.get_or_init(|| {
        let engine = Engine::default();
        let component = Component::from_file(&engine, dist("otel_guest_wasip2_composed.wasm"))
            .expect("compiling the composition");
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("WASI linked");
        fn host(state: &mut WasiHost) -> &mut HostState {
            &mut state.host
        }
        clock::add_to_linker::<_, HasSelf<HostState>>(&mut linker, host).expect("clock");
        random::add_to_linker::<_, HasSelf<HostState>>(&mut linker, host).expect("random");
        transport::add_to_linker::<_, HasSelf<HostState>>(&mut linker, host).expect("transport");
        types::add_to_linker::<_, HasSelf<HostState>>(&mut linker, host).expect("types");
        otel_types::add_to_linker::<_, HasSelf<HostState>>(&mut linker, host)
            .expect("wasi:otel types");
        let pre = linker
            .instantiate_pre(&component)
            .expect("every import answered");
        ComposedPre::new(pre).expect("the composition has world composed's exports")
    })
}

#[test]
fn the_wasip2_composition_imports_the_host_services_and_wasi_only() {
    let pre = composed();
    let functions: BTreeSet<String> =
        imported_functions(pre.engine(), pre.instance_pre().component())
            .into_iter()
            .collect();
    let host: BTreeSet<String> = crate::imports::HOST_FUNCTIONS.map(String::from).into();
    assert!(functions.is_superset(&host), "{functions:?}");
    let wasi: Vec<&String> = functions.difference(&host).collect();
    assert!(
        wasi.iter().all(|name| name.starts_with("wasi:")),
        "{wasi:?}"
    );
    for needed in [
        "wasi:random/random@",
        "wasi:clocks/wall-clock@",
        "wasi:cli/",
    ] {
        assert!(
            wasi.iter().any(|name| name.starts_with(needed)),
            "std's and the SDK's {needed}: {wasi:?}"
        );
    }
    assert!(
        !functions.iter().any(|name| name.starts_with("wasi:otel/")),
        "wasi:otel stays inside"
    );
}

#[test]
fn the_wasip2_guest_composed_hangs_under_the_hosts_span() {
    ComposedGuest::of(composed(), WasiHost::new).reserve_under_a_host_span();
}

#[test]
fn the_wasip2_guest_takes_its_ids_from_wasi_random() {
    // Two instances on one clock, each starting a trace of its own at the same instant: an
    // SDK seeding its IDs from the clock would give both the same trace ID.
    let roots: Vec<Span> = (0..2)
        .map(|_| {
            let mut guest = ComposedGuest::of(composed(), WasiHost::new);
            let reservation = guest.reserve("CUP-PORCELAIN", 1).expect("reserved");
            assert_eq!(reservation.remaining, 5);
            let spans = spans(&guest.flush());
            named(&spans, "inventory.reserve").clone()
        })
        .collect();
    for root in &roots {
        assert!(root.parent_span_id.is_empty(), "a root span");
        assert_eq!(root.trace_id.len(), 16);
    }
    assert_ne!(roots[0].trace_id, roots[1].trace_id);
    assert_ne!(roots[0].span_id, roots[1].span_id);
}

#[test]
fn a_wasmtime_host_gives_the_wasip2_guest_wasi_and_wasi_otel() {
    let shared = SharedTracing::new();
    let pre = shared.link_guest("otel_guest_wasip2.wasm", |linker| {
        wasmtime_wasi::p2::add_to_linker_sync(linker).expect("WASI linked");
    });
    let guest_host = HostState::new().with_clock(Clock::Manual(shared.clock.clone()));
    let mut store = Store::new(
        pre.engine(),
        WasiHost::new(guest_host, shared.clock.clone()),
    );
    let guest = no_trap(pre.instantiate(&mut store));
    let inventory = guest.wasm_otlp_otel_guest_inventory();
    no_trap(inventory.call_reserve(&mut store, "TEA-BLACK-250", 2)).expect("reserved");
    let low = no_trap(inventory.call_reserve(&mut store, "CUP-PORCELAIN", 4)).expect("reserved");
    assert_eq!(low.remaining, 2);
    shared.assert_two_reservations_under_the_hosts_span();
}
