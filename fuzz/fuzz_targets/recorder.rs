//! The component's recorder: op batches from untrusted bytes (`src/recorder.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasm_otlp_fuzz::recorder::run(data));
