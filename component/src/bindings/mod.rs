//! The thin layer between the WIT contract and the plain-Rust tracer: keeps the one
//! tracer of this instance, reaches the host's imports, and implements the exports of
//! world `browser` (`pipeline`, `recorder`) here and those only world `tracing` has
//! (`setup`, `propagation`, `tracer`, with the WIT <-> model conversions they need, and
//! `wasi:otel`'s `tracing` and `logs` in `otel`) in submodules. No tracing logic lives here.
#![allow(unsafe_code)] // wit-bindgen's generated glue (canonical ABI) is unsafe by nature.

use ::core::cell::RefCell;
use alloc::vec::Vec;

use crate::ids::{IdGenerator, SEED_LEN};
use crate::recorder::{self, OpBatch};
use crate::tracer::{Host, Signal, Tracer};

// World `tracing` with the direct API (feature `direct-api`), world `browser` without.
#[cfg(feature = "direct-api")]
wit_bindgen::generate!({
    path: "../wit",
    world: "tracing",
    // Types only: `wasi:otel`'s records use `datetime`, and `logs` the shared `types`.
    with: {
        "wasi:clocks/wall-clock@0.2.0": generate,
        "wasi:otel/types@0.2.0-rc.2": generate,
    },
});
#[cfg(not(feature = "direct-api"))]
wit_bindgen::generate!({
    path: "../wit",
    world: "browser",
});

// The one-call-per-operation exports of world `tracing`.
#[cfg(feature = "direct-api")]
mod convert;
#[cfg(feature = "direct-api")]
mod otel;
#[cfg(feature = "direct-api")]
mod propagation;
#[cfg(feature = "direct-api")]
mod setup;
#[cfg(feature = "direct-api")]
mod tracer;

use exports::wasm_otlp::tracing::{pipeline, recorder as wit_recorder};
use wasm_otlp::tracing::types as wit;
use wasm_otlp::tracing::{clock, random, transport};

/// The component instance's export implementation.
struct Component;

export!(Component);

/// One tracer per instance, created on first use with IDs seeded by the host.
static TRACER: Instance = Instance(RefCell::new(None));

/// The instance's state. (`thread_local!` needs std, which this crate leaves out on wasm.)
struct Instance(RefCell<Option<Tracer>>);

// SAFETY: wasm32 without the `atomics` feature has a single thread, and the component
// model never re-enters an instance, so the cell is only ever used from one call at a time.
unsafe impl Sync for Instance {}

/// The host's imports as the tracer's [`Host`].
struct Imports;

impl Host for Imports {
    fn now(&mut self) -> u64 {
        clock::now_unix_nanos()
    }

    fn send(&mut self, signal: Signal, body: &[u8], count: u32) -> bool {
        let signal = match signal {
            Signal::Traces => transport::Signal::Traces,
            Signal::Logs => transport::Signal::Logs,
        };
        transport::send(signal, body, count)
    }
}

/// Runs `f` on this instance's tracer.
fn with_tracer<R>(f: impl FnOnce(&mut Tracer, &mut Imports) -> R) -> R {
    // Never already borrowed (see `Instance`); a plain trap keeps `borrow_mut`'s panic
    // message and location out of every export.
    let Ok(mut slot) = TRACER.0.try_borrow_mut() else {
        ::core::arch::wasm32::unreachable()
    };
    let tracer = slot.get_or_insert_with(new_tracer);
    f(tracer, &mut Imports)
}

/// The instance's tracer, seeded by the host. Not inlined: one copy rather than one in
/// every export.
#[inline(never)]
fn new_tracer() -> Tracer {
    Tracer::new(IdGenerator::from_seed_bytes(&random::random_bytes(
        SEED_LEN as u32,
    )))
}

/// Most IDs handed out by one `reserve-*` call (keeps a bad count from exhausting memory).
const MAX_RESERVE: u32 = 1 << 20;

impl pipeline::Guest for Component {
    fn tick() {
        with_tracer(|t, host| t.tick(host));
    }
    fn next_deadline() -> Option<u64> {
        with_tracer(|t, _| t.next_deadline())
    }

    fn force_flush() {
        with_tracer(|t, host| t.force_flush(host));
    }

    fn shutdown() {
        with_tracer(|t, host| t.shutdown(host));
    }

    fn read_stats() -> wit::Stats {
        let s = with_tracer(|t, _| t.stats());
        wit::Stats {
            spans_started: s.spans_started,
            spans_unsampled: s.spans_unsampled,
            spans_ended: s.spans_ended,
            spans_exported: s.spans_exported,
            spans_dropped_queue_full: s.spans_dropped_queue_full,
            spans_refused_open_limit: s.spans_refused_open_limit,
            truncated_values: s.truncated_values,
            payloads_sent: s.payloads_sent,
            rejected_operations: s.rejected_operations,
            logs_emitted: s.logs_emitted,
            logs_exported: s.logs_exported,
            logs_dropped_queue_full: s.logs_dropped_queue_full,
        }
    }
}

impl wit_recorder::Guest for Component {
    fn apply(batch: wit_recorder::OpBatch) -> wit_recorder::ApplyOutcome {
        let batch = OpBatch {
            words: &batch.words,
            numbers: &batch.numbers,
            text: &batch.text,
            time_origin_unix_nanos: batch.time_origin_unix_nanos,
        };
        let outcome = with_tracer(|t, host| recorder::apply(t, host, &batch));
        wit_recorder::ApplyOutcome {
            applied: outcome.applied,
            refused: outcome.refused,
            first_refusal: outcome.first_refusal,
            malformed: outcome.malformed,
        }
    }

    fn reserve_roots(count: u32) -> Vec<u32> {
        let count = count.min(MAX_RESERVE);
        with_tracer(|t, _| {
            let mut words = Vec::with_capacity(count as usize * 7);
            for _ in 0..count {
                let root = t.reserve_root();
                let id = root.trace_id;
                words.extend([
                    (id.hi >> 32) as u32,
                    id.hi as u32,
                    (id.lo >> 32) as u32,
                    id.lo as u32,
                    (root.span_id >> 32) as u32,
                    root.span_id as u32,
                    u32::from(root.trace_flags),
                ]);
            }
            words
        })
    }

    fn reserve_span_ids(count: u32) -> Vec<u32> {
        let count = count.min(MAX_RESERVE);
        with_tracer(|t, _| {
            let mut words = Vec::with_capacity(count as usize * 2);
            for _ in 0..count {
                let id = t.reserve_span_id();
                words.extend([(id >> 32) as u32, id as u32]);
            }
            words
        })
    }
}
