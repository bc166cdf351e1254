//! The component's imports: only this package's host services, never a `wasi:*` function
//! (the `wasi:*` interfaces its `wasi:otel` exports use, for their types alone), and the
//! host answers them with real randomness.

use std::collections::BTreeSet;

use crate::common::{Harness, runtime};

const PACKAGE: &str = "wasm-otlp:tracing";
const VERSION: &str = "0.1.0";

/// The `wasi:otel` interfaces world `tracing` exports.
pub const WASI_OTEL_EXPORTS: [&str; 2] =
    ["wasi:otel/tracing@0.2.0-rc.2", "wasi:otel/logs@0.2.0-rc.2"];

/// The functions the tracing component imports (a composition with it imports them too).
pub const HOST_FUNCTIONS: [&str; 3] = [
    "wasm-otlp:tracing/clock@0.1.0#now-unix-nanos",
    "wasm-otlp:tracing/random@0.1.0#random-bytes",
    "wasm-otlp:tracing/transport@0.1.0#send",
];

/// What world `tracing` imports for its `wasi:otel` exports' types (`datetime`, `key-value`).
pub const WASI_TYPE_IMPORTS: [&str; 2] =
    ["wasi:clocks/wall-clock@0.2.0", "wasi:otel/types@0.2.0-rc.2"];

fn interface(name: &str) -> String {
    format!("{PACKAGE}/{name}@{VERSION}")
}

#[test]
fn the_component_imports_no_wasi_function() {
    let functions = runtime().imported_functions();
    let wasi: Vec<_> = functions
        .iter()
        .filter(|name| name.starts_with("wasi:"))
        .collect();
    assert!(
        wasi.is_empty(),
        "wasi functions: {wasi:?} (all imported functions: {functions:?})"
    );
}

#[test]
fn the_component_imports_only_the_clock_random_and_transport_interfaces() {
    // The exported interfaces `use` the `types` interface, so the component model imports
    // it too, as an instance carrying type definitions only: the host implements nothing.
    let imports: BTreeSet<String> = runtime().component_imports().into_iter().collect();
    let host_services: BTreeSet<String> = ["clock", "random", "transport"]
        .into_iter()
        .map(interface)
        .collect();
    let allowed: BTreeSet<String> = host_services
        .iter()
        .cloned()
        .chain([interface("types")])
        .chain(WASI_TYPE_IMPORTS.map(String::from))
        .collect();
    assert!(imports.is_superset(&host_services), "imports: {imports:?}");
    assert!(imports.is_subset(&allowed), "imports: {imports:?}");
}

#[test]
fn the_only_imported_functions_are_now_random_bytes_and_send() {
    let functions: BTreeSet<String> = runtime().imported_functions().into_iter().collect();
    let expected: BTreeSet<String> = HOST_FUNCTIONS.map(String::from).into();
    assert_eq!(functions, expected);
}

#[test]
fn the_component_exports_setup_pipeline_tracer_recorder_propagation_and_wasi_otel() {
    let exports = crate::common::exported_interfaces(runtime());
    let expected: BTreeSet<String> = ["setup", "pipeline", "tracer", "recorder", "propagation"]
        .into_iter()
        .map(interface)
        .chain(WASI_OTEL_EXPORTS.map(String::from))
        .collect();
    assert_eq!(exports, expected);
}

#[test]
fn two_instances_never_generate_the_same_ids() {
    // The ID generator is seeded from the host's OS randomness, not a fixed seed.
    let mut first = Harness::new();
    let mut second = Harness::new();
    let a = first.start("a");
    let b = second.start("b");
    assert_ne!(a, b, "two instances produced the same first span ID");
    let a_context = crate::common::ok(first.context_of(a));
    let b_context = crate::common::ok(second.context_of(b));
    assert_ne!(a_context.trace_id, b_context.trace_id);
}
