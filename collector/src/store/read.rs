//! Queries across the store's sources (the head in memory, heads being written out,
//! segments on disk): each source answers for the spans it holds ([`Source`]); this
//! module merges their answers into trace listings and whole traces (log records are
//! merged in `logs.rs`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use opentelemetry_proto::tonic::trace::v1::TracesData;
use serde::Serialize;

use super::logs::FoundLogs;
use super::logs::LogQuery;
use super::otlp::{Encoded, EncodedItem};
use super::terms;

/// Which traces to list: those with at least one span that meets every condition given
/// (and, with `error: Some(false)`, no error span at all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceFilter {
    /// A span of this service.
    pub service: Option<String>,
    /// A span of this name (operation).
    pub operation: Option<String>,
    /// A span with each of these attributes (`key`, `value` as text), its own or its
    /// resource's.
    pub attributes: Vec<(String, String)>,
    /// A span that started at or after this time (Unix ns).
    pub start: Option<i64>,
    /// A span that started before this time (Unix ns).
    pub end: Option<i64>,
    /// A span that lasted at least this long (ns).
    pub min_duration: Option<u64>,
    /// A span that lasted at most this long (ns).
    pub max_duration: Option<u64>,
    /// `Some(true)`: a span with status ERROR; `Some(false)`: traces without one.
    pub error: Option<bool>,
    /// Most traces returned.
    pub limit: usize,
}

/// The span-level part of a [`TraceFilter`], as sources test it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanFilter {
    /// Terms the span (or its resource) must all carry.
    pub terms: Vec<u64>,
    /// Its start must be in `start..end`.
    pub start: i64,
    /// See `start`.
    pub end: i64,
    /// Its duration (end - start, 0 if negative) must be in `min_duration..=max_duration`.
    pub min_duration: u64,
    /// See `min_duration`.
    pub max_duration: u64,
}

impl SpanFilter {
    /// The span conditions of `filter`.
    pub fn of(filter: &TraceFilter) -> SpanFilter {
        let mut terms = Vec::new();
        terms.extend(filter.service.as_deref().map(terms::service));
        terms.extend(filter.operation.as_deref().map(terms::name));
        terms.extend(
            filter
                .attributes
                .iter()
                .map(|(key, value)| terms::attribute(key, value)),
        );
        if filter.error == Some(true) {
            terms.push(terms::error());
        }
        SpanFilter {
            terms,
            start: filter.start.unwrap_or(i64::MIN),
            end: filter.end.unwrap_or(i64::MAX),
            min_duration: filter.min_duration.unwrap_or(0),
            max_duration: filter.max_duration.unwrap_or(u64::MAX),
        }
    }

    /// Whether every span matches (no condition at all).
    pub fn is_everything(&self) -> bool {
        self.terms.is_empty() && !self.limits_times()
    }

    /// Whether the filter looks at start times or durations.
    pub fn limits_times(&self) -> bool {
        self.start != i64::MIN
            || self.end != i64::MAX
            || self.min_duration != 0
            || self.max_duration != u64::MAX
    }

    /// Whether a span starting at `start` and ending at `end` meets the time conditions.
    pub fn times_match(&self, start: i64, end: i64) -> bool {
        let duration = end.saturating_sub(start).max(0) as u64;
        (self.start..self.end).contains(&start)
            && (self.min_duration..=self.max_duration).contains(&duration)
    }

    /// Whether spans starting within `min_start..=max_start` may match.
    pub fn may_match_starts(&self, min_start: i64, max_start: i64) -> bool {
        max_start >= self.start && min_start < self.end
    }
}

/// What one source holds of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracePart {
    /// Earliest span start.
    pub min_start: i64,
    /// Latest span start: how recently the trace was active.
    pub max_start: i64,
    /// Latest span end.
    pub max_end: i64,
    /// Spans.
    pub spans: u64,
    /// Whether a span has status ERROR.
    pub error: bool,
    /// The root span's name, if the source holds the root span.
    pub root_name: Option<String>,
    /// The root span's service, else the earliest span's.
    pub service: String,
    /// Every service with a span in this source's part of the trace.
    pub services: BTreeSet<String>,
}

