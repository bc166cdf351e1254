//! Span and trace IDs: nesting, parent IDs, their OTLP/JSON form, and uniqueness.

use std::collections::HashSet;

use crate::common::{
    Harness, hex, ok, raw_json, raw_spans, span_id_bytes, span_named, trace_id_bytes,
};
use wasmtime_host::{SpanOptions, TracingError};

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn nested_spans_share_the_trace_id_and_name_their_parent() {
    let mut t = Harness::new();
    let root = t.start("root");
    let child = t.start_with("child", &SpanOptions::child_of(root));
    let grandchild = t.start_with("grandchild", &SpanOptions::child_of(child));
    let root_context = ok(t.context_of(root));
    for span in [grandchild, child, root] {
        t.end(span);
    }

    let spans = t.flush_spans();
    assert_eq!(spans.len(), 3);
    let trace = trace_id_bytes(&root_context.trace_id);
    for span in &spans {
        assert_eq!(hex(&span.trace_id), hex(&trace), "span {:?}", span.name);
    }
    let (root_span, child_span, grandchild_span) = (
        span_named(&spans, "root"),
        span_named(&spans, "child"),
        span_named(&spans, "grandchild"),
    );
    assert!(root_span.parent_span_id.is_empty(), "a root has no parent");
    assert_eq!(root_span.span_id, span_id_bytes(root));
    assert_eq!(child_span.span_id, span_id_bytes(child));
    assert_eq!(child_span.parent_span_id, span_id_bytes(root));
    assert_eq!(grandchild_span.span_id, span_id_bytes(grandchild));
    assert_eq!(grandchild_span.parent_span_id, span_id_bytes(child));
}

#[test]
fn a_child_of_an_ended_span_context_joins_its_trace() {
    let mut t = Harness::new();
    let root = t.start("root");
    let root_context = ok(t.context_of(root));
    t.end(root);
    let late = t.start_with("late", &SpanOptions::child_of_context(root_context.clone()));
    t.end(late);

    let spans = t.flush_spans();
    let late_span = span_named(&spans, "late");
    assert_eq!(late_span.trace_id, trace_id_bytes(&root_context.trace_id));
    assert_eq!(late_span.parent_span_id, span_id_bytes(root));
}

#[test]
fn handles_are_the_span_ids_and_contexts_agree_with_the_payload() {
    let mut t = Harness::new();
    let span = t.start("s");
    let context = ok(t.context_of(span));
    assert_eq!(context.span_id, span, "the handle equals the span ID");
    assert!(!context.is_remote);
    assert!(context.is_sampled());
    t.end(span);
    let exported = t.flush_one_span();
    assert_eq!(hex(&exported.span_id), context.span_id_hex());
    assert_eq!(hex(&exported.trace_id), context.trace_id.to_hex());
}

#[test]
fn ids_in_the_json_are_lowercase_hex_of_the_right_length_and_never_zero() {
    let mut t = Harness::new();
    for i in 0..50 {
        let root = t.start(&format!("root-{i}"));
        let child = t.start_with("child", &SpanOptions::child_of(root));
        t.end(child);
        t.end(root);
    }
    let payloads = t.flush();
    let mut seen = 0;
    for payload in &payloads {
        let json = raw_json(payload);
        for span in raw_spans(&json) {
            seen += 1;
            let trace_id = span["traceId"].as_str().expect("traceId is a string");
            let span_id = span["spanId"].as_str().expect("spanId is a string");
            assert!(is_lower_hex(trace_id, 32), "traceId {trace_id:?}");
            assert!(is_lower_hex(span_id, 16), "spanId {span_id:?}");
            assert_ne!(trace_id, "0".repeat(32));
            assert_ne!(span_id, "0".repeat(16));
            match span.get("parentSpanId").and_then(|id| id.as_str()) {
                None | Some("") => {}
                Some(parent) => {
                    assert!(is_lower_hex(parent, 16), "parentSpanId {parent:?}");
                    assert_ne!(parent, "0".repeat(16));
                }
            }
        }
    }
    assert_eq!(seen, 100);
}

#[test]
fn a_hundred_thousand_spans_get_a_hundred_thousand_distinct_span_ids() {
    const SPANS: usize = 100_000;
    let mut t = Harness::new();
    let mut handles = HashSet::with_capacity(SPANS);
    for _ in 0..SPANS {
        let span = t.start("s");
        assert_ne!(span, 0, "zero is never a handle");
        handles.insert(span);
        t.end(span);
    }
    assert_eq!(handles.len(), SPANS, "duplicate span IDs among the handles");

    let spans = t.flush_spans();
    assert_eq!(spans.len(), SPANS);
    let exported: HashSet<Vec<u8>> = spans.iter().map(|span| span.span_id.clone()).collect();
    assert_eq!(exported.len(), SPANS, "duplicate span IDs in the payloads");
    let expected: HashSet<Vec<u8>> = handles.iter().map(|&id| span_id_bytes(id)).collect();
    assert_eq!(exported, expected);
    let traces: HashSet<&[u8]> = spans.iter().map(|span| span.trace_id.as_slice()).collect();
    assert_eq!(traces.len(), SPANS, "every root starts its own trace");
}

#[test]
fn a_parent_handle_that_names_no_open_span_is_refused() {
    let mut t = Harness::new();
    let ended = t.start("ended");
    t.end(ended);
    for parent in [ended, 0, 0xdead_beef] {
        let refused =
            crate::common::no_trap(t.start_span("orphan", &SpanOptions::child_of(parent)));
        assert_eq!(
            refused,
            Err(TracingError::UnknownSpan),
            "parent {parent:#x}"
        );
    }
}
