//! What reaches the OTLP/JSON payload: times, every attribute type, events, links,
//! status, exceptions, span kinds, resource and scopes; and that the payload decodes with
//! opentelemetry-proto into exactly the spans that were made.

use std::collections::BTreeMap;

use crate::common::{
    Harness, MS, T0, attribute, decode, hex, keys, ok, raw_json, raw_spans, span_id_bytes,
    span_named, spans_of, string_attribute, test_config, trace_id_bytes,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue};
use wasmtime_host::{
    AttributeValue, InstrumentationScope, KeyValue, Link, SpanContext, SpanKind, SpanOptions,
    Status, TraceId,
};

fn array(values: Vec<Value>) -> Value {
    Value::ArrayValue(ArrayValue {
        values: values
            .into_iter()
            .map(|value| AnyValue { value: Some(value) })
            .collect(),
    })
}

fn remote_context(trace_lo: u64, span_id: u64, trace_state: &str) -> SpanContext {
    SpanContext {
        trace_id: TraceId {
            hi: 0x0af7_6519_16cd_43dd,
            lo: trace_lo,
        },
        span_id,
        trace_flags: 1,
        trace_state: trace_state.to_owned(),
        is_remote: true,
    }
}

#[test]
fn start_and_end_times_are_the_host_clock_in_unix_nanoseconds() {
    let mut t = Harness::new();
    let start = t.clock.advance(123);
    let span = t.start("timed");
    let end = t.clock.advance(5_000_007);
    t.end(span);

    let payloads = t.flush();
    let json = raw_json(&payloads[0]);
    let raw = raw_spans(&json)[0];
    // OTLP/JSON writes 64-bit integers as decimal strings.
    assert_eq!(raw["startTimeUnixNano"], start.to_string());
    assert_eq!(raw["endTimeUnixNano"], end.to_string());
    let decoded = crate::common::spans_of_payloads(&payloads);
    assert_eq!(decoded[0].start_time_unix_nano, start);
    assert_eq!(decoded[0].end_time_unix_nano, end);
}

#[test]
fn explicit_start_end_and_event_times_are_kept() {
    let mut t = Harness::new();
    let options = SpanOptions {
        start_time: Some(T0 - 7 * MS),
        ..SpanOptions::root()
    };
    let span = t.start_with("explicit", &options);
    ok(t.add_event(span, "at-clock", &[], None));
    ok(t.add_event(span, "explicit", &[], Some(T0 - 3 * MS)));
    ok(t.end_span(span, Some(T0 + 11 * MS)));

    let exported = t.flush_one_span();
    assert_eq!(exported.start_time_unix_nano, T0 - 7 * MS);
    assert_eq!(exported.end_time_unix_nano, T0 + 11 * MS);
    assert_eq!(exported.events[0].time_unix_nano, T0);
    assert_eq!(exported.events[1].time_unix_nano, T0 - 3 * MS);
}

#[test]
fn an_end_before_the_start_is_raised_to_the_start() {
    let mut t = Harness::new();
    let span = t.start("backwards");
    ok(t.end_span(span, Some(T0 - 1)));
    let exported = t.flush_one_span();
    assert_eq!(exported.start_time_unix_nano, T0);
    assert_eq!(exported.end_time_unix_nano, T0);
}

