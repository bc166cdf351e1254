//! `component-pack CORE.wasm OUT.wasm`: wraps the component crate's core module (built for
//! `wasm32-unknown-unknown`, with wit-bindgen's type information embedded) into a
//! WebAssembly component, and refuses to write one that imports a function of any `wasi:*`
//! interface (an import of a `wasi:*` interface for its types alone is kept: world
//! `tracing` exports `wasi:otel`, whose records use `wasi:clocks`' `datetime`).
//!
//! `--guest` packs a guest that traces through `wasi:otel` (`examples/otel-guest`): it lets
//! through `wasi:otel` imports, which the tracing component answers once composed with it,
//! and `wasi:clocks/wall-clock`, which its OpenTelemetry SDK reads the time from. The
//! tracing component itself is packed without it.

use anyhow::{Context, Result, bail};
use wit_component::ComponentEncoder;
use wit_parser::WorldItem;

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let guest = args.iter().any(|a| a == GUEST_FLAG);
    args.retain(|a| a != GUEST_FLAG);
    let [core_path, out_path] = args.as_slice() else {
        bail!("usage: component-pack CORE.wasm OUT.wasm [{GUEST_FLAG}]");
    };
    let core = std::fs::read(core_path).with_context(|| format!("reading {core_path}"))?;
    let component = ComponentEncoder::default()
        .module(&core)
        .context("the core module lacks wit-bindgen's component type section")?
        .validate(true)
        .encode()
        .context("encoding the component")?;
    reject_wasi_imports(&component, guest)?;
    if let Some(dir) = std::path::Path::new(out_path).parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(out_path, &component).with_context(|| format!("writing {out_path}"))?;
    println!("{out_path}: {} bytes", component.len());
    Ok(())
}

/// The flag that packs a `wasi:otel` guest.
const GUEST_FLAG: &str = "--guest";

/// What a `wasi:otel` guest may import functions of.
const GUEST_WASI_IMPORTS: [&str; 3] = [
    "wasi:otel/tracing@0.2.0-rc.2",
    "wasi:otel/logs@0.2.0-rc.2",
    "wasi:clocks/wall-clock@0.2.0",
];

/// Browsers have no WASI: a `wasi:*` function import would force a shim on every page. A
/// `wasi:*` interface imported for its types alone needs nothing from a host.
fn reject_wasi_imports(component: &[u8], guest: bool) -> Result<()> {
    let wit_component::DecodedWasm::Component(resolve, world) =
        wit_component::decode(component).context("decoding the component")?
    else {
        bail!("the encoder produced a WIT package, not a component");
    };
    for (key, item) in &resolve.worlds[world].imports {
        let name = resolve.name_world_key(key);
        let types_only = match item {
            WorldItem::Interface { id, .. } => resolve.interfaces[*id].functions.is_empty(),
            WorldItem::Function(_) => false,
            WorldItem::Type { .. } => true,
        };
        let allowed = types_only || (guest && GUEST_WASI_IMPORTS.contains(&name.as_str()));
        if name.starts_with("wasi:") && !allowed {
            bail!(
                "the component imports functions of {name}: it must import only wasm-otlp interfaces \
                 (and wasi:* ones for their types alone)"
            );
        }
    }
    Ok(())
}
