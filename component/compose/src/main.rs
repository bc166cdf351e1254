//! `component-compose [--wasi] GUEST.wasm TRACING.wasm OUT.wasm`: composes a component of world
//! `traced` (it imports `wasm-otlp:tracing/tracer` and `propagation`) or `otel-traced` (it
//! imports `wasi:otel/tracing` and `logs`) with the tracing component (world `tracing`)
//! into one component, using wac's composition graph.
//!
//! Inside, each guest import that the tracing component exports is that export. The
//! composed component exports what the guest exports, and the tracing component's
//! `pipeline`, `setup` and `tracer` (for the host: configuration, flush, timer, shutdown,
//! and spans of its own, which a `wasi:otel` guest's spans hang under); its `propagation`,
//! `recorder` and `wasi:otel` exports stay inside. It imports what the tracing component
//! imports from its host (`clock`, `random`, `transport`, and for their types alone
//! `types`, `wasi:otel/types` and `wasi:clocks/wall-clock`), and the wall clock's
//! functions, which an OpenTelemetry SDK in the guest reads: any host of the tracing
//! component that also has the WASI wall clock (wasmtime-host, jco's browser shim) runs
//! it. A guest that imports anything else is refused.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result, bail};
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions, Processor};

/// The package whose interfaces the tracing component exports and imports.
const TRACING_PACKAGE: &str = "wasm-otlp:tracing/";

/// The tracing component's exports the composed component exports too.
const HOST_EXPORTS: [&str; 3] = ["pipeline", "setup", "tracer"];

/// What the composed component may import from the tracing package: the tracing
/// component's host imports.
const ALLOWED_IMPORTS: [&str; 4] = ["types", "clock", "random", "transport"];

/// What else it may import: `wasi:otel`'s types (the tracing component imports them for
/// its `wasi:otel` exports) and the wall clock (the tracing component imports it for
/// `datetime`; a guest's SDK reads the time from it).
const ALLOWED_WASI_IMPORTS: [&str; 2] =
    ["wasi:otel/types@0.2.0-rc.2", "wasi:clocks/wall-clock@0.2.0"];

/// The flag that lets the composition import any `wasi:*` interface.
const WASI_FLAG: &str = "--wasi";

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let wasi = args.iter().any(|arg| arg == WASI_FLAG);
    args.retain(|arg| arg != WASI_FLAG);
    let [guest_path, tracing_path, out_path] = args.as_slice() else {
        bail!("usage: component-compose [{WASI_FLAG}] GUEST.wasm TRACING.wasm OUT.wasm");
    };
    let composed = compose(Path::new(guest_path), Path::new(tracing_path), wasi)?;
    if let Some(dir) = Path::new(out_path).parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(out_path, &composed).with_context(|| format!("writing {out_path}"))?;
    println!("{out_path}: {} bytes", composed.len());
    Ok(())
}

/// The interface `name` names without its package and version
/// (`wasm-otlp:tracing/tracer@0.1.0` -> `tracer`), if it is one of the tracing package's.
fn tracing_interface(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(TRACING_PACKAGE)?;
    Some(
        rest.split_once('@')
            .map_or(rest, |(interface, _)| interface),
    )
}

/// Whether the composed component may import `name`: the tracing component's host imports,
/// the allowed `wasi:*` ones, and with `wasi` any `wasi:*` interface.
fn allowed_import(name: &str, wasi: bool) -> bool {
    tracing_interface(name).is_some_and(|i| ALLOWED_IMPORTS.contains(&i))
        || ALLOWED_WASI_IMPORTS.contains(&name)
        || (wasi && name.starts_with("wasi:"))
}

