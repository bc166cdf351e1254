//! The collector's ingest throughput beside rotel's in one run, then a growth run: ingest
//! with a store full to its retention limit, query times and disk use per span.
//!
//! ```text
//! just bench-collector                                  # installs rotel, builds, runs
//! just bench-collector --rounds 1 --growth-spans 300000
//! just bench-collector --help
//! cargo build --release -p collector --bin collector --example bench
//! target/release/examples/bench --rotel <venv>/lib/python3.11/site-packages/rotel/rotel-agent
//! ```
//!
//! Both receivers run as their own processes on loopback, started fresh for every
//! measurement: the collector's release binary (`target/release/collector`, a new
//! temporary data directory each time) and rotel (its PyPI wheel's binary, OTLP/HTTP
//! receiver, blackhole exporter: it neither validates nor stores). For each body kind
//! (JSON, gzip JSON, protobuf) the two alternate over `--rounds` rounds; each round posts
//! `--requests` requests of 100 spans (unique IDs, a new seed each time) from
//! `--connections` keep-alive connections, with the bodies encoded before the clock
//! starts (in batches of at most `--batch-mib`). It prints medians of spans/s, of p50
//! and p99 latency and of the CPU time per span that the receiver and this load
//! generator used (from /proc), and the ratios. The machine is noisy: read the ratios.
//!
//! The growth run starts one collector with `--retention-max-spans` (default 10/11 of
//! `--growth-spans`) and fills it with `--growth-spans` spans (bodies encoded while
//! sending). Then JSON ingest again, its rounds alternating with rounds against fresh
//! collectors; three queries over HTTP (a trace by ID, the recent traces, a search);
//! and the data directory's bytes per span held. Every answer must be 200 and reject no
//! span, else the run stops with an error. Tables go to stdout, progress to stderr.

mod load;
mod spans;
mod subject;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Parser;
use tokio::sync::mpsc;

use load::{Cpu, Outcome};
use spans::{Body, SPANS_PER_REQUEST};
use subject::Subject;

/// Command-line options (`--help`).
#[derive(Debug, Parser)]
#[command(
    about = "The collector beside rotel (alternating rounds per body kind), then a growth run."
)]
struct Options {
    /// rotel's binary: `rotel/rotel-agent` in the `rotel` PyPI package's install.
    #[arg(long)]
    rotel: PathBuf,
    /// The collector binary [default: `collector` in the directory above this example's].
    #[arg(long)]
    collector: Option<PathBuf>,
    /// Requests of 100 spans per round.
    #[arg(long, default_value_t = 2000)]
    requests: u64,
    /// Rounds per receiver and body kind (alternating), and of the growth run's ingest.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Body kinds to compare.
    #[arg(long, value_delimiter = ',', default_values = ["json", "gzip", "protobuf"])]
    bodies: Vec<Body>,
    /// Spans sent to fill the growth run's collector; 0 skips the growth run.
    #[arg(long, default_value_t = 5_500_000)]
    growth_spans: u64,
    /// The growth run's `--retention-max-spans` [default: 10/11 of --growth-spans].
    #[arg(long)]
    growth_retention: Option<u64>,
    /// Skip the growth run.
    #[arg(long)]
    no_growth: bool,
    /// Timed repetitions of each query (after one untimed).
    #[arg(long, default_value_t = 30)]
    queries: usize,
    /// Most MiB of encoded bodies held at once; a larger round is sent in batches.
    #[arg(long, default_value_t = 256)]
    batch_mib: u64,
}

/// The growth run's spans start within this many hours before the run.
const GROWTH_HOURS: u64 = 6;

/// The receivers compared, in the order each round runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Collector,
    Rotel,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Collector => "collector",
            Kind::Rotel => "rotel",
        }
    }
}

/// What the measurements share.
struct Bench {
    options: Options,
    collector: PathBuf,
    /// Requests encoded per batch, per body kind (from one sample's size).
    batch: Vec<(Body, u64)>,
    seeds: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = Options::parse();
    if options.requests == 0 || options.rounds == 0 || options.connections == 0 {
        bail!("--requests, --rounds and --connections must be at least 1");
    }
    tokio::select! {
        outcome = run(options) => outcome,
        _ = tokio::signal::ctrl_c() => bail!("interrupted (receivers stopped, temporary directories removed)"),
    }
}

