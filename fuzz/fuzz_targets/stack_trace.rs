//! The collector's JavaScript stack trace parser (`collector/decode/src/stack.rs`), used
//! for source maps, with a round trip of every frame it reads (`src/stack.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_otlp_fuzz::stack::stack_trace(data));
