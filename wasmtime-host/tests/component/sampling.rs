//! Sampling: the trace-ID ratio keeps its share of traces, parent-based sampling follows
//! the parent, and unsampled spans still propagate a valid context but export nothing.

use crate::common::ops::parse_roots;
use crate::common::{Harness, no_trap, ok, test_config};
use wasmtime_host::{Config, Sampler, SpanContext, SpanOptions};

fn config_with_sampler(sampler: Sampler) -> Config {
    Config {
        sampler,
        ..test_config()
    }
}

/// Asserts `kept` of `total` is within 5 standard deviations of `ratio`.
#[track_caller]
fn assert_share(kept: usize, total: usize, ratio: f64) {
    let n = total as f64;
    let mean = n * ratio;
    let tolerance = 5.0 * (n * ratio * (1.0 - ratio)).sqrt();
    assert!(
        (kept as f64 - mean).abs() <= tolerance,
        "kept {kept} of {total}: expected {mean} ± {tolerance:.0}"
    );
}

/// The context of a traceparent, extracted by the component itself.
fn extracted(t: &mut Harness, traceparent: &str) -> SpanContext {
    no_trap(t.extract(traceparent, None)).expect("a valid traceparent")
}

#[test]
fn trace_id_ratio_keeps_about_a_quarter_of_a_hundred_thousand_reserved_roots() {
    const ROOTS: usize = 100_000;
    let mut t = Harness::with_config(&config_with_sampler(Sampler::TraceIdRatio(0.25)));
    let roots = parse_roots(&no_trap(t.reserve_roots(ROOTS as u32)));
    assert_eq!(roots.len(), ROOTS);
    let sampled = roots.iter().filter(|root| root.sampled()).count();
    assert_share(sampled, ROOTS, 0.25);
    assert!(
        roots
            .iter()
            .all(|root| root.trace_id != 0 && root.span_id != 0)
    );
}

#[test]
fn trace_id_ratio_keeps_about_a_quarter_of_directly_started_roots() {
    const ROOTS: usize = 20_000;
    let mut t = Harness::with_config(&config_with_sampler(Sampler::TraceIdRatio(0.25)));
    let mut recording = 0;
    for _ in 0..ROOTS {
        let span = t.start("root");
        let is_recording = ok(t.is_recording(span));
        let context = ok(t.context_of(span));
        assert_eq!(
            context.is_sampled(),
            is_recording,
            "flag and is-recording agree"
        );
        recording += usize::from(is_recording);
        t.end(span);
    }
    assert_share(recording, ROOTS, 0.25);
    let exported = t.flush_spans().len();
    assert_eq!(
        exported, recording,
        "exactly the recording spans are exported"
    );
    let stats = no_trap(t.read_stats());
    assert_eq!(stats.spans_unsampled, (ROOTS - recording) as u64);
}

#[test]
fn always_on_and_always_off_decide_every_reserved_root() {
    let mut on = Harness::with_config(&config_with_sampler(Sampler::AlwaysOn));
    assert!(
        parse_roots(&no_trap(on.reserve_roots(1000)))
            .iter()
            .all(|r| r.sampled())
    );
    let mut off = Harness::with_config(&config_with_sampler(Sampler::AlwaysOff));
    assert!(
        parse_roots(&no_trap(off.reserve_roots(1000)))
            .iter()
            .all(|r| !r.sampled())
    );
}

#[test]
fn parent_based_sampling_follows_a_remote_parents_sampled_flag() {
    for root_ratio in [0.0, 1.0] {
        let mut t =
            Harness::with_config(&config_with_sampler(Sampler::ParentBasedRatio(root_ratio)));
        let unsampled = extracted(
            &mut t,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        );
        let sampled = extracted(
            &mut t,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );

        let child = t.start_with(
            "of-unsampled",
            &SpanOptions::child_of_context(unsampled.clone()),
        );
        assert!(!ok(t.is_recording(child)), "root ratio {root_ratio}");
        let child_context = ok(t.context_of(child));
        assert!(!child_context.is_sampled());
        assert_eq!(child_context.trace_id, unsampled.trace_id);

        let child = t.start_with(
            "of-sampled",
            &SpanOptions::child_of_context(sampled.clone()),
        );
        assert!(ok(t.is_recording(child)), "root ratio {root_ratio}");
        assert!(ok(t.context_of(child)).is_sampled());
    }
}

#[test]
fn parent_based_sampling_follows_a_local_parent_and_uses_the_ratio_for_roots() {
    let mut all = Harness::with_config(&config_with_sampler(Sampler::ParentBasedRatio(1.0)));
    let root = all.start("root");
    assert!(ok(all.is_recording(root)));
    let child = all.start_with("child", &SpanOptions::child_of(root));
    assert!(ok(all.is_recording(child)));

    let mut none = Harness::with_config(&config_with_sampler(Sampler::ParentBasedRatio(0.0)));
    let root = none.start("root");
    assert!(!ok(none.is_recording(root)));
    let child = none.start_with("child", &SpanOptions::child_of(root));
    assert!(!ok(none.is_recording(child)));
}

#[test]
fn an_unsampled_span_propagates_a_valid_context_and_exports_nothing() {
    let mut t = Harness::with_config(&config_with_sampler(Sampler::AlwaysOff));
    let span = t.start("unsampled");
    assert!(!ok(t.is_recording(span)));
    // Operations on an unsampled span are accepted (and recorded nowhere).
    t.set(span, "ignored", "value");
    ok(t.add_event(span, "ignored", &[], None));
    let context = ok(t.context_of(span));
    assert_eq!(context.span_id, span);
    assert_ne!((context.trace_id.hi, context.trace_id.lo), (0, 0));
    assert_ne!(context.span_id, 0);
    assert!(!context.is_sampled());

    let headers = no_trap(t.inject(&context)).expect("a valid context has headers");
    let expected = format!(
        "00-{}-{}-00",
        context.trace_id.to_hex(),
        context.span_id_hex()
    );
    assert_eq!(headers.traceparent, expected);
    let parsed = extracted(&mut t, &headers.traceparent);
    assert_eq!(parsed.trace_id, context.trace_id);
    assert_eq!(parsed.span_id, context.span_id);

    let child = t.start_with("child", &SpanOptions::child_of(span));
    assert_eq!(ok(t.context_of(child)).trace_id, context.trace_id);
    t.end(child);
    t.end(span);
    assert!(t.flush().is_empty(), "unsampled spans are never exported");
    let stats = no_trap(t.read_stats());
    assert_eq!((stats.spans_unsampled, stats.payloads_sent), (2, 0));
}

#[test]
fn an_invalid_ratio_is_refused() {
    let mut t = Harness::new();
    for ratio in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
        for sampler in [
            Sampler::TraceIdRatio(ratio),
            Sampler::ParentBasedRatio(ratio),
        ] {
            let outcome = no_trap(t.configure(&config_with_sampler(sampler)));
            assert!(outcome.is_err(), "{sampler:?} was accepted");
        }
    }
    let span = t.start("still always on");
    assert!(ok(t.is_recording(span)));
}
