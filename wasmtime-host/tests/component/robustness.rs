//! Bad input never traps: random call sequences (unknown handles, 1 MB strings,
//! non-finite numbers, empty keys, random recorder batches, invalid configurations, a
//! clock that jumps) against one long-lived instance, which must still work afterwards
//! and only ever send valid OTLP/JSON.

use std::cell::RefCell;
use std::fmt;

use crate::common::ops::{Ops, RecordedIds, Start};
use crate::common::{Harness, T0, batch, spans_of, test_config};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use wasmtime_host::{
    AttributeValue, Config, InstrumentationScope, KeyValue, Link, OpBatch, Parent, Payload,
    Sampler, SpanContext, SpanKind, SpanLimits, SpanOptions, Status, TraceId, TracingInstance,
};

/// Sequences per run: the whole test stays within ~30 s in a debug build.
const CASES: u32 = 256;
/// Calls per sequence.
const MAX_CALLS: usize = 40;
/// The size of the huge strings.
const HUGE: usize = 1 << 20;

/// A string argument; huge ones print as their length.
#[derive(Clone)]
struct Text(String);

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.len() > 64 {
            write!(f, "Text({} bytes of {:?}…)", self.0.len(), &self.0[..1])
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

fn text() -> impl Strategy<Value = Text> {
    prop_oneof![
        8 => "\\PC{0,24}",
        2 => Just(String::new()),
        2 => any::<String>(),
        1 => Just("é".repeat(HUGE / 2)),
        1 => Just("x".repeat(HUGE)),
    ]
    .prop_map(Text)
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
        1 => Just(f64::MAX),
        1 => Just(f64::MIN_POSITIVE),
    ]
}

fn value() -> impl Strategy<Value = AttributeValue> {
    prop_oneof![
        text().prop_map(|t| AttributeValue::String(t.0)),
        any::<bool>().prop_map(AttributeValue::Bool),
        any::<i64>().prop_map(AttributeValue::S64),
        number().prop_map(AttributeValue::F64),
        vec(text(), 0..4)
            .prop_map(|v| AttributeValue::StringArray(v.into_iter().map(|t| t.0).collect())),
        vec(any::<bool>(), 0..8).prop_map(AttributeValue::BoolArray),
        vec(any::<i64>(), 0..8).prop_map(AttributeValue::S64Array),
        vec(number(), 0..8).prop_map(AttributeValue::F64Array),
    ]
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    vec(
        (text(), value()).prop_map(|(key, value)| KeyValue { key: key.0, value }),
        0..5,
    )
}

fn context() -> impl Strategy<Value = SpanContext> {
    (
        prop_oneof![Just(0u64), any::<u64>()],
        any::<u64>(),
        prop_oneof![Just(0u64), any::<u64>()],
        any::<u8>(),
        text(),
        any::<bool>(),
    )
        .prop_map(
            |(hi, lo, span_id, trace_flags, trace_state, is_remote)| SpanContext {
                trace_id: TraceId { hi, lo },
                span_id,
                trace_flags,
                trace_state: trace_state.0,
                is_remote,
            },
        )
}

/// Which span a call names: one this sequence started, or an arbitrary number.
#[derive(Clone, Debug)]
enum Target {
    Started(usize),
    Arbitrary(u64),
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        4 => any::<usize>().prop_map(Target::Started),
        1 => prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()].prop_map(Target::Arbitrary),
    ]
}

fn time() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(0)),
        1 => Just(Some(u64::MAX)),
        1 => (0u64..10_000_000_000).prop_map(|offset| Some(T0 + offset)),
    ]
}

fn small_or_wild() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        1u32..64,
        64u32..5_000,
        Just(u32::MAX),
        any::<u32>(),
    ]
}

fn sampler() -> impl Strategy<Value = Sampler> {
    prop_oneof![
        Just(Sampler::AlwaysOn),
        Just(Sampler::AlwaysOff),
        number().prop_map(Sampler::TraceIdRatio),
        number().prop_map(Sampler::ParentBasedRatio),
        (0.0..=1.0f64).prop_map(Sampler::TraceIdRatio),
        (0.0..=1.0f64).prop_map(Sampler::ParentBasedRatio),
    ]
}

