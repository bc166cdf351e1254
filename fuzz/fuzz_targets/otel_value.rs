//! The component's reader of `wasi:otel` JSON attribute values (`component/src/otel/value.rs`),
//! against serde_json (`src/otel.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_otlp_fuzz::otel::otel_value(data));
