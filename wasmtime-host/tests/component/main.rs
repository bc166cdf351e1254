//! The component under wasmtime: every integration test in one binary, so that wasmtime
//! is linked once and the component compiled once (`common::runtime`; `composed.rs` compiles
//! the example guest composed with it once too).

mod common;

mod batching;
mod browser_world;
mod composed;
mod ids_and_nesting;
pub mod imports;
mod limits;
mod logs;
mod otel;
mod otel_wasip2;
mod payload;
mod propagation;
mod recorder;
mod robustness;
mod sampling;