fn scope() -> impl Strategy<Value = InstrumentationScope> {
    (text(), text(), attributes()).prop_map(|(name, version, attributes)| InstrumentationScope {
        name: name.0,
        version: version.0,
        attributes,
    })
}

fn config() -> impl Strategy<Value = Config> {
    (
        attributes(),
        scope(),
        sampler(),
        [
            small_or_wild(),
            small_or_wild(),
            small_or_wild(),
            small_or_wild(),
            small_or_wild(),
        ],
        [
            small_or_wild(),
            small_or_wild(),
            small_or_wild(),
            small_or_wild(),
        ],
    )
        .prop_map(
            |(resource, default_scope, sampler, limits, settings)| Config {
                resource,
                default_scope,
                sampler,
                limits: SpanLimits {
                    max_attributes: limits[0],
                    max_value_length: limits[1],
                    max_events: limits[2],
                    max_links: limits[3],
                    max_attributes_per_item: limits[4],
                },
                batch: batch(settings[0], settings[1], settings[2], settings[3]),
            },
        )
}

/// One recorder operation, on a small pool of span IDs so that operations meet.
#[derive(Clone, Debug)]
enum RecordedOp {
    Start {
        span: u64,
        trace: u128,
        parent: u64,
        flags: u32,
        kind: u32,
        scope: u32,
        name: Text,
        start_ms: f64,
    },
    Attr(u64, KeyValue),
    Event(u64, Text, f64, Vec<KeyValue>),
    Link(u64, u128, u64, Vec<KeyValue>),
    Status(u64, u32, Text),
    End(u64, f64),
    Name(u64, Text),
}

fn recorded_op() -> impl Strategy<Value = RecordedOp> {
    let span = prop_oneof![4 => 1u64..4, 1 => any::<u64>()];
    prop_oneof![
        (
            span.clone(),
            any::<u128>(),
            0u64..4,
            0u32..0x200,
            0u32..7,
            0u32..3,
            text(),
            number()
        )
            .prop_map(
                |(span, trace, parent, flags, kind, scope, name, start_ms)| {
                    RecordedOp::Start {
                        span,
                        trace,
                        parent,
                        flags,
                        kind,
                        scope,
                        name,
                        start_ms,
                    }
                }
            ),
        (span.clone(), (text(), value())).prop_map(|(span, (key, value))| RecordedOp::Attr(
            span,
            KeyValue { key: key.0, value }
        )),
        (span.clone(), text(), number(), attributes())
            .prop_map(|(span, name, time, attrs)| RecordedOp::Event(span, name, time, attrs)),
        (span.clone(), any::<u128>(), any::<u64>(), attributes())
            .prop_map(|(span, trace, linked, attrs)| RecordedOp::Link(span, trace, linked, attrs)),
        (span.clone(), 0u32..4, text())
            .prop_map(|(span, code, message)| RecordedOp::Status(span, code, message)),
        (span.clone(), number()).prop_map(|(span, end)| RecordedOp::End(span, end)),
        (span, text()).prop_map(|(span, name)| RecordedOp::Name(span, name)),
    ]
}

fn encode(ops: &[RecordedOp], origin: u64) -> OpBatch {
    let mut builder = Ops::new(origin);
    for op in ops {
        match op {
            RecordedOp::Start {
                span,
                trace,
                parent,
                flags,
                kind,
                scope,
                name,
                start_ms,
            } => {
                builder.start(&Start {
                    ids: RecordedIds {
                        trace_id: *trace,
                        span_id: *span,
                        flags: *flags,
                    },
                    parent: *parent,
                    parent_is_remote: flags & 0x100 != 0,
                    kind: *kind,
                    scope: *scope,
                    name: &name.0,
                    trace_state: "",
                    start_ms: *start_ms,
                });
            }
            RecordedOp::Attr(span, attribute) => {
                builder.attr(*span, attribute);
            }
            RecordedOp::Event(span, name, time, attrs) => {
                builder.event(*span, &name.0, *time, attrs);
            }
            RecordedOp::Link(span, trace, linked, attrs) => {
                let linked = RecordedIds {
                    trace_id: *trace,
                    span_id: *linked,
                    flags: 1,
                };
                builder.link(*span, linked, "", attrs);
            }
            RecordedOp::Status(span, code, message) => {
                builder.status(*span, *code, &message.0);
            }
            RecordedOp::End(span, end) => {
                builder.end(*span, *end);
            }
            RecordedOp::Name(span, name) => {
                builder.name(*span, &name.0);
            }
        }
    }
    builder.batch()
}

