//! Engine set-up: load the component once, instantiate it as often as needed.

use std::path::Path;

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store};

use crate::bindings::{Tracing, TracingPre};
use crate::host::HostState;
use crate::instance::TracingInstance;
use crate::path::{COMPONENT_PATH_ENV, default_component_path};

/// The compiled component with its imports linked: cheap to instantiate many times.
pub struct TracingRuntime {
    engine: Engine,
    component: Component,
    pre: TracingPre<HostState>,
}

impl TracingRuntime {
    /// Loads the component from [`default_component_path`].
    pub fn load_default() -> wasmtime::Result<Self> {
        Self::load(&default_component_path())
    }

    /// Loads and compiles the component at `path`, and links the host imports.
    pub fn load(path: &Path) -> wasmtime::Result<Self> {
        if !path.is_file() {
            wasmtime::bail!(
                "no tracing component at {}: run `just build-component` first \
                 (or set {COMPONENT_PATH_ENV} to the component's path)",
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
        Tracing::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)?;
        let pre = TracingPre::new(linker.instantiate_pre(&component)?)?;
        Ok(Self {
            engine,
            component,
            pre,
        })
    }

    /// A fresh instance (its own memory and state) whose imports `host` answers.
    pub fn instantiate(&self, host: HostState) -> wasmtime::Result<TracingInstance> {
        let mut store = Store::new(&self.engine, host);
        let bindings = self.pre.instantiate(&mut store)?;
        Ok(TracingInstance::new(store, bindings))
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
        let mut functions = Vec::new();
        for (name, import) in self.component.component_type().imports(&self.engine) {
            match import.ty {
                ComponentItem::ComponentFunc(_) => functions.push(name.to_owned()),
                ComponentItem::ComponentInstance(instance) => functions.extend(
                    instance
                        .exports(&self.engine)
                        .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
                        .map(|(function, _)| format!("{name}#{function}")),
                ),
                _ => {}
            }
        }
        functions
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
