//! The browser component (world `browser`, `dist/wasm_otlp_browser.wasm`) under the same
//! host: it exports everything but the direct `tracer` API, imports the same host
//! services, and on the recorder path behaves exactly like the tracing component (world
//! `tracing`): the same operations give byte-identical payloads, outcomes and stats.

mod common;

use std::collections::BTreeSet;

use common::ops::{Ops, RecordedIds, STATUS_ERROR, STATUS_OK, Start, parse_roots, parse_span_ids};
use common::{
    Harness, T0, batch, browser_runtime, exported_interfaces, no_trap, ok, runtime, test_config,
};
use wasmtime_host::{
    ApplyOutcome, AttributeValue, Config, KeyValue, Payload, Randomness, Sampler, SpanContext,
    SpanOptions, Stats, TraceId, TracingRuntime,
};

/// The host randomness both components are seeded with (the seed of their ID generators).
const SEED: u64 = 0x5eed_f00d_5eed_f00d;

/// The time origin of every batch here: a millisecond-aligned instant after [`T0`].
const ORIGIN: u64 = T0 + 2_000_000_000;

/// Spans exported by [`record_the_scenario`], whatever the batching.
const EXPORTED_SPANS: [&str; 4] = ["GET /checkout", "SELECT", "from-remote", "before garbage"];

fn interface(name: &str) -> String {
    format!("wasm-otlp:tracing/{name}@0.1.0")
}

/// An instance of `runtime`'s component with host randomness from [`SEED`].
fn seeded(runtime: &TracingRuntime) -> Harness {
    Harness::of(runtime, |host| {
        host.with_randomness(Randomness::Seeded(SEED))
    })
}

#[test]
fn the_browser_component_exports_pipeline_recorder_and_propagation_but_no_tracer() {
    let expected: BTreeSet<String> = ["pipeline", "recorder", "propagation"]
        .into_iter()
        .map(interface)
        .collect();
    assert_eq!(exported_interfaces(browser_runtime()), expected);
    assert!(!browser_runtime().has_tracer());

    let mut with_tracer = expected;
    with_tracer.insert(interface("tracer"));
    assert_eq!(exported_interfaces(runtime()), with_tracer);
    assert!(runtime().has_tracer());
}

#[test]
fn the_browser_component_imports_only_wasm_otlp_interfaces_as_the_tracing_one_does() {
    let browser = browser_runtime().component_imports();
    let foreign: Vec<_> = browser
        .iter()
        .filter(|name| !name.starts_with("wasm-otlp:tracing/"))
        .collect();
    assert!(foreign.is_empty(), "imports: {browser:?}");
    let as_set = |names: Vec<String>| names.into_iter().collect::<BTreeSet<_>>();
    assert_eq!(
        as_set(browser),
        as_set(runtime().component_imports()),
        "both worlds import the same interfaces"
    );
    assert_eq!(
        as_set(browser_runtime().imported_functions()),
        as_set(runtime().imported_functions())
    );
}

/// Everything one run of [`record_the_scenario`] observed, to compare between components.
#[derive(Debug, Default, PartialEq)]
struct Observed {
    /// What `reserve-roots` and `reserve-span-ids` returned, call by call.
    reserved: Vec<Vec<u32>>,
    outcomes: Vec<ApplyOutcome>,
    deadlines: Vec<Option<u64>>,
    stats: Vec<Stats>,
    payloads: Vec<Payload>,
}

impl Observed {
    fn reserve_roots(&mut self, t: &mut Harness, count: u32) -> Vec<RecordedIds> {
        let words = no_trap(t.reserve_roots(count));
        self.reserved.push(words.clone());
        parse_roots(&words)
    }

    fn reserve_span_ids(&mut self, t: &mut Harness, count: u32) -> Vec<u64> {
        let words = no_trap(t.reserve_span_ids(count));
        self.reserved.push(words.clone());
        parse_span_ids(&words)
    }

    fn apply(&mut self, t: &mut Harness, ops: &Ops) {
        self.outcomes.push(no_trap(t.apply(&ops.batch())));
    }

    fn read(&mut self, t: &mut Harness) {
        self.deadlines.push(no_trap(t.next_deadline()));
        self.stats.push(no_trap(t.read_stats()));
    }
}

/// Batches of 3 spans (one leaves as soon as it is full, the rest on `tick`), strings cut
/// at 24 bytes, and a resource with more than the service name.
fn scenario_config() -> Config {
    let mut config = Config {
        batch: batch(3, 16, 5_000, 64),
        ..test_config()
    };
    config.limits.max_value_length = 24;
    config
        .resource
        .push(KeyValue::new("deployment.environment", "test"));
    config
}