/// A recorder batch: well-formed operations, optionally corrupted, or random words.
#[derive(Clone, Debug)]
enum Batch {
    Ops {
        ops: Vec<RecordedOp>,
        origin: u64,
        corrupt: Option<(usize, u32)>,
        truncate_words: Option<usize>,
        drop_numbers: Option<usize>,
    },
    Random {
        words: Vec<u32>,
        numbers: Vec<f64>,
        text: Text,
        origin: u64,
    },
}

fn op_batch() -> impl Strategy<Value = Batch> {
    let origin = prop_oneof![Just(T0), Just(0u64), Just(u64::MAX), any::<u64>()];
    prop_oneof![
        3 => (
            vec(recorded_op(), 0..12),
            origin.clone(),
            proptest::option::of((any::<usize>(), any::<u32>())),
            proptest::option::weighted(0.2, any::<usize>()),
            proptest::option::weighted(0.2, any::<usize>()),
        )
            .prop_map(|(ops, origin, corrupt, truncate_words, drop_numbers)| Batch::Ops {
                ops,
                origin,
                corrupt,
                truncate_words,
                drop_numbers,
            }),
        1 => (
            prop_oneof![vec(0u32..10, 0..64), vec(any::<u32>(), 0..32)],
            vec(number(), 0..8),
            text(),
            origin,
        )
            .prop_map(|(words, numbers, text, origin)| Batch::Random { words, numbers, text, origin }),
    ]
}

impl Batch {
    fn build(&self) -> OpBatch {
        match self {
            Batch::Ops {
                ops,
                origin,
                corrupt,
                truncate_words,
                drop_numbers,
            } => {
                let mut batch = encode(ops, *origin);
                if let Some((at, word)) = corrupt
                    && !batch.words.is_empty()
                {
                    let at = at % batch.words.len();
                    batch.words[at] = *word;
                }
                if let Some(len) = truncate_words {
                    batch.words.truncate(len % (batch.words.len() + 1));
                }
                if let Some(len) = drop_numbers {
                    batch.numbers.truncate(len % (batch.numbers.len() + 1));
                }
                batch
            }
            Batch::Random {
                words,
                numbers,
                text,
                origin,
            } => OpBatch {
                words: words.clone(),
                numbers: numbers.clone(),
                text: text.0.clone(),
                time_origin_unix_nanos: *origin,
            },
        }
    }
}

/// One call into the component (or a move of the host clock).
#[derive(Clone, Debug)]
enum Call {
    Start {
        name: Text,
        parent: u8,
        target: Target,
        context: SpanContext,
        kind: u8,
        attributes: Vec<KeyValue>,
        links: Vec<(SpanContext, Vec<KeyValue>)>,
        start_time: Option<u64>,
        scope: u32,
    },
    End(Target, Option<u64>),
    SetAttribute(Target, Text, AttributeValue),
    SetAttributes(Target, Vec<KeyValue>),
    AddEvent(Target, Text, Vec<KeyValue>, Option<u64>),
    AddLink(Target, SpanContext, Vec<KeyValue>),
    SetStatus(Target, u8, Text),
    RecordException(Target, Text, Text, Text, Option<u64>),
    UpdateName(Target, Text),
    ContextOf(Target),
    IsRecording(Target),
    Apply(Batch),
    Configure(Config),
    RegisterScope(InstrumentationScope),
    Tick,
    ForceFlush,
    NextDeadline,
    ReadStats,
    SetClock(u64),
    AdvanceClock(u64),
    ReserveRoots(u32),
    ReserveSpanIds(u32),
    Extract(Text, Option<Text>),
    Inject(SpanContext),
}

