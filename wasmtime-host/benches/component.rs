//! Per-span cost and OTLP/JSON encoding throughput of the tracing component under
//! wasmtime. Run with `cargo bench -p wasmtime-host` (or `just bench`); set
//! `BENCH_ROUNDS` to change the number of measured rounds (default 7).
//!
//! Every figure is the median of the rounds, after one warm-up round. Payloads are
//! collected as bytes by the host (the "to bytes" point: no network).
//!
//! Without `--bench` (as under `cargo test --all-targets`) it runs one small round as a
//! smoke test.

#[allow(dead_code, reason = "the benchmark uses only the builder part")]
#[path = "../tests/component/common/ops.rs"]
mod ops;

use std::hint::black_box;
use std::time::{Duration, Instant};

use ops::{Ops, Start, parse_roots};
use wasmtime_host::bindings::exports::wasi::otel::tracing::{
    SpanContext as OtelContext, SpanData, SpanKind as OtelKind, Status as OtelStatus, TraceFlags,
};
use wasmtime_host::bindings::wasi::clocks::wall_clock::Datetime;
use wasmtime_host::bindings::wasi::otel::types::{
    InstrumentationScope as OtelScope, KeyValue as OtelKeyValue,
};
use wasmtime_host::{
    AttributeValue, BatchSettings, Clock, Config, HostState, KeyValue, PayloadLog, SpanOptions,
    TracingInstance, TracingRuntime, default_component_path,
};

/// Spans per round of the per-span measurements (a multiple of [`BATCH`]).
const SPANS: u32 = 51_200;
/// Spans per payload and per recorder batch, as in a browser.
const BATCH: u32 = 512;
/// Spans queued before a timed force-flush.
const ENCODE_SPANS: u32 = 10_000;
/// A queue and batch so large that nothing leaves until a flush.
const NEVER: u32 = 1 << 22;

const NAME: &str = "GET /api/items";
const KEY: &str = "http.route";
const VALUE: &str = "/api/items/:id";

/// OpenTelemetry's defaults with the given batching and no export by time.
fn config(max_export_batch_size: u32, max_queue_size: u32) -> Config {
    let mut config = Config::for_service("bench");
    config.batch = BatchSettings {
        max_export_batch_size,
        max_export_batch_bytes: 0,
        max_queue_size,
        scheduled_delay_ms: 3_600_000,
        max_open_spans: 1024,
    };
    config
}

/// A fresh instance with the system clock; returns it with its payload log.
fn instance(
    runtime: &TracingRuntime,
    config: &Config,
) -> wasmtime::Result<(TracingInstance, PayloadLog)> {
    let host = HostState::new().with_clock(Clock::System);
    let payloads = host.payloads();
    let mut tracing = runtime.instantiate(host)?;
    tracing
        .configure(config)?
        .map_err(|err| wasmtime::format_err!("configure: {err}"))?;
    Ok((tracing, payloads))
}

/// Start, one string attribute, end: the same span through the direct API.
fn direct_spans(tracing: &mut TracingInstance, count: u32) -> wasmtime::Result<()> {
    let options = SpanOptions::root();
    let value = AttributeValue::String(VALUE.into());
    for _ in 0..count {
        let span = tracing
            .start_span(NAME, &options)?
            .map_err(|err| wasmtime::format_err!("start-span: {err}"))?;
        tracing
            .set_attribute(span, KEY, &value)?
            .map_err(|err| wasmtime::format_err!("set-attribute: {err}"))?;
        tracing
            .end_span(span, None)?
            .map_err(|err| wasmtime::format_err!("end-span: {err}"))?;
    }
    Ok(())
}

/// The same span handed over finished through `wasi:otel` (`on-start`, then `on-end`
/// with its attribute as JSON text), as a guest's SDK does; IDs are made by the caller.
fn wasi_otel_spans(tracing: &mut TracingInstance, count: u32, first: u64) -> wasmtime::Result<()> {
    // Now, as the component's clock reads it: a span that ended long ago is exported at
    // once rather than batched (its scheduled delay has passed).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|err| wasmtime::format_err!("clock before 1970: {err}"))?;
    let time = Datetime {
        seconds: now.as_secs(),
        nanoseconds: now.subsec_nanos(),
    };
    let mut span = SpanData {
        span_context: OtelContext {
            trace_id: String::new(),
            span_id: String::new(),
            trace_flags: TraceFlags::SAMPLED,
            is_remote: false,
            trace_state: Vec::new(),
        },
        parent_span_id: "0000000000000000".into(),
        span_kind: OtelKind::Internal,
        name: NAME.into(),
        start_time: time,
        end_time: time,
        attributes: vec![OtelKeyValue {
            key: KEY.into(),
            value: format!("\"{VALUE}\""),
        }],
        events: Vec::new(),
        links: Vec::new(),
        status: OtelStatus::Unset,
        instrumentation_scope: OtelScope {
            name: "bench".into(),
            version: None,
            schema_url: None,
            attributes: Vec::new(),
        },
        dropped_attributes: 0,
        dropped_events: 0,
        dropped_links: 0,
    };
    for i in 0..u64::from(count) {
        let id = first + i;
        span.span_context.trace_id = format!("{id:032x}");
        span.span_context.span_id = format!("{id:016x}");
        tracing.otel_on_start(&span.span_context)?;
        tracing.otel_on_end(&span)?;
    }
    Ok(())
}

