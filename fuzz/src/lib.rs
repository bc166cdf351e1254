//! What the fuzz targets in `fuzz_targets/` share: how a target's input bytes become
//! calls ([`recorder`], [`otlp`], [`stack`], [`otel`]), and the fuzzed tracer's host, which checks every
//! payload ([`host`]). A target file is a one-line `fuzz_target!` over a function here, so the
//! seed generator (a test here) and the target read inputs the same way.

pub mod host;
pub mod otel;
pub mod otlp;
pub mod recorder;
#[cfg(test)]
mod seeds;
pub mod stack;