fn call() -> impl Strategy<Value = Call> {
    let start = (
        text(),
        0u8..3,
        target(),
        context(),
        0u8..5,
        attributes(),
        vec((context(), attributes()), 0..3),
        time(),
        prop_oneof![4 => Just(0u32), 1 => 0u32..4, 1 => any::<u32>()],
    )
        .prop_map(
            |(name, parent, target, context, kind, attributes, links, start_time, scope)| {
                Call::Start {
                    name,
                    parent,
                    target,
                    context,
                    kind,
                    attributes,
                    links,
                    start_time,
                    scope,
                }
            },
        );
    let count = prop_oneof![8 => 0u32..64, 1 => Just(1u32 << 20), 1 => Just((1u32 << 20) + 1), 1 => Just(u32::MAX)];
    prop_oneof![
        6 => start,
        4 => (target(), time()).prop_map(|(t, time)| Call::End(t, time)),
        4 => (target(), text(), value()).prop_map(|(t, k, v)| Call::SetAttribute(t, k, v)),
        2 => (target(), attributes()).prop_map(|(t, a)| Call::SetAttributes(t, a)),
        2 => (target(), text(), attributes(), time()).prop_map(|(t, n, a, time)| Call::AddEvent(t, n, a, time)),
        1 => (target(), context(), attributes()).prop_map(|(t, c, a)| Call::AddLink(t, c, a)),
        2 => (target(), 0u8..3, text()).prop_map(|(t, code, m)| Call::SetStatus(t, code, m)),
        1 => (target(), text(), text(), text(), time()).prop_map(|(t, a, b, c, time)| Call::RecordException(t, a, b, c, time)),
        1 => (target(), text()).prop_map(|(t, n)| Call::UpdateName(t, n)),
        1 => target().prop_map(Call::ContextOf),
        1 => target().prop_map(Call::IsRecording),
        3 => op_batch().prop_map(Call::Apply),
        1 => config().prop_map(Call::Configure),
        1 => scope().prop_map(Call::RegisterScope),
        1 => Just(Call::Tick),
        1 => Just(Call::ForceFlush),
        1 => Just(Call::NextDeadline),
        1 => Just(Call::ReadStats),
        1 => prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>(), Just(T0)].prop_map(Call::SetClock),
        1 => prop_oneof![0u64..10_000_000_000, any::<u64>()].prop_map(Call::AdvanceClock),
        1 => count.clone().prop_map(Call::ReserveRoots),
        1 => count.prop_map(Call::ReserveSpanIds),
        2 => (text(), proptest::option::of(text())).prop_map(|(p, s)| Call::Extract(p, s)),
        1 => context().prop_map(Call::Inject),
    ]
}

/// Turns a trap into a test failure naming the call.
fn check<T>(call: &Call, result: wasmtime::Result<T>) -> Result<T, TestCaseError> {
    result
        .map_err(|trap| TestCaseError::fail(format!("the component trapped on {call:?}: {trap:?}")))
}

fn resolve(target: &Target, started: &[u64]) -> u64 {
    match target {
        Target::Started(index) if !started.is_empty() => started[index % started.len()],
        Target::Started(index) => *index as u64,
        Target::Arbitrary(handle) => *handle,
    }
}

fn kind(index: u8) -> SpanKind {
    [
        SpanKind::Internal,
        SpanKind::Server,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Consumer,
    ][usize::from(index % 5)]
}