/// How much to measure.
struct Plan {
    rounds: usize,
    spans: u32,
    encode_spans: u32,
}

/// One measurement: time per round, spans per round, payload bytes per round.
struct Rounds {
    times: Vec<Duration>,
    spans: u32,
    bytes: Vec<usize>,
}

impl Rounds {
    fn new(spans: u32) -> Self {
        Self {
            times: Vec::new(),
            spans,
            bytes: Vec::new(),
        }
    }

    fn median(&self) -> Duration {
        let mut times = self.times.clone();
        times.sort();
        times[times.len() / 2]
    }

    fn ns_per_span(&self, time: Duration) -> f64 {
        time.as_nanos() as f64 / f64::from(self.spans)
    }

    fn bytes_per_span(&self) -> f64 {
        let mut bytes = self.bytes.clone();
        bytes.sort_unstable();
        bytes.get(bytes.len() / 2).copied().unwrap_or(0) as f64 / f64::from(self.spans)
    }
}

fn drained_bytes(payloads: &PayloadLog) -> usize {
    payloads
        .drain()
        .iter()
        .map(|payload| payload.body.len())
        .sum()
}

fn measure(
    rounds: usize,
    spans: u32,
    mut round: impl FnMut() -> wasmtime::Result<(Duration, usize)>,
) -> wasmtime::Result<Rounds> {
    round()?; // warm-up
    let mut result = Rounds::new(spans);
    for _ in 0..rounds {
        let (time, bytes) = round()?;
        result.times.push(time);
        result.bytes.push(bytes);
    }
    Ok(result)
}

/// Direct API with export: batches of 512 leave as they fill, collected as bytes.
fn bench_direct_with_export(runtime: &TracingRuntime, plan: &Plan) -> wasmtime::Result<Rounds> {
    let (mut tracing, payloads) = instance(runtime, &config(BATCH, 4 * BATCH))?;
    measure(plan.rounds, plan.spans, || {
        let begin = Instant::now();
        direct_spans(&mut tracing, plan.spans)?;
        tracing.force_flush()?;
        let time = begin.elapsed();
        Ok((time, drained_bytes(&payloads)))
    })
}

/// Direct API hot path: start, attribute, end only; nothing is exported while timed.
fn bench_direct_hot_path(runtime: &TracingRuntime, plan: &Plan) -> wasmtime::Result<Rounds> {
    let (mut tracing, payloads) = instance(runtime, &config(NEVER, NEVER))?;
    measure(plan.rounds, plan.spans, || {
        let begin = Instant::now();
        direct_spans(&mut tracing, plan.spans)?;
        let time = begin.elapsed();
        tracing.force_flush()?;
        Ok((time, drained_bytes(&payloads)))
    })
}

/// `wasi:otel`: on-start and on-end per span, batches of 512 exported to bytes. Writing the
/// IDs as hex text is timed too, as a guest's SDK does it.
fn bench_wasi_otel(runtime: &TracingRuntime, plan: &Plan) -> wasmtime::Result<Rounds> {
    let (mut tracing, payloads) = instance(runtime, &config(BATCH, 4 * BATCH))?;
    let mut first = 1;
    measure(plan.rounds, plan.spans, || {
        let begin = Instant::now();
        wasi_otel_spans(&mut tracing, plan.spans, first)?;
        tracing.force_flush()?;
        let time = begin.elapsed();
        first += u64::from(plan.spans);
        Ok((time, drained_bytes(&payloads)))
    })
}

/// The recorder: op batches of 512 spans (start, one attribute, end) applied, exported
/// in payloads of 512, collected as bytes. IDs are reserved and batches built untimed.
fn bench_recorder(runtime: &TracingRuntime, plan: &Plan) -> wasmtime::Result<Rounds> {
    let (mut tracing, payloads) = instance(runtime, &config(BATCH, 4 * BATCH))?;
    let origin = 1_700_000_000_000_000_000;
    let attribute = KeyValue::new(KEY, VALUE);
    measure(plan.rounds, plan.spans, || {
        let mut batches = Vec::new();
        for _ in 0..plan.spans / BATCH {
            let roots = parse_roots(&tracing.reserve_roots(BATCH)?);
            let mut ops = Ops::new(origin);
            for (i, root) in roots.iter().enumerate() {
                let start_ms = i as f64 * 0.25;
                ops.start(&Start::root(*root, NAME, start_ms))
                    .attr(root.span_id, &attribute)
                    .end(root.span_id, start_ms + 0.125);
            }
            batches.push(ops.batch());
        }
        let begin = Instant::now();
        for batch in &batches {
            let outcome = tracing.apply(batch)?;
            if outcome.malformed.is_some() || outcome.refused > 0 {
                wasmtime::bail!("apply: {outcome:?}");
            }
            black_box(outcome);
        }
        tracing.force_flush()?;
        let time = begin.elapsed();
        Ok((time, drained_bytes(&payloads)))
    })
}

