//! The wasm-otlp tracing component.
//!
//! Plain Rust modules hold the logic and are unit-tested natively; [`bindings`] (built
//! only for WebAssembly) is the thin layer that connects them to the WIT contract in
//! `wit/tracing.wit`.
//!
//! Data path inside the component: an operation arrives through the direct API
//! (`tracer`) or the recorded-op path ([`recorder`]), the [`tracer`] applies
//! [`sampler`] and [`limits`] to the [`model`], ended spans wait in its bounded queue,
//! and [`otlp_json`] encodes each batch for the host's transport.

#[cfg(target_arch = "wasm32")]
mod bindings;
pub mod config;
pub mod ids;
pub mod limits;
pub mod model;
pub mod otlp_json;
pub mod propagation;
pub mod recorder;
pub mod sampler;
#[cfg(test)]
mod test_host;
pub mod tracer;
