//! gzip bodies inflated within a limit, then decoded as OTLP JSON and as protobuf, trace
//! and logs requests (`src/otlp.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_otlp_fuzz::otlp::gzip(data));