impl TracePart {
    /// Adds what another source holds of the same trace.
    fn merge(&mut self, other: TracePart) {
        if other.root_name.is_some() && self.root_name.is_none()
            || self.root_name.is_none() && other.min_start < self.min_start
        {
            self.service = other.service;
        }
        self.min_start = self.min_start.min(other.min_start);
        self.max_start = self.max_start.max(other.max_start);
        self.max_end = self.max_end.max(other.max_end);
        self.spans += other.spans;
        self.error |= other.error;
        self.services.extend(other.services);
        if self.root_name.is_none() {
            self.root_name = other.root_name;
        }
    }
}

/// What every kind of source answers.
pub trait Source {
    /// The latest span start it holds (`i64::MIN` when empty).
    fn max_start(&self) -> i64;

    /// The traces with a span that matches `filter`, as (latest span start in this
    /// source, trace ID): at least the `limit` most recent of them.
    fn matching(&self, filter: &SpanFilter, limit: usize) -> anyhow::Result<Vec<(i64, [u8; 16])>>;

    /// What this source holds of a trace.
    fn part(&self, trace_id: &[u8; 16]) -> anyhow::Result<Option<TracePart>>;

    /// Adds the trace's spans this source holds to `out`.
    fn spans(&self, trace_id: &[u8; 16], out: &mut TraceSpans) -> anyhow::Result<()>;

    /// Adds each service's span names (operations).
    fn operations(&self, out: &mut BTreeMap<String, BTreeSet<String>>);

    /// The latest log record time it holds (`i64::MIN` without records).
    fn max_log_time(&self) -> i64;

    /// Offers `out` the log records that match `query` (at least those more recent than
    /// what `out` already holds once it is full).
    fn logs(&self, query: &LogQuery, out: &mut FoundLogs) -> anyhow::Result<()>;
}

/// Characters of a span or service name kept in a listing (a longer one is cut there and
/// ends with `…`), so that a listing's size is bounded; a trace's spans keep full names.
pub const MAX_LISTED_NAME_CHARS: usize = 256;

/// One trace in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceSummary {
    /// The trace ID, 32 lowercase hex digits.
    pub trace_id: String,
    /// The root span's name; `None` while the root span has not arrived. At most
    /// [`MAX_LISTED_NAME_CHARS`] characters and a `…`.
    pub root_span_name: Option<String>,
    /// The service of the root span (else of the earliest span), cut like the name.
    pub service: String,
    /// Every service with a span in the trace, sorted, each cut like the name.
    pub services: Vec<String>,
    /// The earliest span start, Unix ns, as a decimal string (as in OTLP JSON: it does
    /// not fit a JavaScript number).
    pub start_time_unix_nano: String,
    /// From the earliest start to the latest end.
    pub duration_nanos: u64,
    /// Spans stored for the trace.
    pub span_count: u64,
    /// Whether a span has status code ERROR.
    pub error: bool,
}

/// Lists the traces that match `filter` across `sources`, most recently active first
/// (by their latest span start).
pub fn list_traces(
    sources: &[&dyn Source],
    filter: &TraceFilter,
) -> anyhow::Result<Vec<TraceSummary>> {
    if filter.limit == 0 {
        return Ok(Vec::new());
    }
    let spans = SpanFilter::of(filter);
    // Traces without errors are a minority to find among many: ask for more.
    let wanted = if filter.error == Some(false) {
        filter.limit.saturating_mul(4)
    } else {
        filter.limit
    };
    // Newest sources first; once `wanted` traces are found, a source whose latest span
    // started before all of them cannot add a more recent one.
    let mut newest_first: Vec<&dyn Source> = sources.to_vec();
    newest_first.sort_by_key(|s| std::cmp::Reverse(s.max_start()));
    let mut recency: HashMap<[u8; 16], i64> = HashMap::new();
    let mut found: Vec<i64> = Vec::new();
    for source in newest_first {
        if found.len() >= wanted && source.max_start() < found[wanted - 1] {
            break;
        }
        for (at, id) in source.matching(&spans, wanted)? {
            let entry = recency.entry(id).or_insert(at);
            *entry = (*entry).max(at);
        }
        found = recency.values().copied().collect();
        found.sort_unstable_by(|a, b| b.cmp(a));
    }
    let mut candidates: Vec<(i64, [u8; 16])> =
        recency.into_iter().map(|(id, at)| (at, id)).collect();
    candidates.sort_unstable_by(|a, b| b.cmp(a));
    let mut traces = Vec::new();
    for (_, id) in candidates {
        if traces.len() == filter.limit {
            break;
        }
        let Some(part) = trace_part(sources, &id)? else {
            continue;
        };
        if filter.error == Some(false) && part.error {
            continue;
        }
        traces.push((part.max_start, summary(&id, part)));
    }
    traces.sort_by_key(|t| std::cmp::Reverse(t.0));
    Ok(traces.into_iter().map(|(_, summary)| summary).collect())
}

