//! The recorder: spans written as an op stream reach the payload exactly, IDs come
//! from `reserve-roots`/`reserve-span-ids`, and malformed input is reported, never trapped
//! on, and leaves the component usable.

use std::collections::HashSet;

use crate::common::ops::{END, Ops, RecordedIds, START, Start, parse_roots, parse_span_ids};
use crate::common::{
    Harness, T0, attribute, keys, no_trap, ok, span_named, string_attribute, test_config,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue};
use wasm_otlp_component::recorder::ops::status;
use wasmtime_host::{
    ApplyOutcome, AttributeValue, Config, InstrumentationScope, KeyValue, Sampler,
};

/// The time origin of every batch here: a millisecond-aligned instant after [`T0`].
const ORIGIN: u64 = T0 + 5_000_000_000;

fn ms(millis: f64) -> u64 {
    ORIGIN + (millis * 1e6) as u64
}

fn root(t: &mut Harness) -> RecordedIds {
    parse_roots(&no_trap(t.reserve_roots(1)))[0]
}

fn child_of(t: &mut Harness, parent: RecordedIds) -> RecordedIds {
    parent.child(parse_span_ids(&no_trap(t.reserve_span_ids(1)))[0])
}

#[track_caller]
fn applied_cleanly(outcome: ApplyOutcome, ops: u32) {
    assert_eq!(
        outcome,
        ApplyOutcome {
            applied: ops,
            refused: 0,
            first_refusal: None,
            malformed: None
        }
    );
}

fn array(values: Vec<Value>) -> Value {
    Value::ArrayValue(ArrayValue {
        values: values
            .into_iter()
            .map(|value| AnyValue { value: Some(value) })
            .collect(),
    })
}

#[test]
fn reserved_ids_are_distinct_nonzero_and_sampled_under_always_on() {
    let mut t = Harness::new();
    let roots = parse_roots(&no_trap(t.reserve_roots(1000)));
    assert_eq!(roots.len(), 1000);
    assert!(
        roots
            .iter()
            .all(|r| r.trace_id != 0 && r.span_id != 0 && r.sampled())
    );
    let traces: HashSet<u128> = roots.iter().map(|r| r.trace_id).collect();
    assert_eq!(traces.len(), 1000);
    let spans = parse_span_ids(&no_trap(t.reserve_span_ids(1000)));
    let all: HashSet<u64> = spans
        .iter()
        .chain(roots.iter().map(|r| &r.span_id))
        .copied()
        .collect();
    assert_eq!(all.len(), 2000);
    assert!(!all.contains(&0));
}