async fn run(options: Options) -> Result<()> {
    let collector = match &options.collector {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .and_then(Path::parent)
            .context("locating the collector binary")?
            .join("collector"),
    };
    if !collector.is_file() {
        bail!(
            "no collector binary at {} (cargo build --release -p collector, or --collector PATH)",
            collector.display()
        );
    }
    let sample = spans::request(0, 0, now_ns());
    let sizes: Vec<(Body, usize)> = [Body::Json, Body::Gzip, Body::Protobuf]
        .into_iter()
        .map(|body| (body, body.encode(&sample).len()))
        .collect();
    let budget = options.batch_mib << 20;
    let batch = sizes
        .iter()
        .map(|&(body, size)| (body, (budget / size as u64).clamp(1, options.requests)))
        .collect();
    header(&options, &collector, &sizes)?;
    let mut bench = Bench {
        options,
        collector,
        batch,
        seeds: 0,
    };

    let empty_store_json = bench.ingest().await?;
    if !bench.options.no_growth && bench.options.growth_spans > 0 {
        bench.growth(empty_store_json).await?;
    }
    Ok(())
}

/// Median figures over rounds.
struct Summary {
    spans_per_second: f64,
    rounds: String,
    p50_ms: f64,
    p99_ms: f64,
    receiver_cpu: f64,
    load_cpu: f64,
}

impl Summary {
    fn of(outcomes: &[Outcome]) -> Summary {
        let median_of = |figure: &dyn Fn(&Outcome) -> f64| {
            median(&outcomes.iter().map(figure).collect::<Vec<_>>())
        };
        Summary {
            spans_per_second: median_of(&Outcome::spans_per_second),
            rounds: format!(
                "({})",
                outcomes
                    .iter()
                    .map(|o| thousands(o.spans_per_second()))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            p50_ms: median_of(&|o| o.percentile_ms(50.0)),
            p99_ms: median_of(&|o| o.percentile_ms(99.0)),
            receiver_cpu: median_of(&|o| o.cpu_us_per_span().0),
            load_cpu: median_of(&|o| o.cpu_us_per_span().1),
        }
    }

    /// The column heads, the first column headed `first`.
    fn heads(first: &str) -> String {
        format!(
            "{first:<27} {:>9}  {:<31} {:>7} {:>7} {:>7} {:>8}",
            "spans/s", "(rounds)", "p50 ms", "p99 ms", "CPU rx", "CPU load"
        )
    }

    /// A row, the first column `label`.
    fn row(&self, label: &str) -> String {
        format!(
            "{label:<27} {:>9}  {:<31} {:>7.2} {:>7.2} {:>7.1} {:>8.1}",
            thousands(self.spans_per_second),
            self.rounds,
            self.p50_ms,
            self.p99_ms,
            self.receiver_cpu,
            self.load_cpu
        )
    }
}

impl Bench {
    /// A new series of trace IDs: random per run (the clock), distinct within it.
    fn next_seed(&mut self) -> u64 {
        self.seeds += 1;
        mix(now_ns() ^ mix(self.seeds))
    }

    /// Requests encoded per batch for `body`.
    fn batch_len(&self, body: Body) -> u64 {
        self.batch
            .iter()
            .find(|(b, _)| *b == body)
            .map_or(1, |&(_, n)| n)
    }

    /// One round against a receiver started for it alone (a fresh data directory for
    /// the collector), stopped afterwards.
    async fn measure_fresh(&mut self, kind: Kind, body: Body) -> Result<Outcome> {
        let dir = tempfile::tempdir()?;
        let series = Series {
            body,
            seed: self.next_seed(),
            base_ns: now_ns() - 60_000_000_000,
            step_ns: 0,
        };
        // The first batch is encoded before the receiver starts.
        let first = series.encode(0..self.batch_len(body).min(self.options.requests));
        let log = dir.path().join(format!("{}.log", kind.name()));
        let subject = match kind {
            Kind::Collector => {
                Subject::collector(&self.collector, &dir.path().join("data"), &[], &log).await?
            }
            Kind::Rotel => Subject::rotel(&self.options.rotel, &log).await?,
        };
        let outcome = self.send_round(&subject, series, 0, first).await?;
        subject.stop().await?;
        Ok(outcome)
    }