/// What all sources hold of a trace, merged.
fn trace_part(sources: &[&dyn Source], id: &[u8; 16]) -> anyhow::Result<Option<TracePart>> {
    let mut merged: Option<TracePart> = None;
    for source in sources {
        if let Some(part) = source.part(id)? {
            match &mut merged {
                Some(merged) => merged.merge(part),
                None => merged = Some(part),
            }
        }
    }
    Ok(merged)
}

fn summary(id: &[u8; 16], part: TracePart) -> TraceSummary {
    TraceSummary {
        trace_id: hex(id),
        root_span_name: part.root_name.map(cut),
        service: cut(part.service),
        services: part
            .services
            .into_iter()
            .map(cut)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        start_time_unix_nano: part.min_start.to_string(),
        duration_nanos: part.max_end.saturating_sub(part.min_start).max(0) as u64,
        span_count: part.spans,
        error: part.error,
    }
}

/// A name cut to [`MAX_LISTED_NAME_CHARS`] characters and `…` if it is longer.
fn cut(mut name: String) -> String {
    if let Some((end, _)) = name.char_indices().nth(MAX_LISTED_NAME_CHARS) {
        name.truncate(end);
        name.push('…');
    }
    name
}

/// Each service with its span names, across `sources`.
pub fn operations(sources: &[&dyn Source]) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for source in sources {
        source.operations(&mut out);
    }
    out
}

/// The spans of one trace as sources add them: deduplicated by span ID (a span sent
/// twice, an exporter's retry, is kept once), with their resources and scopes.
#[derive(Debug, Default)]
pub struct TraceSpans {
    seen: HashSet<[u8; 8]>,
    encoded: Encoded,
    spans: Vec<(i64, EncodedItem)>,
}

impl TraceSpans {
    /// Adds a span (its start, ID and protobuf encoding) under the encodings of its
    /// resource and scope (childless `ResourceSpans` and `ScopeSpans`).
    pub fn add(
        &mut self,
        start: i64,
        span_id: [u8; 8],
        resource: &[u8],
        scope: &[u8],
        body: &[u8],
    ) {
        if !self.seen.insert(span_id) {
            return;
        }
        let item = EncodedItem {
            resource: self.encoded.part(resource),
            scope: self.encoded.part(scope),
            body: body.to_vec(),
        };
        self.spans.push((start, item));
    }

    /// The first `max_spans` spans by start time as OTLP, grouped by resource and
    /// scope; `None` without spans.
    pub fn finish(mut self, max_spans: usize) -> anyhow::Result<Option<StoredTrace>> {
        if self.spans.is_empty() {
            return Ok(None);
        }
        let stored = self.spans.len() as u64;
        self.spans.sort_by_key(|s| s.0);
        self.spans.truncate(max_spans);
        Ok(Some(StoredTrace {
            data: self
                .encoded
                .build(self.spans.iter().map(|(_, item)| item))?,
            stored,
            returned: self.spans.len() as u64,
        }))
    }
}

/// The spans of one trace, perhaps not all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTrace {
    /// The spans returned, grouped by resource and scope as OTLP, in start-time order.
    pub data: TracesData,
    /// How many spans are stored for the trace.
    pub stored: u64,
    /// How many spans `data` holds: fewer than `stored` when the limit cut the trace.
    pub returned: u64,
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}