#[test]
fn every_attribute_type_reaches_the_payload() {
    let mut t = Harness::new();
    let span = t.start("typed");
    let attributes = [
        KeyValue::new("str", "héllo \"quoted\" \\ \n\t\u{1}"),
        KeyValue::new("bool.true", true),
        KeyValue::new("bool.false", false),
        KeyValue::new("int.min", i64::MIN),
        KeyValue::new("int.max", i64::MAX),
        KeyValue::new("int.zero", 0i64),
        KeyValue::new("float", 3.25f64),
        KeyValue::new("float.negative", -0.1f64),
        KeyValue::new("float.tiny", 5e-324f64),
        KeyValue::new("float.huge", 1.7976931348623157e308f64),
        KeyValue::new(
            "strings",
            AttributeValue::StringArray(vec!["a".into(), String::new(), "ü".into()]),
        ),
        KeyValue::new("bools", AttributeValue::BoolArray(vec![true, false])),
        KeyValue::new(
            "ints",
            AttributeValue::S64Array(vec![i64::MIN, -1, 0, i64::MAX]),
        ),
        KeyValue::new("floats", AttributeValue::F64Array(vec![0.5, -2.0, 1e100])),
        KeyValue::new("empty.ints", AttributeValue::S64Array(Vec::new())),
    ];
    for attribute in &attributes[..5] {
        ok(t.set_attribute(span, &attribute.key, &attribute.value));
    }
    ok(t.set_attributes(span, &attributes[5..]));
    t.end(span);

    let payloads = t.flush();
    // The wire form: 64-bit integers as decimal strings, in arrays too.
    let json = raw_json(&payloads[0]);
    let raw_attributes: BTreeMap<&str, &serde_json::Value> = raw_spans(&json)[0]["attributes"]
        .as_array()
        .expect("attributes array")
        .iter()
        .map(|kv| (kv["key"].as_str().expect("key"), &kv["value"]))
        .collect();
    assert_eq!(
        raw_attributes["int.min"]["intValue"],
        "-9223372036854775808"
    );
    assert_eq!(raw_attributes["int.max"]["intValue"], "9223372036854775807");
    assert_eq!(
        raw_attributes["ints"]["arrayValue"]["values"][0]["intValue"],
        "-9223372036854775808"
    );

    let exported = &crate::common::spans_of_payloads(&payloads)[0];
    let expected: Vec<(&str, Value)> = vec![
        (
            "str",
            Value::StringValue("héllo \"quoted\" \\ \n\t\u{1}".into()),
        ),
        ("bool.true", Value::BoolValue(true)),
        ("bool.false", Value::BoolValue(false)),
        ("int.min", Value::IntValue(i64::MIN)),
        ("int.max", Value::IntValue(i64::MAX)),
        ("int.zero", Value::IntValue(0)),
        ("float", Value::DoubleValue(3.25)),
        ("float.negative", Value::DoubleValue(-0.1)),
        ("float.tiny", Value::DoubleValue(5e-324)),
        ("float.huge", Value::DoubleValue(1.7976931348623157e308)),
        (
            "strings",
            array(vec![
                Value::StringValue("a".into()),
                Value::StringValue(String::new()),
                Value::StringValue("ü".into()),
            ]),
        ),
        (
            "bools",
            array(vec![Value::BoolValue(true), Value::BoolValue(false)]),
        ),
        (
            "ints",
            array(vec![
                Value::IntValue(i64::MIN),
                Value::IntValue(-1),
                Value::IntValue(0),
                Value::IntValue(i64::MAX),
            ]),
        ),
        (
            "floats",
            array(vec![
                Value::DoubleValue(0.5),
                Value::DoubleValue(-2.0),
                Value::DoubleValue(1e100),
            ]),
        ),
        ("empty.ints", array(Vec::new())),
    ];
    for (key, value) in &expected {
        assert_eq!(
            attribute(&exported.attributes, key),
            Some(value),
            "attribute {key}"
        );
    }
    assert_eq!(exported.attributes.len(), expected.len());
    assert_eq!(exported.dropped_attributes_count, 0);
}

#[test]
fn setting_an_attribute_again_replaces_its_value() {
    let mut t = Harness::new();
    let span = t.start("replace");
    t.set(span, "key", "first");
    t.set(span, "other", 1i64);
    t.set(span, "key", "second");
    t.end(span);
    let exported = t.flush_one_span();
    assert_eq!(keys(&exported.attributes), ["key", "other"]);
    assert_eq!(string_attribute(&exported.attributes, "key"), "second");
}

