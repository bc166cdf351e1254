//! The collector's OTLP protobuf path (`collector/decode/src/protobuf.rs`: the memory
//! estimate, prost, the borrowed view), `src/otlp.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_otlp_fuzz::otlp::protobuf(data));
