//! `component-pack CORE.wasm OUT.wasm`: wraps the component crate's core module (built for
//! `wasm32-unknown-unknown`, with wit-bindgen's type information embedded) into a
//! WebAssembly component, and refuses to write one that imports any `wasi:*` interface.

use anyhow::{Context, Result, bail};
use wit_component::ComponentEncoder;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [core_path, out_path] = args.as_slice() else {
        bail!("usage: component-pack CORE.wasm OUT.wasm");
    };
    let core = std::fs::read(core_path).with_context(|| format!("reading {core_path}"))?;
    let component = ComponentEncoder::default()
        .module(&core)
        .context("the core module lacks wit-bindgen's component type section")?
        .validate(true)
        .encode()
        .context("encoding the component")?;
    reject_wasi_imports(&component)?;
    if let Some(dir) = std::path::Path::new(out_path).parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(out_path, &component).with_context(|| format!("writing {out_path}"))?;
    println!("{out_path}: {} bytes", component.len());
    Ok(())
}

/// Browsers have no WASI: a `wasi:*` import would force a shim on every page.
fn reject_wasi_imports(component: &[u8]) -> Result<()> {
    let wit_component::DecodedWasm::Component(resolve, world) =
        wit_component::decode(component).context("decoding the component")?
    else {
        bail!("the encoder produced a WIT package, not a component");
    };
    for key in resolve.worlds[world].imports.keys() {
        let name = resolve.name_world_key(key);
        if name.starts_with("wasi:") {
            bail!("the component imports {name}: it must import only wasm-otlp interfaces");
        }
    }
    Ok(())
}
