//! The collector's OTLP JSON decoder (`collector/decode/src/json.rs`), trace and logs
//! requests, with a round trip through protobuf of what it accepts (`src/otlp.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_otlp_fuzz::otlp::json(data));
