//! Engine set-up: load the component once, instantiate it as often as needed.
//!
//! The component may be of world `tracing` or `browser`: both import the same host
//! services, so one linker serves both.

use std::path::Path;

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, HasSelf, InstancePre, Linker};
use wasmtime::{Config, Engine, Store};

use crate::bindings::Tracing;
use crate::host::HostState;
use crate::instance::{ExportIndices, TracingInstance};
use crate::path::{BROWSER_COMPONENT_PATH_ENV, COMPONENT_PATH_ENV, default_component_path};

/// The compiled component with its imports linked: cheap to instantiate many times.
pub struct TracingRuntime {
    engine: Engine,
    component: Component,
    pre: InstancePre<HostState>,
    exports: ExportIndices,
}

impl TracingRuntime {
    /// Loads the world `tracing` component from [`default_component_path`]. The browser
    /// one loads with `load(&default_browser_component_path())`.
    pub fn load_default() -> wasmtime::Result<Self> {
        Self::load(&default_component_path())
    }

    /// Loads and compiles the component (world `tracing` or `browser`) at `path`, and
    /// links the host imports.
    pub fn load(path: &Path) -> wasmtime::Result<Self> {
        if !path.is_file() {
            wasmtime::bail!(
                "no tracing component at {}: run `just build-component` first \
                 (or set {COMPONENT_PATH_ENV}, or {BROWSER_COMPONENT_PATH_ENV} for the \
                 browser one, to the component's path)",
                path.display()
            );
        }
        let engine = Engine::new(&Config::new())?;
        let component = Component::from_file(&engine, path)
            .map_err(|err| err.context(format!("compiling the component {}", path.display())))?;
        Self::from_component(engine, component)
    }

    /// Links the host imports to an already compiled `component` of `engine`.
    pub fn from_component(engine: Engine, component: Component) -> wasmtime::Result<Self> {
        let mut linker = Linker::new(&engine);
        // World `tracing` imports exactly what world `browser` imports.
        Tracing::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)?;
        let pre = linker.instantiate_pre(&component)?;
        let exports = ExportIndices::new(&pre)?;
        Ok(Self {
            engine,
            component,
            pre,
            exports,
        })
    }

    /// A fresh instance (its own memory and state) whose imports `host` answers.
    pub fn instantiate(&self, host: HostState) -> wasmtime::Result<TracingInstance> {
        let mut store = Store::new(&self.engine, host);
        let instance = self.pre.instantiate(&mut store)?;
        let exports = self.exports.load(&mut store, &instance)?;
        Ok(TracingInstance::new(store, instance, exports))
    }

    /// Whether the component exports the direct `tracer` API: true for world `tracing`,
    /// false for world `browser`.
    pub fn has_tracer(&self) -> bool {
        self.exports.has_tracer()
    }

    /// The names of everything the component imports (`wasm-otlp:tracing/clock@0.1.0`, ...).
    pub fn component_imports(&self) -> Vec<String> {
        self.component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// The functions the component imports, as `interface#function`
    /// (`wasm-otlp:tracing/clock@0.1.0#now-unix-nanos`, ...). Unlike
    /// [`component_imports`](Self::component_imports) this leaves out imports that only
    /// carry types, such as the `types` interface the exported interfaces `use`.
    pub fn imported_functions(&self) -> Vec<String> {
        imported_functions(&self.engine, &self.component)
    }

    /// The engine the component was compiled with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The compiled component.
    pub fn component(&self) -> &Component {
        &self.component
    }
}

/// The functions `component` imports, as `interface#function`, leaving out imports that
/// only carry types (for any component: a composition's tests check theirs too).
pub fn imported_functions(engine: &Engine, component: &Component) -> Vec<String> {
    let mut functions = Vec::new();
    for (name, import) in component.component_type().imports(engine) {
        match import.ty {
            ComponentItem::ComponentFunc(_) => functions.push(name.to_owned()),
            ComponentItem::ComponentInstance(instance) => functions.extend(
                instance
                    .exports(engine)
                    .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
                    .map(|(function, _)| format!("{name}#{function}")),
            ),
            _ => {}
        }
    }
    functions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_component_says_how_to_build_it() {
        let missing = Path::new(env!("CARGO_MANIFEST_DIR")).join("no-such-component.wasm");
        let Err(err) = TracingRuntime::load(&missing) else {
            panic!("loading a missing file succeeded");
        };
        let message = format!("{err:?}");
        assert!(message.contains("just build-component"), "{message}");
        assert!(message.contains("no-such-component.wasm"), "{message}");
        assert!(message.contains(COMPONENT_PATH_ENV), "{message}");
    }

    #[test]
    fn a_file_that_is_no_component_is_an_error_not_a_panic() {
        let not_wasm = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        assert!(TracingRuntime::load(&not_wasm).is_err());
    }
}