    /// Sends requests `offset..offset + --requests` of `series` (the first of them already
    /// encoded in `bodies`), a batch at a time, timing only the sending.
    async fn send_round(
        &self,
        subject: &Subject,
        series: Series,
        offset: u64,
        mut bodies: Vec<Vec<u8>>,
    ) -> Result<Outcome> {
        let client = load::client(self.options.connections);
        let url = format!("{}/v1/traces", subject.base());
        let end = offset + self.options.requests;
        let mut next = offset + bodies.len() as u64;
        let mut outcome = Outcome::new();
        loop {
            let count = bodies.len() as u64;
            let queue = load::queue_of(std::mem::take(&mut bodies));
            let cpu = Cpu::now(subject.pid());
            let (elapsed, latencies) =
                load::send(&client, &url, series.body, queue, self.options.connections).await?;
            let cpu = Cpu::now(subject.pid()).since(cpu);
            outcome.add(elapsed, latencies, count * SPANS_PER_REQUEST, cpu);
            if next >= end {
                return Ok(outcome);
            }
            let upto = (next + self.batch_len(series.body)).min(end);
            bodies = series.encode(next..upto);
            next = upto;
        }
    }

    /// The empty-store comparison: per body kind, the collector and rotel alternating over
    /// `--rounds` rounds, each against a fresh receiver. Prints its table when done and
    /// returns the collector's median JSON figure.
    async fn ingest(&mut self) -> Result<Option<f64>> {
        let rounds = self.options.rounds;
        let mut report = String::new();
        writeln!(
            report,
            "\nIngest, empty store: median of {} (each round's spans/s in brackets); latency per \
             request;\nCPU µs per span of the receiver (rx) and of the load generator (load)",
            plural(rounds, "round")
        )?;
        writeln!(
            report,
            "{}",
            Summary::heads(&format!("{:<10} {}", "body", "receiver"))
        )?;
        let mut empty_store_json = None;
        for body in self.options.bodies.clone() {
            let mut results = [(Kind::Collector, Vec::new()), (Kind::Rotel, Vec::new())];
            for round in 1..=rounds {
                for (kind, outcomes) in &mut results {
                    let outcome = self.measure_fresh(*kind, body).await?;
                    progress(
                        &format!("{} round {round}, {}", body.name(), kind.name()),
                        &outcome,
                    );
                    outcomes.push(outcome);
                }
            }
            let [collector, rotel] = results.map(|(_, outcomes)| Summary::of(&outcomes));
            for (index, (kind, summary)) in [(Kind::Collector, &collector), (Kind::Rotel, &rotel)]
                .into_iter()
                .enumerate()
            {
                let body = if index == 0 { body.name() } else { "" };
                writeln!(
                    report,
                    "{}",
                    summary.row(&format!("{body:<10} {}", kind.name()))
                )?;
            }
            writeln!(
                report,
                "{}",
                ratio(
                    &format!("{:<10} collector/rotel", ""),
                    &collector,
                    &rotel,
                    ""
                )
            )?;
            if body == Body::Json {
                empty_store_json = Some(collector.spans_per_second);
            }
        }
        print!("{report}");
        Ok(empty_store_json)
    }

