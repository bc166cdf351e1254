//! Span limits: what is cut is counted (`dropped*Count`, `stats.truncated-values`),
//! strings are truncated at a character boundary, and open spans are capped.

use crate::common::{Harness, attribute, batch, keys, no_trap, ok, string_attribute, test_config};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use wasmtime_host::{
    AttributeValue, Config, KeyValue, Link, SpanContext, SpanLimits, SpanOptions, TraceId,
    TracingError,
};

/// 4 attributes, 8-byte values, 2 events, 2 links, 2 attributes per event or link.
fn small_limits() -> Config {
    Config {
        limits: SpanLimits {
            max_attributes: 4,
            max_value_length: 8,
            max_events: 2,
            max_links: 2,
            max_attributes_per_item: 2,
        },
        ..test_config()
    }
}

fn context(n: u64) -> SpanContext {
    SpanContext {
        trace_id: TraceId { hi: 7, lo: n },
        span_id: n,
        trace_flags: 1,
        trace_state: String::new(),
        is_remote: true,
    }
}

fn numbered(count: usize) -> Vec<KeyValue> {
    (0..count)
        .map(|i| KeyValue::new(format!("k{i}"), i as i64))
        .collect()
}

#[test]
fn attributes_beyond_the_limit_are_dropped_and_counted() {
    let mut t = Harness::with_config(&small_limits());
    let span = t.start("s");
    ok(t.set_attributes(span, &numbered(6)));
    // Replacing a kept attribute is not a further attribute.
    t.set(span, "k1", 100i64);
    t.end(span);
    let exported = t.flush_one_span();
    assert_eq!(keys(&exported.attributes), ["k0", "k1", "k2", "k3"]);
    assert_eq!(
        attribute(&exported.attributes, "k1"),
        Some(&Value::IntValue(100))
    );
    assert_eq!(exported.dropped_attributes_count, 2);
}

#[test]
fn attributes_given_at_start_count_against_the_limit() {
    let mut t = Harness::with_config(&small_limits());
    let options = SpanOptions {
        attributes: numbered(3),
        ..SpanOptions::root()
    };
    let span = t.start_with("s", &options);
    t.set(span, "late.1", true);
    t.set(span, "late.2", true);
    t.end(span);
    let exported = t.flush_one_span();
    assert_eq!(keys(&exported.attributes), ["k0", "k1", "k2", "late.1"]);
    assert_eq!(exported.dropped_attributes_count, 1);
}

#[test]
fn long_strings_are_truncated_to_max_value_length_bytes_and_counted() {
    let mut t = Harness::with_config(&small_limits());
    let before = no_trap(t.read_stats()).truncated_values;
    let span = t.start("s");
    t.set(span, "ascii", "abcdefghijkl");
    t.set(span, "exact", "12345678");
    t.end(span);
    let exported = t.flush_one_span();
    assert_eq!(string_attribute(&exported.attributes, "ascii"), "abcdefgh");
    assert_eq!(string_attribute(&exported.attributes, "exact"), "12345678");
    assert_eq!(no_trap(t.read_stats()).truncated_values - before, 1);
}

#[test]
fn truncation_cuts_multibyte_text_at_a_character_boundary() {
    let mut t = Harness::with_config(&small_limits());
    let span = t.start("s");
    t.set(span, "latin", "aéééé"); // 9 bytes: the 4th é would straddle byte 8
    t.set(span, "emoji", "😀😀😀"); // 12 bytes
    t.set(span, "cjk", "日本語です"); // 15 bytes, 3 per character
    t.end(span);
    let exported = t.flush_one_span();
    assert_eq!(string_attribute(&exported.attributes, "latin"), "aééé");
    assert_eq!(string_attribute(&exported.attributes, "emoji"), "😀😀");
    assert_eq!(string_attribute(&exported.attributes, "cjk"), "日本");
}

#[test]
fn span_names_and_event_names_are_truncated_too() {
    let mut t = Harness::with_config(&small_limits());
    let before = no_trap(t.read_stats()).truncated_values;
    let span = t.start("a-very-long-span-name");
    ok(t.add_event(span, "a-long-event", &[], None));
    t.end(span);
    let exported = t.flush_one_span();
    assert_eq!(exported.name, "a-very-l");
    assert_eq!(exported.events[0].name, "a-long-e");
    assert_eq!(no_trap(t.read_stats()).truncated_values - before, 2);
}

