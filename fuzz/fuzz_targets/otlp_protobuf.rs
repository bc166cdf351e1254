//! The collector's OTLP protobuf decoder (`collector/decode/src/protobuf.rs`: the item
//! count, the charged lists, the borrowed model), trace and logs requests (`src/otlp.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_otlp_fuzz::otlp::protobuf(data));