#[test]
fn spans_recorded_as_ops_reach_the_payload_with_everything_they_carry() {
    let mut t = Harness::new();
    let server = root(&mut t);
    let client = child_of(&mut t, server);
    let elsewhere = root(&mut t);

    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start {
        kind: 1,
        trace_state: "vendor=x",
        ..Start::root(server, "GET", 0.5)
    })
    .attr(server.span_id, &KeyValue::new("http.request.method", "GET"))
    .attr(
        server.span_id,
        &KeyValue::new("http.response.status_code", 200i64),
    )
    .attr(server.span_id, &KeyValue::new("retry", false))
    .attr(server.span_id, &KeyValue::new("ratio", 0.75f64))
    .attr(server.span_id, &KeyValue::new("min", i64::MIN))
    .attr(
        server.span_id,
        &KeyValue::new(
            "tags",
            AttributeValue::StringArray(vec!["a".into(), "é😀".into()]),
        ),
    )
    .attr(
        server.span_id,
        &KeyValue::new("flags", AttributeValue::BoolArray(vec![true, false])),
    )
    .attr(
        server.span_id,
        &KeyValue::new("ints", AttributeValue::S64Array(vec![-1, i64::MAX])),
    )
    .attr(
        server.span_id,
        &KeyValue::new("floats", AttributeValue::F64Array(vec![1.5, -0.25])),
    )
    .start(&Start {
        kind: 2,
        ..Start::child(client, server.span_id, "SELECT", 1.25)
    })
    .event(
        client.span_id,
        "retry",
        2.5,
        &[
            KeyValue::new("attempt", 2i64),
            KeyValue::new("backoff", 0.125f64),
        ],
    )
    .status(client.span_id, status::ERROR, "timeout")
    .end(client.span_id, 7.75)
    .link(
        server.span_id,
        elsewhere,
        "other=1",
        &[KeyValue::new("why", "fan-in")],
    )
    .status(server.span_id, status::OK, "")
    .name(server.span_id, "GET /users/:id")
    .end(server.span_id, 10.25);
    applied_cleanly(no_trap(t.apply(&ops.batch())), 18);

    let spans = t.flush_spans();
    assert_eq!(spans.len(), 2);
    let server_span = span_named(&spans, "GET /users/:id");
    assert_eq!(server_span.trace_id, server.trace_id_bytes());
    assert_eq!(server_span.span_id, server.span_id_bytes());
    assert!(server_span.parent_span_id.is_empty());
    assert_eq!(server_span.kind, 2);
    assert_eq!(server_span.trace_state, "vendor=x");
    assert_eq!(server_span.start_time_unix_nano, ms(0.5));
    assert_eq!(server_span.end_time_unix_nano, ms(10.25));
    assert_eq!(server_span.status.clone().unwrap_or_default().code, 1);
    let a = &server_span.attributes;
    assert_eq!(
        keys(a),
        [
            "http.request.method",
            "http.response.status_code",
            "retry",
            "ratio",
            "min",
            "tags",
            "flags",
            "ints",
            "floats"
        ]
    );
    assert_eq!(string_attribute(a, "http.request.method"), "GET");
    assert_eq!(
        attribute(a, "http.response.status_code"),
        Some(&Value::IntValue(200))
    );
    assert_eq!(attribute(a, "retry"), Some(&Value::BoolValue(false)));
    assert_eq!(attribute(a, "ratio"), Some(&Value::DoubleValue(0.75)));
    assert_eq!(attribute(a, "min"), Some(&Value::IntValue(i64::MIN)));
    assert_eq!(
        attribute(a, "tags"),
        Some(&array(vec![
            Value::StringValue("a".into()),
            Value::StringValue("é😀".into())
        ]))
    );
    assert_eq!(
        attribute(a, "flags"),
        Some(&array(vec![
            Value::BoolValue(true),
            Value::BoolValue(false)
        ]))
    );
    assert_eq!(
        attribute(a, "ints"),
        Some(&array(vec![Value::IntValue(-1), Value::IntValue(i64::MAX)]))
    );
    assert_eq!(
        attribute(a, "floats"),
        Some(&array(vec![
            Value::DoubleValue(1.5),
            Value::DoubleValue(-0.25)
        ]))
    );
    assert_eq!(server_span.links.len(), 1);
    let link = &server_span.links[0];
    assert_eq!(link.trace_id, elsewhere.trace_id_bytes());
    assert_eq!(link.span_id, elsewhere.span_id_bytes());
    assert_eq!(link.trace_state, "other=1");
    assert_eq!(string_attribute(&link.attributes, "why"), "fan-in");

    let client_span = span_named(&spans, "SELECT");
    assert_eq!(client_span.trace_id, server.trace_id_bytes());
    assert_eq!(client_span.span_id, client.span_id_bytes());
    assert_eq!(client_span.parent_span_id, server.span_id_bytes());
    assert_eq!(client_span.kind, 3);
    assert_eq!(client_span.start_time_unix_nano, ms(1.25));
    assert_eq!(client_span.end_time_unix_nano, ms(7.75));
    let status = client_span.status.clone().unwrap_or_default();
    assert_eq!((status.code, status.message.as_str()), (2, "timeout"));
    assert_eq!(client_span.events.len(), 1);
    let event = &client_span.events[0];
    assert_eq!(event.name, "retry");
    assert_eq!(event.time_unix_nano, ms(2.5));
    assert_eq!(
        attribute(&event.attributes, "attempt"),
        Some(&Value::IntValue(2))
    );
    assert_eq!(
        attribute(&event.attributes, "backoff"),
        Some(&Value::DoubleValue(0.125))
    );
}