#[test]
fn start_attributes_events_and_their_attributes_reach_the_payload() {
    let mut t = Harness::new();
    let options = SpanOptions {
        attributes: vec![KeyValue::new("at.start", 1i64)],
        ..SpanOptions::root()
    };
    let span = t.start_with("evented", &options);
    ok(t.add_event(
        span,
        "cache.miss",
        &[
            KeyValue::new("cache.key", "user:42"),
            KeyValue::new("retry", true),
        ],
        Some(T0 + 2 * MS),
    ));
    t.clock.advance(3 * MS);
    ok(t.add_event(span, "plain", &[], None));
    t.end(span);

    let exported = t.flush_one_span();
    assert_eq!(
        attribute(&exported.attributes, "at.start"),
        Some(&Value::IntValue(1))
    );
    assert_eq!(exported.events.len(), 2);
    let miss = &exported.events[0];
    assert_eq!(miss.name, "cache.miss");
    assert_eq!(miss.time_unix_nano, T0 + 2 * MS);
    assert_eq!(string_attribute(&miss.attributes, "cache.key"), "user:42");
    assert_eq!(
        attribute(&miss.attributes, "retry"),
        Some(&Value::BoolValue(true))
    );
    let plain = &exported.events[1];
    assert_eq!(plain.name, "plain");
    assert_eq!(plain.time_unix_nano, T0 + 3 * MS);
    assert!(plain.attributes.is_empty());
}

#[test]
fn links_given_at_start_and_added_later_reach_the_payload_with_their_attributes() {
    let mut t = Harness::new();
    let first = remote_context(1, 0x1111, "vendor=a");
    let second = remote_context(2, 0x2222, "");
    let options = SpanOptions {
        links: vec![Link {
            context: first.clone(),
            attributes: vec![KeyValue::new("link.reason", "batch")],
        }],
        ..SpanOptions::root()
    };
    let span = t.start_with("linked", &options);
    ok(t.add_link(
        span,
        &Link {
            context: second.clone(),
            attributes: vec![KeyValue::new("link.index", 2i64)],
        },
    ));
    t.end(span);

    let exported = t.flush_one_span();
    assert_eq!(exported.links.len(), 2);
    let (a, b) = (&exported.links[0], &exported.links[1]);
    assert_eq!(a.trace_id, trace_id_bytes(&first.trace_id));
    assert_eq!(a.span_id, span_id_bytes(0x1111));
    assert_eq!(a.trace_state, "vendor=a");
    assert_eq!(string_attribute(&a.attributes, "link.reason"), "batch");
    assert_eq!(b.trace_id, trace_id_bytes(&second.trace_id));
    assert_eq!(b.span_id, span_id_bytes(0x2222));
    assert_eq!(
        attribute(&b.attributes, "link.index"),
        Some(&Value::IntValue(2))
    );
}

#[test]
fn status_unset_ok_and_error_reach_the_payload() {
    let mut t = Harness::new();
    let unset = t.start("unset");
    ok(t.set_status(unset, &Status::Unset));
    let fine = t.start("ok");
    ok(t.set_status(fine, &Status::Ok));
    let failed = t.start("error");
    ok(t.set_status(failed, &Status::Error("db timeout".into())));
    for span in [unset, fine, failed] {
        t.end(span);
    }
    let spans = t.flush_spans();
    let code = |name: &str| span_named(&spans, name).status.clone().unwrap_or_default();
    assert_eq!(code("unset").code, 0);
    assert_eq!(code("ok").code, 1);
    assert_eq!(code("error").code, 2);
    assert_eq!(code("error").message, "db timeout");
}

#[test]
fn ok_status_is_final() {
    let mut t = Harness::new();
    let span = t.start("final");
    ok(t.set_status(span, &Status::Ok));
    ok(t.set_status(span, &Status::Error("too late".into())));
    t.end(span);
    let status = t.flush_one_span().status.unwrap_or_default();
    assert_eq!((status.code, status.message.as_str()), (1, ""));
}