/// `reserve-roots` alone, per root (the recorder's ID supply).
fn bench_reserve_roots(runtime: &TracingRuntime, plan: &Plan) -> wasmtime::Result<Rounds> {
    let (mut tracing, _) = instance(runtime, &config(BATCH, 4 * BATCH))?;
    measure(plan.rounds, plan.spans, || {
        let begin = Instant::now();
        for _ in 0..plan.spans / BATCH {
            black_box(tracing.reserve_roots(BATCH)?);
        }
        Ok((begin.elapsed(), 0))
    })
}

/// OTLP/JSON encoding: a force-flush of `ENCODE_SPANS` queued spans into one payload.
fn bench_encoding(runtime: &TracingRuntime, plan: &Plan) -> wasmtime::Result<Rounds> {
    let (mut tracing, payloads) = instance(runtime, &config(NEVER, NEVER))?;
    measure(plan.rounds, plan.encode_spans, || {
        direct_spans(&mut tracing, plan.encode_spans)?;
        let begin = Instant::now();
        tracing.force_flush()?;
        let time = begin.elapsed();
        Ok((time, drained_bytes(&payloads)))
    })
}

fn main() -> wasmtime::Result<()> {
    // `cargo bench` passes `--bench`; anything else (`cargo test --all-targets`) gets a
    // quick smoke run that only shows the benchmark still works.
    let full = std::env::args().any(|arg| arg == "--bench");
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .filter(|&rounds| rounds > 0)
        .unwrap_or(7);
    let plan = if full {
        Plan {
            rounds,
            spans: SPANS,
            encode_spans: ENCODE_SPANS,
        }
    } else {
        Plan {
            rounds: 1,
            spans: BATCH * 2,
            encode_spans: BATCH,
        }
    };
    let path = default_component_path();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let runtime = TracingRuntime::load(&path)?;

    let direct = bench_direct_with_export(&runtime, &plan)?;
    let hot = bench_direct_hot_path(&runtime, &plan)?;
    let otel = bench_wasi_otel(&runtime, &plan)?;
    let recorder = bench_recorder(&runtime, &plan)?;
    let reserve = bench_reserve_roots(&runtime, &plan)?;
    let encoding = bench_encoding(&runtime, &plan)?;

    println!();
    if !full {
        println!("smoke run (no --bench): figures are not meaningful");
    }
    println!("wasm-otlp tracing component under wasmtime 48 (cranelift)");
    println!("component: {} ({size} bytes)", path.display());
    println!(
        "span: start \"{NAME}\", set one string attribute, end; median of {} rounds after a warm-up",
        plan.rounds
    );
    println!();
    println!(
        "| {:<52} | {:>8} | {:>10} | {:>10} | {:>10} | {:>9} |",
        "path", "spans", "ns/span", "min", "max", "B/span"
    );
    println!(
        "|{:-<54}|{:->10}|{:->12}|{:->12}|{:->12}|{:->11}|",
        "", "", "", "", "", ""
    );
    for (label, rounds) in [
        ("direct API, batches of 512 exported to bytes", &direct),
        ("direct API hot path (start/attribute/end, no export)", &hot),
        (
            "wasi:otel on-start + on-end, batches of 512 to bytes",
            &otel,
        ),
        (
            "recorder: apply op batches of 512, exported to bytes",
            &recorder,
        ),
        ("recorder: reserve-roots (512 per call), per root", &reserve),
    ] {
        let min = rounds.times.iter().min().copied().unwrap_or_default();
        let max = rounds.times.iter().max().copied().unwrap_or_default();
        println!(
            "| {label:<52} | {:>8} | {:>10.0} | {:>10.0} | {:>10.0} | {:>9.1} |",
            rounds.spans,
            rounds.ns_per_span(rounds.median()),
            rounds.ns_per_span(min),
            rounds.ns_per_span(max),
            rounds.bytes_per_span(),
        );
    }
    let time = encoding.median().as_secs_f64();
    let bytes = encoding.bytes_per_span() * f64::from(encoding.spans);
    println!();
    println!(
        "OTLP/JSON encoding (force-flush of {} queued spans into one payload): {:.0} ns/span, \
         {:.2} M spans/s, {:.0} MB/s ({:.0} bytes/span)",
        encoding.spans,
        encoding.ns_per_span(encoding.median()),
        f64::from(encoding.spans) / time / 1e6,
        bytes / time / 1e6,
        encoding.bytes_per_span(),
    );
    println!();
    println!(
        "reproduce: just build-component && cargo bench -p wasmtime-host   (BENCH_ROUNDS=N to change rounds)"
    );
    Ok(())
}