#[test]
fn each_string_of_a_string_array_is_truncated() {
    let mut t = Harness::with_config(&small_limits());
    let span = t.start("s");
    let value = AttributeValue::StringArray(vec!["short".into(), "much-too-long".into()]);
    ok(t.set_attribute(span, "list", &value));
    t.end(span);
    let exported = t.flush_one_span();
    let Some(Value::ArrayValue(array)) = attribute(&exported.attributes, "list") else {
        panic!("list is not an array: {:?}", exported.attributes);
    };
    let texts: Vec<_> = array
        .values
        .iter()
        .map(|value| value.value.clone())
        .collect();
    assert_eq!(
        texts,
        [
            Some(Value::StringValue("short".into())),
            Some(Value::StringValue("much-too".into()))
        ]
    );
}

#[test]
fn events_beyond_the_limit_are_dropped_and_counted_with_their_attributes() {
    let mut t = Harness::with_config(&small_limits());
    let span = t.start("s");
    ok(t.add_event(span, "e0", &numbered(5), None));
    for name in ["e1", "e2", "e3", "e4"] {
        ok(t.add_event(span, name, &[], None));
    }
    t.end(span);
    let exported = t.flush_one_span();
    let names: Vec<_> = exported.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["e0", "e1"]);
    assert_eq!(exported.dropped_events_count, 3);
    assert_eq!(keys(&exported.events[0].attributes), ["k0", "k1"]);
    assert_eq!(exported.events[0].dropped_attributes_count, 3);
}

#[test]
fn links_beyond_the_limit_are_dropped_and_counted_with_their_attributes() {
    let mut t = Harness::with_config(&small_limits());
    let options = SpanOptions {
        links: vec![
            Link {
                context: context(1),
                attributes: numbered(3),
            },
            Link {
                context: context(2),
                attributes: Vec::new(),
            },
            Link {
                context: context(3),
                attributes: Vec::new(),
            },
        ],
        ..SpanOptions::root()
    };
    let span = t.start_with("s", &options);
    ok(t.add_link(
        span,
        &Link {
            context: context(4),
            attributes: Vec::new(),
        },
    ));
    t.end(span);
    let exported = t.flush_one_span();
    assert_eq!(exported.links.len(), 2);
    assert_eq!(exported.dropped_links_count, 2);
    assert_eq!(exported.links[0].span_id, 1u64.to_be_bytes());
    assert_eq!(exported.links[1].span_id, 2u64.to_be_bytes());
    assert_eq!(keys(&exported.links[0].attributes), ["k0", "k1"]);
    assert_eq!(exported.links[0].dropped_attributes_count, 1);
}

#[test]
fn non_finite_numbers_and_empty_keys_are_dropped_and_counted() {
    let mut t = Harness::new();
    let span = t.start("s");
    for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        t.set(span, "number", value);
    }
    t.set(span, "", "no key");
    t.set(span, "kept", 1.5f64);
    t.end(span);
    let exported = t.flush_one_span();
    assert_eq!(keys(&exported.attributes), ["kept"]);
    assert_eq!(exported.dropped_attributes_count, 4);
}

#[test]
fn starts_beyond_max_open_spans_are_refused_and_counted() {
    let mut t = Harness::with_config(&Config {
        batch: batch(512, 4096, 5_000, 3),
        ..test_config()
    });
    let open: Vec<_> = (0..3).map(|_| t.start("open")).collect();
    let refused = no_trap(t.start_span("one too many", &SpanOptions::root()));
    assert_eq!(refused, Err(TracingError::TooManyOpenSpans));
    assert_eq!(no_trap(t.read_stats()).spans_refused_open_limit, 1);
    t.end(open[0]);
    let again = t.start("room again");
    t.end(again);
    assert_eq!(t.flush_spans().len(), 2);
}

#[test]
fn invalid_settings_are_refused_with_a_reason_and_nothing_changes() {
    let mut t = Harness::with_config(&small_limits());
    let invalid = [
        Config {
            batch: batch(0, 4096, 5_000, 4096),
            ..small_limits()
        },
        Config {
            batch: batch(512, 0, 5_000, 4096),
            ..small_limits()
        },
    ];
    for config in &invalid {
        match no_trap(t.configure(config)) {
            Err(TracingError::InvalidArgument(why)) => assert!(!why.is_empty()),
            other => panic!("{:?} gave {other:?}", config.batch),
        }
    }
    let span = t.start("s");
    t.set(span, "value", "abcdefghijkl");
    t.end(span);
    let exported = t.flush_one_span();
    assert_eq!(
        string_attribute(&exported.attributes, "value"),
        "abcdefgh",
        "the earlier limits still hold"
    );
}