    /// One collector at its retention limit: fill, ingest beside the empty store's
    /// figure, queries, disk use per span. Prints its report when done.
    async fn growth(&mut self, empty_store_json: Option<f64>) -> Result<()> {
        let seed = self.next_seed();
        let (rounds, requests, connections) = (
            self.options.rounds,
            self.options.requests,
            self.options.connections,
        );
        let growth_spans = self.options.growth_spans;
        let fill_requests = growth_spans.div_ceil(SPANS_PER_REQUEST);
        let fill_spans = fill_requests * SPANS_PER_REQUEST;
        let retention = self
            .options
            .growth_retention
            .unwrap_or(growth_spans / 11 * 10)
            .max(1);
        let measured_requests = rounds as u64 * requests;
        let total_requests = fill_requests + measured_requests;
        // Every request's traces start a little later than the previous one's, in the
        // order sent, spread evenly over the 6 hours before the last minute.
        let series = Series {
            body: Body::Json,
            seed,
            base_ns: now_ns() - 60_000_000_000 - GROWTH_HOURS * 3_600_000_000_000,
            step_ns: GROWTH_HOURS * 3_600_000_000_000 / total_requests,
        };
        let mut report = String::new();
        writeln!(
            report,
            "\nGrowth: one collector, --retention-max-spans {retention}, filled with {} spans of JSON \
             (trace starts spread over {GROWTH_HOURS} hours)",
            thousands(fill_spans as f64)
        )?;
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        let flags = ["--retention-max-spans".to_owned(), retention.to_string()];
        let log = dir.path().join("collector.log");
        let subject = Subject::collector(&self.collector, &data, &flags, &log).await?;
        let url = format!("{}/v1/traces", subject.base());

        // Fill: bodies encoded on another thread while sending, at most 64 held at once.
        let (sender, queue) = mpsc::channel(64);
        let producer = std::thread::spawn(move || {
            let started = Instant::now();
            let mut reported = Instant::now();
            for g in 0..fill_requests {
                if sender.blocking_send(series.encode_one(g)).is_err() {
                    return;
                }
                if reported.elapsed() > Duration::from_secs(15) {
                    reported = Instant::now();
                    eprintln!(
                        "  filling: {} of {} spans queued after {:.0} s",
                        thousands((g * SPANS_PER_REQUEST) as f64),
                        thousands(fill_spans as f64),
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        });
        let client = load::client(connections);
        let cpu = Cpu::now(subject.pid());
        let (elapsed, latencies) =
            load::send(&client, &url, Body::Json, queue, connections).await?;
        let cpu = Cpu::now(subject.pid()).since(cpu);
        producer
            .join()
            .map_err(|_| anyhow::anyhow!("the encoding thread panicked"))?;
        let mut fill = Outcome::new();
        fill.add(elapsed, latencies, fill_spans, cpu);
        progress("growth fill", &fill);
        writeln!(
            report,
            "fill: {:.0} s, {} spans/s (bodies encoded while sending), p50 {:.2} ms, p99 {:.2} ms",
            elapsed.as_secs_f64(),
            thousands(fill.spans_per_second()),
            fill.percentile_ms(50.0),
            fill.percentile_ms(99.0)
        )?;

        // Ingest at the limit, the same load as the empty-store rounds, alternating with
        // fresh collectors (the machine's speed drifts: compare neighbours).
        let (mut full, mut empty) = (Vec::new(), Vec::new());
        for round in 0..rounds as u64 {
            let offset = fill_requests + round * requests;
            let bodies = series.encode(offset..offset + self.batch_len(Body::Json).min(requests));
            let outcome = self.send_round(&subject, series, offset, bodies).await?;
            progress(
                &format!("growth JSON round {}, at the limit", round + 1),
                &outcome,
            );
            full.push(outcome);
            let outcome = self.measure_fresh(Kind::Collector, Body::Json).await?;
            progress(&format!("growth JSON round {}, empty", round + 1), &outcome);
            empty.push(outcome);
        }
        let (full, empty) = (Summary::of(&full), Summary::of(&empty));
        writeln!(report, "{}", Summary::heads("JSON ingest, alternating"))?;
        writeln!(report, "{}", full.row("  at the retention limit"))?;
        writeln!(report, "{}", empty.row("  empty store (fresh)"))?;
        writeln!(
            report,
            "{}",
            ratio("  at the limit / empty", &full, &empty, " (target >= 0.80)")
        )?;
        if let Some(earlier) = empty_store_json {
            writeln!(
                report,
                "  (the empty-store table above had {} spans/s: {:.2}x)",
                thousands(earlier),
                full.spans_per_second / earlier
            )?;
        }

        // Queries, over what the store holds now: the spans sent last.
        let sent_spans = total_requests * SPANS_PER_REQUEST;
        let held = sent_spans.min(retention);
        let held_requests = held / SPANS_PER_REQUEST;
        let middle = total_requests - held_requests / 2 - 1;
        let trace = spans::hex(&spans::trace_id(seed, middle, 5));
        let window = (
            series.start_of(total_requests - held_requests * 55 / 100),
            series.start_of(total_requests - held_requests * 45 / 100),
        );
        let search = format!(
            "/api/traces?service={}&operation={}&attr=http.response.status_code={}\
             &minDuration=1ms&maxDuration=10s&start={}&end={}&limit=20",
            spans::SERVICE,
            spans::OPERATION.replace(' ', "%20"),
            spans::FAILED_STATUS,
            window.0,
            window.1
        );
        writeln!(
            report,
            "\nQueries over HTTP, one at a time: 1 untimed (first), then {} timed",
            self.options.queries
        )?;
        writeln!(
            report,
            "{:<27} {:>8} {:>8} {:>8}  answer",
            "query", "first ms", "p50 ms", "p95 ms"
        )?;
        let client = load::client(1);
        let queries = [
            ("trace by ID", format!("/api/traces/{trace}")),
            ("recent traces, limit 20", "/api/traces?limit=20".to_owned()),
            ("search", search.clone()),
        ];
        for (name, path) in queries {
            let url = format!("{}{path}", subject.base());
            let (first, times, answer) = time_query(&client, &url, self.options.queries).await?;
            writeln!(
                report,
                "{:<27} {:>8.2} {:>8.2} {:>8.2}  {}",
                name,
                first.as_secs_f64() * 1e3,
                load::percentile(&times, 50.0).as_secs_f64() * 1e3,
                load::percentile(&times, 95.0).as_secs_f64() * 1e3,
                describe(&answer)
            )?;
        }
        writeln!(report, "trace by ID: one from the middle of the spans held")?;
        writeln!(
            report,
            "search: GET {search}\n  (the window: the middle tenth of the spans held, by start time)"
        )?;

        // Disk use: every file under the data directory, per span the store holds
        // (retention deletes whole segments, so it may hold fewer than the limit).
        let status: serde_json::Value = client
            .get(format!("{}/api/status", subject.base()))
            .send()
            .await?
            .json()
            .await?;
        let held = status["spans"]
            .as_u64()
            .context("/api/status has no span count")?;
        let running = dir_bytes(&data)?;
        subject.stop().await?;
        let stopped = dir_bytes(&data)?;
        writeln!(
            report,
            "\nDisk: {} spans held (/api/status; {} sent)",
            thousands(held as f64),
            thousands(sent_spans as f64)
        )?;
        for (when, bytes) in [("running", running), ("after SIGTERM", stopped)] {
            writeln!(
                report,
                "  {:<14} {:>15} B in the data directory, {:>6.1} B per span",
                when,
                thousands(bytes as f64),
                bytes as f64 / held as f64
            )?;
        }
        print!("{report}");
        Ok(())
    }
}

/// `a`'s spans/s over `b`'s, and their CPU time per span likewise.
fn ratio(label: &str, a: &Summary, b: &Summary, note: &str) -> String {
    format!(
        "{label:<27} {:>8.2}x{note}; CPU per span {:.2}x",
        a.spans_per_second / b.spans_per_second,
        a.receiver_cpu / b.receiver_cpu
    )
}

/// One stderr line per measurement, while the tables wait for the end.
fn progress(what: &str, outcome: &Outcome) {
    eprintln!(
        "  {what}: {} spans/s, p50 {:.2} ms, p99 {:.2} ms",
        thousands(outcome.spans_per_second()),
        outcome.percentile_ms(50.0),
        outcome.percentile_ms(99.0)
    );
}

/// `3 rounds`, `1 round`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// GETs `url` once untimed, then `repetitions` times; every answer must be 200 JSON.
/// Returns the first time, the sorted times and the last answer.
async fn time_query(
    client: &reqwest::Client,
    url: &str,
    repetitions: usize,
) -> Result<(Duration, Vec<Duration>, serde_json::Value)> {
    let mut first = Duration::ZERO;
    let mut times = Vec::with_capacity(repetitions);
    let mut answer = serde_json::Value::Null;
    for repetition in 0..=repetitions {
        let started = Instant::now();
        let response = client
            .get(url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let time = started.elapsed();
        if status != 200 {
            bail!(
                "GET {url} answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        answer = serde_json::from_slice(&bytes).with_context(|| format!("GET {url}: not JSON"))?;
        if repetition == 0 {
            first = time;
        } else {
            times.push(time);
        }
    }
    times.sort_unstable();
    Ok((first, times, answer))
}

/// `20 traces` for a list, `10 spans` for a trace.
fn describe(answer: &serde_json::Value) -> String {
    if let Some(traces) = answer["traces"].as_array() {
        return format!("{} traces", traces.len());
    }
    let spans: usize = answer["resourceSpans"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["scopeSpans"].as_array().into_iter().flatten())
        .map(|s| s["spans"].as_array().map_or(0, Vec::len))
        .sum();
    format!("{spans} spans")
}

/// Requests of one seed, as one body kind: request `n`'s traces start at
/// `base_ns + n * step_ns` (and 1 ms apart within it).
#[derive(Debug, Clone, Copy)]
struct Series {
    body: Body,
    seed: u64,
    base_ns: u64,
    step_ns: u64,
}

impl Series {
    fn start_of(&self, n: u64) -> u64 {
        self.base_ns + n * self.step_ns
    }

    fn encode_one(&self, n: u64) -> Vec<u8> {
        self.body
            .encode(&spans::request(self.seed, n, self.start_of(n)))
    }

    /// Requests `range`, encoded on every core.
    fn encode(&self, range: std::ops::Range<u64>) -> Vec<Vec<u8>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        let chunk = (range.end - range.start).div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let parts: Vec<_> = range
                .clone()
                .step_by(chunk as usize)
                .map(|from| {
                    let to = (from + chunk).min(range.end);
                    scope.spawn(move || (from..to).map(|n| self.encode_one(n)).collect::<Vec<_>>())
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|part| part.join().expect("encoding does not panic"))
                .collect()
        })
    }
}

/// The header: when, where, with what, and how the run was started.
fn header(options: &Options, collector: &Path, sizes: &[(Body, usize)]) -> Result<()> {
    let rotel = std::process::Command::new(&options.rotel)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", options.rotel.display()))?;
    if !rotel.status.success() {
        bail!(
            "{} --version failed: {}",
            options.rotel.display(),
            String::from_utf8_lossy(&rotel.stderr)
        );
    }
    let rotel_version = String::from_utf8_lossy(&rotel.stdout).trim().to_owned();
    let wheel = wheel_version(&options.rotel)
        .map(|v| format!(" (PyPI package rotel {v})"))
        .unwrap_or_default();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = field(&cpuinfo, "model name").unwrap_or("unknown CPU");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = field(&meminfo, "MemTotal")
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kib| format!(", {:.1} GiB", kib / (1 << 20) as f64))
        .unwrap_or_default();
    let command = std::env::var("BENCH_COMMAND")
        .unwrap_or_else(|_| std::env::args().collect::<Vec<_>>().join(" "));
    let revision = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| format!(" (git {})", String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_default();
    let size = |body: Body| {
        sizes
            .iter()
            .find(|(b, _)| *b == body)
            .map_or(0, |&(_, s)| s) as f64
    };
    let options_line = format!(
        "{} requests of {SPANS_PER_REQUEST} spans per round ({} spans), {} per receiver and body \
         (collector, rotel, collector, ...), {} keep-alive connections",
        thousands(options.requests as f64),
        thousands((options.requests * SPANS_PER_REQUEST) as f64),
        plural(options.rounds, "round"),
        options.connections
    );
    println!("date:      {}", utc_now());
    println!(
        "machine:   {} cores (nproc), {cpu}{memory}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("command:   {command}");
    println!(
        "collector: {}{revision} --listen 127.0.0.1:<port> --data-dir <new temporary directory>",
        collector.display()
    );
    println!(
        "rotel:     {rotel_version}{wheel}: rotel-agent start --otlp-http-endpoint 127.0.0.1:<port> --exporter blackhole"
    );
    println!("load:      {options_line}");
    println!(
        "request:   10 traces of 10 spans, unique IDs; {} B JSON, {} B gzip JSON, {} B protobuf",
        thousands(size(Body::Json)),
        thousands(size(Body::Gzip)),
        thousands(size(Body::Protobuf))
    );
    Ok(())
}

/// The `rotel-X.dist-info` beside the package directory that holds the binary.
fn wheel_version(binary: &Path) -> Option<String> {
    let site_packages = binary.canonicalize().ok()?.parent()?.parent()?.to_owned();
    std::fs::read_dir(site_packages).ok()?.find_map(|entry| {
        let name = entry.ok()?.file_name().into_string().ok()?;
        Some(
            name.strip_prefix("rotel-")?
                .strip_suffix(".dist-info")?
                .to_owned(),
        )
    })
}

/// The value of the first `name: value` line of a /proc file.
fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim())
    })
}

/// Bytes of all files under `dir`, recursively.
fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += dir_bytes(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

/// `1234567.8` as `1,234,568`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// SplitMix64's finalizer: spreads a counter's bits over the whole word.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_nanos() as u64
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let seconds = now_ns() / 1_000_000_000;
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Days since 1970-01-01 to a proleptic Gregorian date, in 400-year eras from 0000-03-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}