/// Makes one call; returns the new handle if it started a span.
fn perform(t: &mut Harness, call: &Call, started: &[u64]) -> Result<Option<u64>, TestCaseError> {
    let tracing: &mut TracingInstance = &mut t.tracing;
    match call {
        Call::Start {
            name,
            parent,
            target,
            context,
            kind: k,
            attributes,
            links,
            start_time,
            scope,
        } => {
            let parent = match parent {
                0 => Parent::None,
                1 => Parent::Span(resolve(target, started)),
                _ => Parent::Context(context.clone()),
            };
            let options = SpanOptions {
                kind: kind(*k),
                parent,
                attributes: attributes.clone(),
                links: links
                    .iter()
                    .map(|(context, attributes)| Link {
                        context: context.clone(),
                        attributes: attributes.clone(),
                    })
                    .collect(),
                start_time: *start_time,
                scope: *scope,
            };
            return Ok(check(call, tracing.start_span(&name.0, &options))?.ok());
        }
        Call::End(target, time) => drop(check(
            call,
            tracing.end_span(resolve(target, started), *time),
        )?),
        Call::SetAttribute(target, key, value) => drop(check(
            call,
            tracing.set_attribute(resolve(target, started), &key.0, value),
        )?),
        Call::SetAttributes(target, attributes) => drop(check(
            call,
            tracing.set_attributes(resolve(target, started), attributes),
        )?),
        Call::AddEvent(target, name, attributes, time) => drop(check(
            call,
            tracing.add_event(resolve(target, started), &name.0, attributes, *time),
        )?),
        Call::AddLink(target, context, attributes) => {
            let link = Link {
                context: context.clone(),
                attributes: attributes.clone(),
            };
            drop(check(
                call,
                tracing.add_link(resolve(target, started), &link),
            )?)
        }
        Call::SetStatus(target, code, message) => {
            let status = match code {
                0 => Status::Unset,
                1 => Status::Ok,
                _ => Status::Error(message.0.clone()),
            };
            drop(check(
                call,
                tracing.set_status(resolve(target, started), &status),
            )?)
        }
        Call::RecordException(target, kind, message, stack, time) => drop(check(
            call,
            tracing.record_exception(
                resolve(target, started),
                &kind.0,
                &message.0,
                &stack.0,
                *time,
            ),
        )?),
        Call::UpdateName(target, name) => drop(check(
            call,
            tracing.update_name(resolve(target, started), &name.0),
        )?),
        Call::ContextOf(target) => drop(check(call, tracing.context_of(resolve(target, started)))?),
        Call::IsRecording(target) => {
            drop(check(call, tracing.is_recording(resolve(target, started)))?)
        }
        Call::Apply(batch) => drop(check(call, tracing.apply(&batch.build()))?),
        Call::Configure(config) => drop(check(call, tracing.configure(config))?),
        Call::RegisterScope(scope) => drop(check(call, tracing.register_scope(scope))?),
        Call::Tick => check(call, tracing.tick())?,
        Call::ForceFlush => check(call, tracing.force_flush())?,
        Call::NextDeadline => drop(check(call, tracing.next_deadline())?),
        Call::ReadStats => drop(check(call, tracing.read_stats())?),
        Call::SetClock(now) => t.clock.set(*now),
        Call::AdvanceClock(nanos) => t.clock.set(t.clock.now().saturating_add(*nanos)),
        Call::ReserveRoots(count) => {
            let words = check(call, tracing.reserve_roots(*count))?;
            prop_assert!(
                words.len() <= 7 << 20,
                "reserve-roots gave {} words",
                words.len()
            );
            prop_assert_eq!(words.len() % 7, 0);
        }
        Call::ReserveSpanIds(count) => {
            let words = check(call, tracing.reserve_span_ids(*count))?;
            prop_assert!(
                words.len() <= 2 << 20,
                "reserve-span-ids gave {} words",
                words.len()
            );
            prop_assert_eq!(words.len() % 2, 0);
        }
        Call::Extract(traceparent, tracestate) => drop(check(
            call,
            tracing.extract(&traceparent.0, tracestate.as_ref().map(|s| s.0.as_str())),
        )?),
        Call::Inject(context) => drop(check(call, tracing.inject(context))?),
    }
    Ok(None)
}