#[test]
fn string_lengths_count_utf16_code_units() {
    let mut t = Harness::new();
    let span = root(&mut t);
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start::root(span, "😀 naïve 日本", 0.0))
        .attr(span.span_id, &KeyValue::new("ключ", "𝄞 clef"))
        .end(span.span_id, 1.0);
    applied_cleanly(no_trap(t.apply(&ops.batch())), 3);
    let exported = t.flush_one_span();
    assert_eq!(exported.name, "😀 naïve 日本");
    assert_eq!(string_attribute(&exported.attributes, "ключ"), "𝄞 clef");
}

#[test]
fn a_remote_parent_and_a_registered_scope_are_recorded() {
    let mut t = Harness::new();
    let scope = InstrumentationScope {
        name: "fetch".into(),
        version: "3.0.0".into(),
        attributes: Vec::new(),
    };
    let scope_index = ok(t.register_scope(&scope));
    let remote = no_trap(t.extract(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        None,
    ))
    .expect("valid");
    let ids = RecordedIds {
        trace_id: (u128::from(remote.trace_id.hi) << 64) | u128::from(remote.trace_id.lo),
        span_id: parse_span_ids(&no_trap(t.reserve_span_ids(1)))[0],
        flags: 1,
    };
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start {
        parent_is_remote: true,
        scope: scope_index,
        ..Start::child(ids, remote.span_id, "from-remote", 0.0)
    })
    .end(ids.span_id, 1.0);
    applied_cleanly(no_trap(t.apply(&ops.batch())), 2);

    let payloads = t.flush();
    let request = crate::common::decode(&payloads[0]);
    let scope_spans = &request.resource_spans[0].scope_spans;
    assert_eq!(scope_spans.len(), 1);
    assert_eq!(
        scope_spans[0].scope.clone().unwrap_or_default().name,
        "fetch"
    );
    let span = &scope_spans[0].spans[0];
    assert_eq!(
        crate::common::hex(&span.trace_id),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(crate::common::hex(&span.parent_span_id), "00f067aa0ba902b7");
}

#[test]
fn unsampled_starts_are_ignored_and_export_nothing() {
    let mut t = Harness::with_config(&Config {
        sampler: Sampler::AlwaysOff,
        ..test_config()
    });
    let span = root(&mut t);
    assert!(!span.sampled());
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start::root(span, "unsampled", 0.0))
        .attr(span.span_id, &KeyValue::new("k", "v"))
        .end(span.span_id, 1.0);
    let outcome = no_trap(t.apply(&ops.batch()));
    assert_eq!(outcome.malformed, None);
    assert!(t.flush().is_empty());
}

#[test]
fn operations_on_unknown_spans_are_refused_one_by_one() {
    let mut t = Harness::new();
    let span = root(&mut t);
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start::root(span, "known", 0.0))
        .attr(0xdead, &KeyValue::new("lost", true))
        .attr(span.span_id, &KeyValue::new("kept", true))
        .end(0xbeef, 1.0)
        .end(span.span_id, 2.0);
    let outcome = no_trap(t.apply(&ops.batch()));
    assert_eq!(
        outcome,
        ApplyOutcome {
            applied: 3,
            refused: 2,
            first_refusal: Some("no open span has this ID".into()),
            malformed: None
        }
    );
    let exported = t.flush_one_span();
    assert_eq!(keys(&exported.attributes), ["kept"]);
    assert_eq!(exported.end_time_unix_nano, ms(2.0));
}

#[test]
fn malformed_input_is_reported_and_nothing_after_it_is_applied() {
    let mut t = Harness::new();
    let (before, after) = (root(&mut t), root(&mut t));
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start::root(before, "before", 0.0))
        .end(before.span_id, 1.0)
        .raw_words(&[99, 0, 0])
        .start(&Start::root(after, "after", 0.0))
        .end(after.span_id, 1.0);
    let outcome = no_trap(t.apply(&ops.batch()));
    assert_eq!(outcome.applied, 2);
    assert!(
        outcome.malformed.is_some(),
        "an unknown opcode is malformed"
    );
    let spans = t.flush_spans();
    assert_eq!(crate::common::names(&spans), ["before"]);
}