#[test]
fn record_exception_adds_an_exception_event_and_leaves_the_status_alone() {
    let mut t = Harness::new();
    let span = t.start("failing");
    ok(t.record_exception(
        span,
        "TypeError",
        "x is undefined",
        "at f (app.js:1:2)\nat g (app.js:3:4)",
        Some(T0 + MS),
    ));
    ok(t.record_exception(span, "Abort", "stopped", "", None));
    t.end(span);

    let exported = t.flush_one_span();
    assert_eq!(exported.events.len(), 2);
    let full = &exported.events[0];
    assert_eq!(full.name, "exception");
    assert_eq!(full.time_unix_nano, T0 + MS);
    assert_eq!(
        string_attribute(&full.attributes, "exception.type"),
        "TypeError"
    );
    assert_eq!(
        string_attribute(&full.attributes, "exception.message"),
        "x is undefined"
    );
    assert_eq!(
        string_attribute(&full.attributes, "exception.stacktrace"),
        "at f (app.js:1:2)\nat g (app.js:3:4)"
    );
    let short = &exported.events[1];
    assert_eq!(short.name, "exception");
    assert_eq!(
        string_attribute(&short.attributes, "exception.type"),
        "Abort"
    );
    assert_eq!(
        attribute(&short.attributes, "exception.stacktrace"),
        None,
        "an empty stacktrace is left out"
    );
    assert_eq!(
        exported.status.unwrap_or_default().code,
        0,
        "the status stays unset"
    );
}

#[test]
fn each_span_kind_has_its_otlp_integer() {
    let mut t = Harness::new();
    let kinds = [
        (SpanKind::Internal, 1),
        (SpanKind::Server, 2),
        (SpanKind::Client, 3),
        (SpanKind::Producer, 4),
        (SpanKind::Consumer, 5),
    ];
    for (kind, _) in kinds {
        let options = SpanOptions {
            kind,
            ..SpanOptions::root()
        };
        let span = t.start_with(&format!("{kind:?}"), &options);
        t.end(span);
    }
    let spans = t.flush_spans();
    for (kind, otlp) in kinds {
        assert_eq!(
            span_named(&spans, &format!("{kind:?}")).kind,
            otlp,
            "{kind:?}"
        );
    }
}

#[test]
fn update_name_renames_the_span() {
    let mut t = Harness::new();
    let span = t.start("GET");
    ok(t.update_name(span, "GET /users/:id"));
    t.end(span);
    assert_eq!(t.flush_one_span().name, "GET /users/:id");
}

#[test]
fn resource_and_default_scope_reach_the_payload() {
    let mut config = test_config();
    config.resource = vec![
        KeyValue::new("service.name", "checkout"),
        KeyValue::new("service.version", "2.1.0"),
        KeyValue::new("deployment.environment.name", "staging"),
        KeyValue::new("host.cpu.count", 2i64),
    ];
    config.default_scope = InstrumentationScope {
        name: "checkout.http".into(),
        version: "0.9.1".into(),
        attributes: vec![KeyValue::new("library.language", "rust")],
    };
    let mut t = Harness::with_config(&config);
    let span = t.start("s");
    t.end(span);

    let payloads = t.flush();
    let request = decode(&payloads[0]);
    assert_eq!(request.resource_spans.len(), 1);
    let resource = request.resource_spans[0]
        .resource
        .clone()
        .unwrap_or_default();
    assert_eq!(
        string_attribute(&resource.attributes, "service.name"),
        "checkout"
    );
    assert_eq!(
        string_attribute(&resource.attributes, "service.version"),
        "2.1.0"
    );
    assert_eq!(
        string_attribute(&resource.attributes, "deployment.environment.name"),
        "staging"
    );
    assert_eq!(
        attribute(&resource.attributes, "host.cpu.count"),
        Some(&Value::IntValue(2))
    );
    let scope_spans = &request.resource_spans[0].scope_spans;
    assert_eq!(scope_spans.len(), 1);
    let scope = scope_spans[0].scope.clone().unwrap_or_default();
    assert_eq!(scope.name, "checkout.http");
    assert_eq!(scope.version, "0.9.1");
    assert_eq!(
        string_attribute(&scope.attributes, "library.language"),
        "rust"
    );
}