/// Records the same spans through the recorder on an instance of `runtime`'s component,
/// with a seeded host and a manual clock, and returns everything the component said.
fn record_the_scenario(runtime: &TracingRuntime) -> Observed {
    let mut t = seeded(runtime);
    let mut seen = Observed::default();

    // Sampling decisions of new traces come from the IDs, hence from the seed.
    ok(t.configure(&Config {
        sampler: Sampler::TraceIdRatio(0.5),
        ..test_config()
    }));
    seen.reserve_roots(&mut t, 32);
    ok(t.configure(&scenario_config()));
    let fetch = ok(t.register_scope(&common::scope("fetch", "2.1.0")));
    seen.read(&mut t);

    let roots = seen.reserve_roots(&mut t, 4);
    let span_ids = seen.reserve_span_ids(&mut t, 3);
    let (server, linked, before, after) = (roots[0], roots[1], roots[2], roots[3]);
    let client = server.child(span_ids[0]);

    // A server span with an attribute of every type and a link; a client child with an
    // event and an error status.
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start {
        kind: 1,
        trace_state: "shop=1",
        ..Start::root(server, "GET", 0.25)
    });
    for attribute in [
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.response.status_code", 201i64),
        KeyValue::new("cached", true),
        KeyValue::new("ratio", -0.375f64),
        KeyValue::new("not.finite", f64::NAN),
        KeyValue::new("url.full", "https://shop.example/checkout?cart=42"),
        KeyValue::new(
            "tags",
            AttributeValue::StringArray(vec!["ü".into(), "😀".into(), String::new()]),
        ),
        KeyValue::new("flags", AttributeValue::BoolArray(vec![false, true])),
        KeyValue::new("ints", AttributeValue::S64Array(vec![i64::MIN, 0, 7])),
        KeyValue::new("floats", AttributeValue::F64Array(vec![0.1, 1e300])),
    ] {
        ops.attr(server.span_id, &attribute);
    }
    ops.start(&Start {
        kind: 2,
        ..Start::child(client, server.span_id, "SELECT", 1.5)
    })
    .event(
        client.span_id,
        "retry",
        2.75,
        &[
            KeyValue::new("attempt", 2i64),
            KeyValue::new("reason", "deadlock"),
        ],
    )
    .status(client.span_id, STATUS_ERROR, "lock wait timeout exceeded")
    .end(client.span_id, 4.0)
    .link(
        server.span_id,
        linked,
        "other=2",
        &[KeyValue::new("link.kind", "fan-in")],
    )
    .status(server.span_id, STATUS_OK, "")
    .name(server.span_id, "GET /checkout")
    .end(server.span_id, 9.5);
    seen.apply(&mut t, &ops);
    t.clock.advance_ms(10);
    seen.read(&mut t);

    // A child of a remote parent in a registered scope, then a span cut short by garbage.
    let remote = no_trap(t.extract(
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        Some("congo=t61rcWkgMzE"),
    ))
    .expect("a valid traceparent");
    let from_remote = RecordedIds {
        trace_id: (u128::from(remote.trace_id.hi) << 64) | u128::from(remote.trace_id.lo),
        span_id: span_ids[1],
        flags: u32::from(remote.trace_flags),
    };
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start {
        parent_is_remote: true,
        scope: fetch,
        trace_state: &remote.trace_state,
        ..Start::child(from_remote, remote.span_id, "from-remote", 12.0)
    })
    .event(from_remote.span_id, "response", 13.0, &[])
    .end(from_remote.span_id, 14.0)
    .start(&Start::root(before, "before garbage", 15.0))
    .end(before.span_id, 16.0)
    .raw_words(&[99, 1, 2])
    .start(&Start::root(after, "after garbage", 17.0))
    .end(after.span_id, 18.0);
    seen.apply(&mut t, &ops);
    seen.read(&mut t);

    // Operations refused one by one: unknown spans, an ended span, an unknown scope.
    let mut ops = Ops::new(ORIGIN);
    ops.attr(0xdead, &KeyValue::new("lost", true))
        .end(server.span_id, 20.0)
        .start(&Start {
            scope: 99,
            ..Start::child(server.child(span_ids[2]), server.span_id, "no scope", 21.0)
        });
    seen.apply(&mut t, &ops);

    // The partial batch leaves on `tick` once its delay has passed.
    t.clock.advance_ms(8_000);
    no_trap(t.tick());
    seen.read(&mut t);
    no_trap(t.force_flush());
    no_trap(t.shutdown());
    seen.read(&mut t);
    seen.payloads = t.payloads.drain();
    seen
}

