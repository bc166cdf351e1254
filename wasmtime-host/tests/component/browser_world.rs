//! The browser component (world `browser`, `dist/wasm_otlp_browser.wasm`) under the same
//! host: it exports only `pipeline` and `recorder`, imports the same host services, and
//! on the recorder path behaves exactly like the tracing component (world `tracing`):
//! the same operations, settings included, give byte-identical payloads, outcomes and
//! stats; and settings sent as operations act as `setup`'s calls do.

use std::collections::BTreeSet;

use crate::common::ops::{Ops, RecordedIds, Start, parse_roots, parse_span_ids};
use crate::common::{
    Harness, T0, batch, browser_runtime, exported_interfaces, no_trap, ok, runtime, test_config,
};
use wasm_otlp_component::recorder::ops::status;
use wasmtime_host::{
    ApplyOutcome, AttributeValue, Config, InstrumentationScope, KeyValue, Payload, Randomness,
    Sampler, SpanContext, SpanOptions, Stats, TraceId, TracingRuntime,
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
fn the_browser_component_exports_only_pipeline_and_recorder() {
    let expected: BTreeSet<String> = ["pipeline", "recorder"]
        .into_iter()
        .map(interface)
        .collect();
    assert_eq!(exported_interfaces(browser_runtime()), expected);
    assert!(!browser_runtime().has_tracer());

    let mut all = expected;
    all.extend(
        ["setup", "propagation", "tracer"]
            .into_iter()
            .map(interface),
    );
    all.extend(crate::imports::WASI_OTEL_EXPORTS.map(String::from));
    assert_eq!(exported_interfaces(runtime()), all);
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
    // World `tracing` adds only the `wasi:*` interfaces its `wasi:otel` exports take types from.
    let mut tracing = as_set(runtime().component_imports());
    for types_only in crate::imports::WASI_TYPE_IMPORTS {
        assert!(
            tracing.remove(types_only),
            "world tracing imports {types_only}"
        );
    }
    assert_eq!(
        as_set(browser),
        tracing,
        "both worlds import the same host services"
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

/// How [`record_the_scenario`] hands the component its settings.
#[derive(Clone, Copy)]
enum Settings {
    /// `setup.configure` and `setup.register-scope` (world `tracing` only).
    Calls,
    /// The recorder's `CONFIGURE` and `SCOPE` operations (as the browser SDK does).
    Ops,
}

impl Settings {
    fn configure(self, t: &mut Harness, seen: &mut Observed, config: &Config) {
        match self {
            Settings::Calls => ok(t.configure(config)),
            Settings::Ops => seen.apply(t, Ops::new(ORIGIN).configure(config)),
        }
    }

    fn register_scope(
        self,
        t: &mut Harness,
        seen: &mut Observed,
        scope: &InstrumentationScope,
    ) -> u32 {
        match self {
            Settings::Calls => ok(t.register_scope(scope)),
            Settings::Ops => {
                seen.apply(t, Ops::new(ORIGIN).scope(scope));
                // Scopes are numbered in registration order; the default one is 0.
                1
            }
        }
    }
}

/// The remote parent of the scenario's `from-remote` span, as W3C headers would carry it.
const REMOTE_TRACE: u128 = 0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c;
const REMOTE_SPAN: u64 = 0xb7ad_6b71_6920_3331;
const REMOTE_TRACE_STATE: &str = "congo=t61rcWkgMzE";

/// Records the same spans through the recorder on an instance of `runtime`'s component,
/// with a seeded host and a manual clock, and returns everything the component said.
fn record_the_scenario(runtime: &TracingRuntime, settings: Settings) -> Observed {
    let mut t = seeded(runtime);
    let mut seen = Observed::default();

    // Sampling decisions of new traces come from the IDs, hence from the seed.
    let ratio = Config {
        sampler: Sampler::TraceIdRatio(0.5),
        ..test_config()
    };
    settings.configure(&mut t, &mut seen, &ratio);
    seen.reserve_roots(&mut t, 32);
    settings.configure(&mut t, &mut seen, &scenario_config());
    let fetch = settings.register_scope(&mut t, &mut seen, &crate::common::scope("fetch", "2.1.0"));
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
    .status(client.span_id, status::ERROR, "lock wait timeout exceeded")
    .end(client.span_id, 4.0)
    .link(
        server.span_id,
        linked,
        "other=2",
        &[KeyValue::new("link.kind", "fan-in")],
    )
    .status(server.span_id, status::OK, "")
    .name(server.span_id, "GET /checkout")
    .end(server.span_id, 9.5);
    seen.apply(&mut t, &ops);
    t.clock.advance_ms(10);
    seen.read(&mut t);

    // A child of a remote parent in a registered scope, then a span cut short by garbage.
    let from_remote = RecordedIds {
        trace_id: REMOTE_TRACE,
        span_id: span_ids[1],
        flags: 1,
    };
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start {
        parent_is_remote: true,
        scope: fetch,
        trace_state: REMOTE_TRACE_STATE,
        ..Start::child(from_remote, REMOTE_SPAN, "from-remote", 12.0)
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
    let tracing = record_the_scenario(runtime(), Settings::Ops);
    let browser = record_the_scenario(browser_runtime(), Settings::Ops);

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
    let exported: BTreeSet<String> = crate::common::spans_of_payloads(&tracing.payloads)
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
        assert_eq!(b.count, t.count, "span count of payload {i}");
        assert_eq!(b.json(), t.json(), "body of payload {i}");
    }
    assert_eq!(browser, tracing);
}

#[test]
fn settings_sent_as_operations_act_as_setup_calls_do() {
    let by_calls = record_the_scenario(runtime(), Settings::Calls);
    let by_ops = record_the_scenario(runtime(), Settings::Ops);
    // The operations' outcomes come first in `by_ops`: three settings, each applied.
    let settings_outcomes = &by_ops.outcomes[..3];
    for outcome in settings_outcomes {
        assert_eq!(
            (outcome.applied, outcome.refused, &outcome.malformed),
            (1, 0, &None)
        );
    }
    assert_eq!(by_ops.outcomes[3..], by_calls.outcomes);
    assert_eq!(by_ops.reserved, by_calls.reserved, "reserved IDs");
    assert_eq!(by_ops.stats, by_calls.stats, "stats");
    assert_eq!(by_ops.payloads, by_calls.payloads, "payloads");
}

#[test]
fn invalid_settings_sent_as_operations_are_refused_with_the_reason_and_change_nothing() {
    let mut t = Harness::of(browser_runtime(), |host| host);
    let mut ops = Ops::new(ORIGIN);
    ops.configure(&test_config()).configure(&Config {
        batch: batch(64, 8, 5_000, 64),
        ..test_config()
    });
    let outcome = no_trap(t.apply(&ops.batch()));
    assert_eq!((outcome.applied, outcome.refused), (1, 1));
    let reason = outcome.first_refusal.expect("a reason");
    assert!(reason.contains("max-queue-size"), "{reason}");

    // The first configuration stands: a span is exported under its resource.
    let ids = parse_roots(&no_trap(t.reserve_roots(1)))[0];
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start::root(ids, "after", 0.0))
        .end(ids.span_id, 1.0);
    assert_eq!(no_trap(t.apply(&ops.batch())).applied, 2);
    let payloads = t.flush();
    let request = crate::common::decode(&payloads[0]);
    let resource = request.resource_spans[0]
        .resource
        .as_ref()
        .expect("a resource");
    assert_eq!(
        crate::common::string_attribute(&resource.attributes, "service.name"),
        "wasm-otlp-tests"
    );
}

#[test]
fn a_call_to_world_tracing_only_interfaces_on_the_browser_component_is_an_error_not_a_trap() {
    let mut t = Harness::of(browser_runtime(), |host| host);
    seen_apply_ok(&mut t, Ops::new(ORIGIN).configure(&test_config()));
    assert!(!t.has_tracer());
    let errors = [
        ("setup", t.configure(&test_config()).err()),
        (
            "setup",
            t.register_scope(&crate::common::scope("s", "1")).err(),
        ),
        ("propagation", t.inject(&remote_context()).err()),
        (
            "propagation",
            t.extract(
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                None,
            )
            .err(),
        ),
        ("tracer", t.start_span("direct", &SpanOptions::root()).err()),
        ("tracer", t.context_of(1).err()),
        ("tracer", t.set_attribute(1, "key", &"value".into()).err()),
        ("tracer", t.end_span(1, None).err()),
    ];
    for (interface, error) in errors {
        let error = error.expect("a call without its export is an error");
        assert!(
            error.downcast_ref::<wasmtime::Trap>().is_none(),
            "{error:?}"
        );
        let message = error.to_string();
        let expected = format!("this component (world browser) has no {interface} export");
        assert!(message.contains(&expected), "{message}");
    }

    // The instance goes on recording through the recorder, and nothing else was recorded.
    let ids = parse_roots(&no_trap(t.reserve_roots(1)))[0];
    let mut ops = Ops::new(ORIGIN);
    ops.start(&Start::root(ids, "recorded", 0.0))
        .end(ids.span_id, 1.0);
    assert_eq!(no_trap(t.apply(&ops.batch())).applied, 2);
    assert_eq!(crate::common::names(&t.flush_spans()), ["recorded"]);
    let stats = no_trap(t.read_stats());
    assert_eq!((stats.spans_started, stats.rejected_operations), (1, 0));
}

/// Applies `ops`, which must apply without refusal.
fn seen_apply_ok(t: &mut Harness, ops: &Ops) {
    let outcome = no_trap(t.apply(&ops.batch()));
    assert_eq!(
        (outcome.refused, &outcome.malformed),
        (0, &None),
        "{outcome:?}"
    );
}

fn remote_context() -> SpanContext {
    SpanContext {
        trace_id: TraceId {
            hi: (REMOTE_TRACE >> 64) as u64,
            lo: REMOTE_TRACE as u64,
        },
        span_id: REMOTE_SPAN,
        trace_flags: 1,
        trace_state: REMOTE_TRACE_STATE.into(),
        is_remote: true,
    }
}