/// The composed component's bytes, validated; with `wasi`, it may import any `wasi:*`
/// interface.
fn compose(guest_path: &Path, tracing_path: &Path, wasi: bool) -> Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let guest = Package::from_file("compose:guest", None, guest_path, graph.types_mut())
        .with_context(|| format!("reading the guest {}", guest_path.display()))?;
    let tracing = Package::from_file("compose:tracing", None, tracing_path, graph.types_mut())
        .with_context(|| format!("reading the tracing component {}", tracing_path.display()))?;
    let guest = graph.register_package(guest)?;
    let tracing = graph.register_package(tracing)?;

    let guest_world = &graph.types()[graph[guest].ty()];
    let guest_imports: Vec<String> = guest_world.imports.keys().cloned().collect();
    let guest_exports: Vec<String> = guest_world.exports.keys().cloned().collect();
    let tracing_exports: Vec<String> = graph.types()[graph[tracing].ty()]
        .exports
        .keys()
        .cloned()
        .collect();

    let tracing_instance = graph.instantiate(tracing);
    let guest_instance = graph.instantiate(guest);

    // Each guest import the tracing component exports (`tracer`, `propagation`, or
    // `wasi:otel`'s `tracing` and `logs`) is plugged.
    let mut plugged = 0;
    for import in &guest_imports {
        if !tracing_exports.contains(import) {
            continue;
        }
        let export = graph.alias_instance_export(tracing_instance, import)?;
        graph
            .set_instantiation_argument(guest_instance, import, export)
            .with_context(|| format!("plugging the tracing component's {import} into the guest"))?;
        plugged += 1;
    }
    if plugged == 0 {
        bail!(
            "the guest imports none of the tracing component's interfaces (it imports {guest_imports:?}): is it of world `traced` or `otel-traced`?"
        );
    }

    for name in &guest_exports {
        let export = graph.alias_instance_export(guest_instance, name)?;
        graph
            .export(export, name)
            .with_context(|| format!("exporting the guest's {name}"))?;
    }
    for name in &tracing_exports {
        if tracing_interface(name).is_some_and(|interface| HOST_EXPORTS.contains(&interface)) {
            let export = graph.alias_instance_export(tracing_instance, name)?;
            graph.export(export, name).with_context(|| {
                format!("exporting the tracing component's {name} (does the guest export it too?)")
            })?;
        }
    }
    let exported: BTreeSet<&str> = tracing_exports
        .iter()
        .filter_map(|name| tracing_interface(name))
        .filter(|interface| HOST_EXPORTS.contains(interface))
        .collect();
    if exported.len() != HOST_EXPORTS.len() {
        bail!(
            "the tracing component exports {tracing_exports:?}, not all of {HOST_EXPORTS:?}: is it of world `tracing`?"
        );
    }

    let foreign: Vec<&str> = graph
        .imports()
        .map(|(name, _, _)| name)
        .filter(|name| !allowed_import(name, wasi))
        .collect();
    if !foreign.is_empty() {
        bail!(
            "the composed component would import {foreign:?}, which a host of the tracing component does not provide: \
             the guest must import only the tracing component's interfaces and the wall clock (build it for wasm32-unknown-unknown, without WASI), \
             or, for a host that gives WASI 0.2 (wasmtime-wasi, jco's preview2-shim), only those and `wasi:*` ({WASI_FLAG})"
        );
    }

    let processor = Processor {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
    };
    graph
        .encode(EncodeOptions {
            processor: Some(processor),
            ..EncodeOptions::default()
        })
        .context("encoding the composed component")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interfaces_of_the_tracing_package_are_named_without_version() {
        assert_eq!(
            tracing_interface("wasm-otlp:tracing/tracer@0.1.0"),
            Some("tracer")
        );
        assert_eq!(tracing_interface("wasm-otlp:tracing/clock"), Some("clock"));
        assert_eq!(tracing_interface("wasi:clocks/wall-clock@0.2.0"), None);
        assert_eq!(
            tracing_interface("wasm-otlp:traced-guest/checkout@0.1.0"),
            None
        );
    }

    #[test]
    fn wasi_imports_are_allowed_only_with_the_flag() {
        assert!(allowed_import("wasm-otlp:tracing/transport@0.1.0", false));
        assert!(allowed_import("wasi:clocks/wall-clock@0.2.0", false));
        assert!(!allowed_import("wasi:cli/stderr@0.2.6", false));
        assert!(allowed_import("wasi:cli/stderr@0.2.6", true));
        assert!(!allowed_import("wasm-otlp:tracing/recorder@0.1.0", true));
        assert!(!allowed_import("acme:shop/payments@1.0.0", true));
    }
}