#[test]
fn the_same_op_batches_give_byte_identical_payloads_outcomes_and_stats() {
    let tracing = record_the_scenario(runtime());
    let browser = record_the_scenario(browser_runtime());

    // The scenario says something: every kind of outcome, cut strings, several payloads.
    assert!(tracing.outcomes.iter().any(|o| o.malformed.is_some()));
    assert!(tracing.outcomes.iter().any(|o| o.refused > 0));
    let last = tracing.stats.last().expect("stats were read");
    assert!(last.truncated_values > 0, "{last:?}");
    assert!(
        tracing.payloads.len() >= 2,
        "{} payloads",
        tracing.payloads.len()
    );
    let exported: BTreeSet<String> = common::spans_of_payloads(&tracing.payloads)
        .into_iter()
        .map(|span| span.name)
        .collect();
    assert_eq!(exported, EXPORTED_SPANS.map(String::from).into());

    assert_eq!(browser.reserved, tracing.reserved, "reserved IDs");
    assert_eq!(browser.outcomes, tracing.outcomes, "apply outcomes");
    assert_eq!(browser.deadlines, tracing.deadlines, "next deadlines");
    assert_eq!(browser.stats, tracing.stats, "stats");
    assert_eq!(browser.payloads.len(), tracing.payloads.len(), "payloads");
    for (i, (b, t)) in browser.payloads.iter().zip(&tracing.payloads).enumerate() {
        assert_eq!(b.span_count, t.span_count, "span count of payload {i}");
        assert_eq!(b.json(), t.json(), "body of payload {i}");
    }
    assert_eq!(browser, tracing);
}

#[test]
fn a_tracer_call_on_the_browser_component_is_an_error_not_a_trap_and_changes_nothing() {
    let mut t = Harness::of(browser_runtime(), |host| host);
    ok(t.configure(&test_config()));
    assert!(!t.has_tracer());
    let errors = [
        t.start_span("direct", &SpanOptions::root()).err(),
        t.context_of(1).err(),
        t.set_attribute(1, "key", &"value".into()).err(),
        t.end_span(1, None).err(),
    ];
    for error in errors {
        let error = error.expect("a tracer call without a tracer export is an error");
        assert!(
            error.downcast_ref::<wasmtime::Trap>().is_none(),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("this component (world browser) has no tracer export"),
            "{message}"
        );
    }

    // The instance goes on recording through the recorder, and nothing else was recorded.
    let ids = parse_roots(&no_trap(t.reserve_roots(1)))[0];
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start::root(ids, "recorded", 0.0))
        .end(ids.span_id, 1.0);
    assert_eq!(no_trap(t.apply(&ops.batch())).applied, 2);
    assert_eq!(common::names(&t.flush_spans()), ["recorded"]);
    let stats = no_trap(t.read_stats());
    assert_eq!((stats.spans_started, stats.rejected_operations), (1, 0));
}

#[test]
fn propagation_gives_the_same_answers_on_both_components() {
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";
    let headers: Vec<(String, Option<&str>)> = vec![
        (format!("00-{TRACE}-{SPAN}-01"), None),
        (
            format!("00-{TRACE}-{SPAN}-00"),
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        ),
        (
            format!("00-{TRACE}-{SPAN}-01"),
            Some("not a valid tracestate"),
        ),
        (format!("01-{TRACE}-{SPAN}-01-future"), None),
        (format!("00-{}-{SPAN}-01", "0".repeat(32)), None),
        (format!("00-{TRACE}-{}-01", "0".repeat(16)), None),
        (format!("00-{}-{SPAN}-01", TRACE.to_uppercase()), None),
        (format!("ff-{TRACE}-{SPAN}-01"), None),
        (format!("00-{TRACE}-{SPAN}"), None),
        (String::new(), None),
    ];
    let mut tracing = Harness::new();
    let mut browser = Harness::of(browser_runtime(), |host| host);
    let mut extracted = Vec::new();
    for (traceparent, tracestate) in &headers {
        let expected = no_trap(tracing.extract(traceparent, *tracestate));
        let actual = no_trap(browser.extract(traceparent, *tracestate));
        assert_eq!(actual, expected, "extract({traceparent:?}, {tracestate:?})");
        extracted.push(expected);
    }
    assert!(extracted.iter().filter(|result| result.is_ok()).count() >= 3);
    assert!(extracted.iter().filter(|result| result.is_err()).count() >= 5);

    let contexts: Vec<SpanContext> = extracted.into_iter().flatten().collect();
    let zero = SpanContext {
        trace_id: TraceId { hi: 0, lo: 0 },
        span_id: 0,
        ..contexts[0].clone()
    };
    for context in contexts.iter().chain([&zero]) {
        let expected = no_trap(tracing.inject(context));
        assert_eq!(no_trap(browser.inject(context)), expected, "{context:?}");
    }
}
