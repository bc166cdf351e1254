//! `wasi:otel` for guests, provided by the host: a component that imports
//! `wasi:otel/tracing` and `logs` (world `otel-traced`, such as `examples/otel-guest`)
//! runs in its own store, and each of its `wasi:otel` calls is forwarded to a tracing
//! component instance's `wasi:otel` exports, so its spans go through that instance's
//! sampler, limits, queue and transport, and parent under the host's own spans (those it
//! started with [`TracingInstance::start_span`] are the guest's current span).
//!
//! The calls are forwarded as dynamic values ([`Val`]): both sides use the same WIT
//! (`wit/deps/wasi-otel`), so the guest's arguments are the tracing component's
//! parameters, and no type is converted twice by hand.

use std::sync::{Arc, Mutex, TryLockError};

use wasmtime::component::{Linker, Val};

use crate::instance::TracingInstance;

/// The interfaces and functions forwarded (`outer-span-context` for guests built against
/// the tag text of `0.2.0-rc.2`, `current-span-context` for the later one).
const FORWARDED: [(&str, &[&str]); 2] = [
    (
        "wasi:otel/tracing@0.2.0-rc.2",
        &[
            "on-start",
            "on-end",
            "current-span-context",
            "outer-span-context",
        ],
    ),
    ("wasi:otel/logs@0.2.0-rc.2", &["on-emit"]),
];

/// `wasi:otel`'s interface of types alone, which a guest imports with the others.
const TYPES: &str = "wasi:otel/types@0.2.0-rc.2";

/// Defines `wasi:otel/tracing`, `logs` and `types` in `linker`, answered by `tracing` (a
/// world `tracing` instance, shared with the host, which keeps configuring, flushing and
/// tracing through it). The host must not hold `tracing`'s lock while it calls the guest:
/// the guest's next `wasi:otel` call would find it taken, and traps with that message
/// rather than waiting for ever.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    tracing: &Arc<Mutex<TracingInstance>>,
) -> wasmtime::Result<()> {
    let mut guard = tracing
        .lock()
        .map_err(|_| wasmtime::format_err!("the tracing instance's lock is poisoned"))?;
    let (store, instance) = guard.parts();
    for (interface, functions) in FORWARDED {
        let exported = instance
            .get_export_index(&mut *store, None, interface)
            .ok_or_else(|| {
                wasmtime::format_err!(
                    "the tracing component does not export {interface}: load the world tracing component"
                )
            })?;
        let mut defined = linker.instance(interface)?;
        for &function in functions {
            let func = instance
                .get_export_index(&mut *store, Some(&exported), function)
                .and_then(|index| instance.get_func(&mut *store, index))
                .ok_or_else(|| {
                    wasmtime::format_err!("the tracing component's {interface} lacks {function}")
                })?;
            let tracing = Arc::clone(tracing);
            defined.func_new(
                function,
                move |_guest, _ty, params: &[Val], results: &mut [Val]| {
                    let mut tracing = tracing.try_lock().map_err(|err| match err {
                        TryLockError::WouldBlock => wasmtime::format_err!(
                            "the tracing instance is locked: the host holds its lock while calling the guest"
                        ),
                        TryLockError::Poisoned(_) => {
                            wasmtime::format_err!("the tracing instance's lock is poisoned")
                        }
                    })?;
                    let (store, _) = tracing.parts();
                    func.call(store, params, results)
                },
            )?;
        }
    }
    linker.instance(TYPES)?;
    Ok(())
}
