//! The wasm-otlp tracing component.
//!
//! Plain Rust modules hold the logic and are unit-tested natively; [`bindings`] (built
//! only for WebAssembly) is the thin layer that connects them to the WIT contract in
//! `wit/tracing.wit`.
//!
//! Data path inside the component: an operation arrives through the direct API
//! (`tracer`) or the recorded-op path ([`recorder`]), the [`tracer`] applies
//! [`sampler`] and [`limits`] to the [`model`], ended spans (and [`log_record`]s) wait
//! in its bounded queues, and [`otlp_json`] encodes each batch for the host's transport.
//!
//! `no_std` (with `alloc`) for WebAssembly: what std adds on `wasm32-unknown-unknown` is
//! its panic machinery, which formats messages that nobody can read there (about 5 KB).
//! Native builds (the unit tests) keep std.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

// The allocator and the instance state (`bindings`) rely on wasm32 having one thread.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!("the component is built for single-threaded wasm32 (no `atomics` feature)");

/// The component's allocator ([`heap`]): size classes over linear memory, instead of
/// std's dlmalloc (about 9 KB larger) or talc (larger, and slower per span).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: heap::SizeClasses<heap::LinearMemory> =
    heap::SizeClasses::new(heap::LinearMemory);

/// A panic (a bug: nothing here panics on bad input) traps, as std's handler does on this
/// target, without formatting a message that has nowhere to go.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(target_arch = "wasm32")]
mod bindings;
pub mod config;
pub mod export_queue;
pub mod heap;
pub mod ids;
pub mod limits;
pub mod log_record;
pub mod model;
mod msg;
#[cfg(feature = "direct-api")]
pub mod otel;
pub mod otlp_json;
pub mod propagation;
pub mod recorder;
pub mod sampler;
mod span_map;
#[cfg(test)]
mod test_host;
pub mod tracer;
