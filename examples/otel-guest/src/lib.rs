//! An example guest component traced through `wasi:otel` (`wit/guest.wit`): it reserves
//! stock (`inventory.reserve`) and records that work as spans, events and log records,
//! which a small OpenTelemetry-like SDK of its own hands to the `wasi:otel` interfaces it
//! imports. Composed with the tracing component (`just compose`), those
//! imports are answered by the tracing component's `wasi:otel` exports; a wasmtime host
//! can answer them directly too (`wasmtime-host`'s `wasi_otel`).
//!
//! [`stock`] is the work itself, plain Rust tested natively, as is [`json`] (attribute
//! values are JSON text in `wasi:otel`); the SDK and the traced entry point are built for
//! WebAssembly only.

pub mod json;
pub mod stock;

#[cfg(target_arch = "wasm32")]
mod bindings;
#[cfg(target_arch = "wasm32")]
mod sdk;