#[test]
fn refused_and_malformed_operations_are_counted_in_stats() {
    let mut t = Harness::new();
    let before = no_trap(t.read_stats()).rejected_operations;
    let mut unknown = Ops::new(ORIGIN);
    unknown.end(0xbeef, 1.0);
    assert_eq!(no_trap(t.apply(&unknown.batch())).refused, 1);
    let after_refusal = no_trap(t.read_stats()).rejected_operations;
    assert_eq!(after_refusal - before, 1, "a refused operation is counted");

    let mut malformed = Ops::new(ORIGIN);
    malformed.raw_words(&[99]);
    assert!(no_trap(t.apply(&malformed.batch())).malformed.is_some());
    let after_malformed = no_trap(t.read_stats()).rejected_operations;
    assert_eq!(
        after_malformed - after_refusal,
        1,
        "malformed recorder input is counted (stats.rejected-operations)"
    );
}

#[test]
fn every_kind_of_malformed_batch_is_reported_and_the_component_stays_usable() {
    let mut t = Harness::new();
    let ids = root(&mut t);
    let full = {
        let mut ops = Ops::new(ORIGIN);
        ops.start(&Start::root(ids, "name", 0.0));
        ops.batch()
    };
    let mut cases = Vec::new();
    // START cut short at every word.
    for len in 1..full.words.len() {
        let mut batch = full.clone();
        batch.words.truncate(len);
        cases.push((format!("START truncated to {len} words"), batch));
    }
    let mut no_numbers = full.clone();
    no_numbers.numbers.clear();
    cases.push(("START without its time".into(), no_numbers));
    let mut short_text = full.clone();
    short_text.text = "na".into();
    cases.push(("text shorter than the name".into(), short_text));
    for opcode in [0, 8, 255, u32::MAX] {
        let mut batch = full.clone();
        batch.words = vec![opcode, 0, 1];
        cases.push((format!("unknown opcode {opcode}"), batch));
    }
    let mut bad_type = Ops::new(ORIGIN);
    bad_type.start(&Start::root(ids, "n", 0.0));
    let mut bad_type = bad_type.batch();
    bad_type
        .words
        .extend([2, (ids.span_id >> 32) as u32, ids.span_id as u32, 0, 42]);
    cases.push(("attribute of unknown type 42".into(), bad_type));
    let mut huge_count = full.clone();
    huge_count.words = vec![3, 0, 1, 0, u32::MAX];
    cases.push(("event with 2^32-1 attributes".into(), huge_count));
    let mut huge_len = full.clone();
    huge_len.words[full.words.len() - 2] = u32::MAX;
    cases.push(("name length 2^32-1".into(), huge_len));
    let mut surrogate = full.clone();
    surrogate.text = "😀".into();
    let name_len_at = full.words.len() - 2;
    surrogate.words[name_len_at] = 1;
    surrogate.words[name_len_at + 1] = 1;
    cases.push(("a length splitting a surrogate pair".into(), surrogate));

    for (why, batch) in &cases {
        let outcome = no_trap(t.apply(batch));
        assert!(outcome.malformed.is_some(), "{why}: {outcome:?}");
    }
    let fresh = root(&mut t);
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start::root(fresh, "still works", 0.0))
        .end(fresh.span_id, 1.0);
    applied_cleanly(no_trap(t.apply(&ops.batch())), 2);
    let spans = t.flush_spans();
    assert!(
        spans
            .iter()
            .any(|span| span.span_id == fresh.span_id_bytes()),
        "the component still records after malformed input"
    );
}

#[test]
fn opcodes_match_the_documented_values() {
    // The builder and the component agree on the wire format (START=1, END=6).
    let mut t = Harness::new();
    let ids = root(&mut t);
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start::root(ids, "n", 0.0)).end(ids.span_id, 1.0);
    let batch = ops.batch();
    assert_eq!(batch.words[0], START);
    assert_eq!(batch.words[batch.words.len() - 3], END);
    applied_cleanly(no_trap(t.apply(&batch)), 2);
}
