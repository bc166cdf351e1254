//! The component's imports: only this package's host services, never `wasi:*`, and the
//! host answers them with real randomness.

use std::collections::BTreeSet;

use crate::common::{Harness, runtime};

const PACKAGE: &str = "wasm-otlp:tracing";
const VERSION: &str = "0.1.0";

fn interface(name: &str) -> String {
    format!("{PACKAGE}/{name}@{VERSION}")
}

#[test]
fn the_component_imports_no_wasi_interface() {
    let imports = runtime().component_imports();
    let wasi: Vec<_> = imports
        .iter()
        .filter(|name| name.starts_with("wasi:"))
        .collect();
    assert!(
        wasi.is_empty(),
        "wasi imports: {wasi:?} (all imports: {imports:?})"
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
        .collect();
    assert!(imports.is_superset(&host_services), "imports: {imports:?}");
    assert!(imports.is_subset(&allowed), "imports: {imports:?}");
}

#[test]
fn the_only_imported_functions_are_now_random_bytes_and_send() {
    let functions: BTreeSet<String> = runtime().imported_functions().into_iter().collect();
    let expected: BTreeSet<String> = [
        ("clock", "now-unix-nanos"),
        ("random", "random-bytes"),
        ("transport", "send"),
    ]
    .into_iter()
    .map(|(name, function)| format!("{}#{function}", interface(name)))
    .collect();
    assert_eq!(functions, expected);
}

#[test]
fn the_component_exports_setup_pipeline_tracer_recorder_and_propagation() {
    let exports = crate::common::exported_interfaces(runtime());
    let expected: BTreeSet<String> = ["setup", "pipeline", "tracer", "recorder", "propagation"]
        .into_iter()
        .map(interface)
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