fn try_decode(payload: &Payload) -> Result<ExportTraceServiceRequest, TestCaseError> {
    let request: ExportTraceServiceRequest =
        serde_json::from_slice(&payload.body).map_err(|err| {
            let text = String::from_utf8_lossy(&payload.body);
            TestCaseError::fail(format!(
                "invalid OTLP/JSON ({err}): {}",
                crate::common::preview(&text)
            ))
        })?;
    prop_assert_eq!(
        spans_of(&request).count(),
        payload.count as usize,
        "span-count"
    );
    Ok(request)
}

/// After a sequence: a valid configuration is accepted, a new span is exported in a valid
/// payload, and every payload sent during the sequence was valid OTLP/JSON.
fn still_works(t: &mut Harness, started: &[u64]) -> Result<(), TestCaseError> {
    let recover = Call::ForceFlush;
    for &span in started {
        check(&recover, t.tracing.end_span(span, None))?.ok();
    }
    t.clock.set(T0 + 1_000_000_000_000);
    let configured = check(&recover, t.tracing.configure(&test_config()))?;
    prop_assert!(
        configured.is_ok(),
        "a valid configuration was refused: {configured:?}"
    );
    let span = check(
        &recover,
        t.tracing.start_span("probe", &SpanOptions::root()),
    )?
    .map_err(|err| {
        TestCaseError::fail(format!("start-span refused after the sequence: {err:?}"))
    })?;
    check(&recover, t.tracing.end_span(span, None))?.map_err(|err| {
        TestCaseError::fail(format!("end-span refused after the sequence: {err:?}"))
    })?;
    check(&recover, t.tracing.force_flush())?;
    let mut probe_found = false;
    for payload in t.payloads.drain() {
        let request = try_decode(&payload)?;
        probe_found |=
            spans_of(&request).any(|s| s.span_id == span.to_be_bytes() && s.name == "probe");
    }
    prop_assert!(probe_found, "the probe span was not exported");
    Ok(())
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    })
}

#[test]
fn random_call_sequences_never_trap_and_leave_the_instance_working() {
    let harness = RefCell::new(Harness::new());
    let result = runner(CASES).run(&vec(call(), 0..MAX_CALLS), |calls| {
        let mut t = harness.borrow_mut();
        let mut started = Vec::new();
        let outcome = (|| {
            for call in &calls {
                if let Some(span) = perform(&mut t, call, &started)? {
                    started.push(span);
                }
            }
            still_works(&mut t, &started)
        })();
        if outcome.is_err() {
            // A trapped instance cannot be entered again: shrink against a fresh one.
            *t = Harness::new();
        }
        outcome
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn a_shut_down_instance_refuses_calls_without_trapping() {
    let harness = RefCell::new(Harness::new());
    let open = harness.borrow_mut().start("open");
    crate::common::no_trap(harness.borrow_mut().shutdown());
    let result = runner(24).run(&vec(call(), 0..MAX_CALLS), |calls| {
        let mut t = harness.borrow_mut();
        let started = vec![open];
        for call in &calls {
            if let Some(span) = perform(&mut t, call, &started)? {
                // A start after shutdown must be refused.
                return Err(TestCaseError::fail(format!(
                    "{call:?} started span {span:#x} after shutdown"
                )));
            }
        }
        for payload in t.payloads.drain() {
            try_decode(&payload)?;
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn huge_arguments_are_cut_not_trapped_on() {
    let mut t = Harness::new();
    let huge = "y".repeat(HUGE);
    let span = t.start(&huge);
    t.set(span, &huge, huge.as_str());
    t.set(
        span,
        "array",
        AttributeValue::StringArray(vec![huge.clone(); 4]),
    );
    crate::common::ok(t.add_event(span, &huge, &[KeyValue::new("k", huge.as_str())], None));
    crate::common::ok(t.record_exception(span, &huge, &huge, &huge, None));
    crate::common::ok(t.set_status(span, &Status::Error(huge.clone())));
    t.end(span);
    let exported = t.flush_one_span();
    assert_eq!(
        exported.name.len(),
        4096,
        "cut to the configured max-value-length"
    );
}
