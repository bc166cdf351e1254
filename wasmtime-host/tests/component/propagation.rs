//! W3C Trace Context: `traceparent`/`tracestate` inject and extract round-trip, and
//! malformed headers are rejected as the specification says.

use crate::common::{Harness, no_trap, ok};
use wasmtime_host::{SpanContext, SpanOptions, TraceId};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN: &str = "00f067aa0ba902b7";

fn valid(flags: &str) -> String {
    format!("00-{TRACE}-{SPAN}-{flags}")
}

#[test]
fn extract_reads_a_valid_traceparent_and_tracestate() {
    let mut t = Harness::new();
    let context = no_trap(t.extract(
        &valid("01"),
        Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
    ))
    .expect("a valid header");
    assert_eq!(
        context.trace_id,
        TraceId {
            hi: 0x4bf9_2f35_77b3_4da6,
            lo: 0xa3ce_929d_0e0e_4736
        }
    );
    assert_eq!(context.span_id, 0x00f0_67aa_0ba9_02b7);
    assert_eq!(context.trace_flags, 1);
    assert_eq!(
        context.trace_state,
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    );
    assert!(context.is_remote);
}

#[test]
fn extracted_headers_inject_back_unchanged() {
    let mut t = Harness::new();
    for (traceparent, tracestate) in [
        (valid("01"), Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")),
        (valid("00"), None),
        (valid("01"), Some("vendor@tenant=value")),
    ] {
        let context = no_trap(t.extract(&traceparent, tracestate)).expect("a valid header");
        let headers = no_trap(t.inject(&context)).expect("a valid context");
        assert_eq!(headers.traceparent, traceparent);
        assert_eq!(headers.tracestate.as_deref(), tracestate);
    }
}

#[test]
fn a_span_context_injects_and_extracts_back_to_itself() {
    let mut t = Harness::new();
    let span = t.start("s");
    let mut context = ok(t.context_of(span));
    context.trace_state = "k1=v1,k2=v2".into();
    let headers = no_trap(t.inject(&context)).expect("a valid context");
    assert_eq!(
        headers.traceparent,
        format!(
            "00-{}-{}-01",
            context.trace_id.to_hex(),
            context.span_id_hex()
        )
    );
    let back = no_trap(t.extract(&headers.traceparent, headers.tracestate.as_deref()))
        .expect("its own header");
    assert_eq!(
        back,
        SpanContext {
            is_remote: true,
            ..context
        }
    );
}

#[test]
fn an_all_zero_context_injects_nothing() {
    let mut t = Harness::new();
    let zero = SpanContext {
        trace_id: TraceId { hi: 0, lo: 0 },
        span_id: 0,
        trace_flags: 1,
        trace_state: String::new(),
        is_remote: false,
    };
    assert_eq!(no_trap(t.inject(&zero)), None);
    let zero_span = SpanContext {
        trace_id: TraceId { hi: 1, lo: 2 },
        ..zero.clone()
    };
    assert_eq!(no_trap(t.inject(&zero_span)), None);
}

#[test]
fn malformed_traceparent_headers_are_rejected_with_a_reason() {
    let mut t = Harness::new();
    let zero_trace = "0".repeat(32);
    let zero_span = "0".repeat(16);
    let cases = [
        ("version ff", format!("ff-{TRACE}-{SPAN}-01")),
        ("empty", String::new()),
        ("short trace id", format!("00-{}-{SPAN}-01", &TRACE[1..])),
        ("long trace id", format!("00-{TRACE}0-{SPAN}-01")),
        ("short span id", format!("00-{TRACE}-{}-01", &SPAN[1..])),
        ("long span id", format!("00-{TRACE}-{SPAN}0-01")),
        ("one-digit flags", format!("00-{TRACE}-{SPAN}-1")),
        ("missing flags", format!("00-{TRACE}-{SPAN}")),
        ("one-digit version", format!("0-{TRACE}-{SPAN}-01")),
        ("all-zero trace id", format!("00-{zero_trace}-{SPAN}-01")),
        ("all-zero span id", format!("00-{TRACE}-{zero_span}-01")),
        (
            "upper-case trace id",
            format!("00-{}-{SPAN}-01", TRACE.to_uppercase()),
        ),
        (
            "upper-case span id",
            format!("00-{TRACE}-{}-01", SPAN.to_uppercase()),
        ),
        ("upper-case version", format!("0A-{TRACE}-{SPAN}-01")),
        ("upper-case flags", format!("00-{TRACE}-{SPAN}-0A")),
        ("non-hex trace id", format!("00-{}g-{SPAN}-01", &TRACE[1..])),
        ("non-hex span id", format!("00-{TRACE}-{}x-01", &SPAN[1..])),
        ("non-hex flags", format!("00-{TRACE}-{SPAN}-0z")),
        (
            "version 00 with extra data",
            format!("00-{TRACE}-{SPAN}-01-extra"),
        ),
        (
            "version 00 with a trailing dash",
            format!("00-{TRACE}-{SPAN}-01-"),
        ),
        ("wrong separators", format!("00_{TRACE}_{SPAN}_01")),
        (
            "future version with junk after",
            format!("01-{TRACE}-{SPAN}-01x"),
        ),
    ];
    for (why, header) in cases {
        match no_trap(t.extract(&header, None)) {
            Err(reason) => assert!(!reason.is_empty(), "{why}: empty reason"),
            Ok(context) => panic!("{why}: {header:?} was accepted as {context:?}"),
        }
    }
}

#[test]
fn a_future_version_is_read_by_its_version_00_prefix() {
    let mut t = Harness::new();
    for header in [
        format!("01-{TRACE}-{SPAN}-01-what-the-future-holds"),
        format!("cc-{TRACE}-{SPAN}-01"),
        format!("fe-{TRACE}-{SPAN}-01-"),
    ] {
        let context = no_trap(t.extract(&header, None))
            .unwrap_or_else(|why| panic!("{header:?} was rejected: {why}"));
        assert_eq!(context.trace_id.to_hex(), TRACE);
        assert_eq!(context.span_id_hex(), SPAN);
        assert!(context.is_sampled());
        let headers = no_trap(t.inject(&context)).expect("a valid context");
        assert_eq!(headers.traceparent, valid("01"), "inject writes version 00");
    }
}

#[test]
fn an_invalid_tracestate_is_discarded_while_the_traceparent_stands() {
    let mut t = Harness::new();
    for tracestate in [
        "no-equals-sign",
        "UPPER=case-key",
        "k=v,=missing-key",
        "k=va=lue",
        "k=",
        "k=v,k=duplicate",
        "k=val\u{7f}ue",
    ] {
        let context = no_trap(t.extract(&valid("01"), Some(tracestate)))
            .unwrap_or_else(|why| panic!("{tracestate:?} broke the traceparent: {why}"));
        assert_eq!(context.trace_state, "", "{tracestate:?} was kept");
        assert_eq!(context.span_id_hex(), SPAN);
        let headers = no_trap(t.inject(&context)).expect("a valid context");
        assert_eq!(headers.tracestate, None);
    }
}

#[test]
fn whitespace_around_tracestate_members_is_optional() {
    let mut t = Harness::new();
    let context = no_trap(t.extract(&valid("01"), Some(" a=1 ,\tb=2 "))).expect("a valid header");
    assert_eq!(context.trace_state, "a=1,b=2");
}

#[test]
fn a_child_of_an_extracted_context_continues_its_trace_and_tracestate() {
    let mut t = Harness::new();
    let parent = no_trap(t.extract(&valid("01"), Some("vendor=abc"))).expect("a valid header");
    let child = t.start_with("server", &SpanOptions::child_of_context(parent));
    let child_context = ok(t.context_of(child));
    assert_eq!(child_context.trace_id.to_hex(), TRACE);
    assert_eq!(child_context.trace_state, "vendor=abc");
    assert!(!child_context.is_remote, "the child itself is local");
    t.end(child);

    let exported = t.flush_one_span();
    assert_eq!(crate::common::hex(&exported.trace_id), TRACE);
    assert_eq!(crate::common::hex(&exported.parent_span_id), SPAN);
    assert_eq!(exported.trace_state, "vendor=abc");
}