#[test]
fn a_registered_scope_gets_its_own_scope_spans_entry() {
    let mut t = Harness::new();
    let db_scope = InstrumentationScope {
        name: "db.client".into(),
        version: "1.0.0".into(),
        attributes: vec![KeyValue::new("db.system.name", "postgresql")],
    };
    let db = ok(t.register_scope(&db_scope));
    assert_ne!(db, 0, "index 0 is the default scope");

    let default_span = t.start("in-default");
    let options = SpanOptions {
        scope: db,
        ..SpanOptions::child_of(default_span)
    };
    let db_span = t.start_with("in-db", &options);
    t.end(db_span);
    t.end(default_span);

    let payloads = t.flush();
    assert_eq!(payloads.len(), 1);
    let request = decode(&payloads[0]);
    let scope_spans = &request.resource_spans[0].scope_spans;
    assert_eq!(scope_spans.len(), 2, "one scopeSpans entry per scope");
    let by_scope: BTreeMap<String, Vec<&str>> = scope_spans
        .iter()
        .map(|entry| {
            let name = entry.scope.clone().unwrap_or_default().name;
            (
                name,
                entry.spans.iter().map(|span| span.name.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(by_scope["wasm-otlp-tests"], ["in-default"]);
    assert_eq!(by_scope["db.client"], ["in-db"]);
    let db_entry = scope_spans
        .iter()
        .find(|entry| entry.scope.as_ref().is_some_and(|s| s.name == "db.client"))
        .and_then(|entry| entry.scope.clone())
        .unwrap_or_default();
    assert_eq!(db_entry.version, "1.0.0");
    assert_eq!(
        string_attribute(&db_entry.attributes, "db.system.name"),
        "postgresql"
    );
}

#[test]
fn a_span_in_an_unregistered_scope_is_refused() {
    let mut t = Harness::new();
    let options = SpanOptions {
        scope: 99,
        ..SpanOptions::root()
    };
    let refused = crate::common::no_trap(t.start_span("nowhere", &options));
    assert_eq!(refused, Err(wasmtime_host::TracingError::UnknownScope));
}

/// What a test expects of one exported span.
struct Expected {
    span_id: u64,
    parent: u64,
    trace_id: Vec<u8>,
    name: String,
    start: u64,
    end: u64,
    index: i64,
}

#[test]
fn the_payload_decodes_into_exactly_the_spans_that_were_made() {
    let mut t = Harness::new();
    let mut expected = Vec::new();
    for trace in 0..5u64 {
        let root = t.start(&format!("root-{trace}"));
        let root_start = t.clock.now();
        let trace_id = trace_id_bytes(&ok(t.context_of(root)).trace_id);
        for child in 0..4u64 {
            let start = t.clock.advance(17 + child);
            let span = t.start_with(
                &format!("child-{trace}-{child}"),
                &SpanOptions::child_of(root),
            );
            let index = (trace * 10 + child) as i64;
            t.set(span, "index", index);
            let end = t.clock.advance(1_000 * (child + 1));
            t.end(span);
            expected.push(Expected {
                span_id: span,
                parent: root,
                trace_id: trace_id.clone(),
                name: format!("child-{trace}-{child}"),
                start,
                end,
                index,
            });
        }
        t.set(root, "index", -(trace as i64));
        let end = t.clock.advance(MS);
        t.end(root);
        expected.push(Expected {
            span_id: root,
            parent: 0,
            trace_id,
            name: format!("root-{trace}"),
            start: root_start,
            end,
            index: -(trace as i64),
        });
    }

    let payloads = t.flush();
    let spans: Vec<_> = payloads
        .iter()
        .flat_map(|payload| spans_of(&decode(payload)).cloned().collect::<Vec<_>>())
        .collect();
    assert_eq!(spans.len(), expected.len());
    for want in &expected {
        let got = spans
            .iter()
            .find(|span| span.span_id == span_id_bytes(want.span_id))
            .unwrap_or_else(|| panic!("span {} ({:x}) missing", want.name, want.span_id));
        assert_eq!(got.name, want.name);
        assert_eq!(hex(&got.trace_id), hex(&want.trace_id), "{}", want.name);
        let parent = if want.parent == 0 {
            Vec::new()
        } else {
            span_id_bytes(want.parent)
        };
        assert_eq!(got.parent_span_id, parent, "{}", want.name);
        assert_eq!(got.start_time_unix_nano, want.start, "{}", want.name);
        assert_eq!(got.end_time_unix_nano, want.end, "{}", want.name);
        assert_eq!(keys(&got.attributes), ["index"], "{}", want.name);
        assert_eq!(
            attribute(&got.attributes, "index"),
            Some(&Value::IntValue(want.index))
        );
    }
}
