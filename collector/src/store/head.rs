//! The head: the spans and log records of one write-ahead log, in memory, until they are
//! written out as a segment. Small by design (see `writer::seal_spans`), so queries scan
//! it; log records are also indexed by trace and session.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

// foldhash: several times faster than std's SipHash on 16- and 24-byte keys, and seeded
// per process, so that IDs chosen by clients cannot be made to collide.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use super::batch::{Batch, LogRow, SpanRow};
use super::logs::{FoundLogs, LogQuery};
use super::read::{Source, SpanFilter, TracePart, TraceSpans};

/// Where a span or log record is: batch and row.
type SpanAt = (u32, u32);
type LogAt = (u32, u32);

/// The spans of one write-ahead log.
#[derive(Debug)]
pub struct Head {
    /// The log's sequence number (the segment written from it gets the same).
    pub sequence: u64,
    batches: Vec<Batch>,
    traces: HashMap<[u8; 16], HeadTrace>,
    seen: HashSet<([u8; 16], [u8; 8])>,
    spans: u64,
    memory: usize,
    max_start: i64,
    /// Log records, each identity once, in arrival order.
    logs: Vec<LogAt>,
    log_traces: HashMap<[u8; 16], Vec<LogAt>>,
    log_sessions: HashMap<u64, Vec<LogAt>>,
    seen_logs: HashSet<u64>,
    max_log_time: i64,
}

/// One trace's spans in the head, with its summary.
#[derive(Debug)]
struct HeadTrace {
    spans: Vec<SpanAt>,
    root: Option<SpanAt>,
    earliest: SpanAt,
    min_start: i64,
    max_start: i64,
    max_end: i64,
    error: bool,
}

impl Head {
    /// An empty head for log `sequence`.
    pub fn new(sequence: u64) -> Head {
        Head {
            sequence,
            batches: Vec::new(),
            traces: HashMap::new(),
            seen: HashSet::new(),
            spans: 0,
            memory: 0,
            max_start: i64::MIN,
            logs: Vec::new(),
            log_traces: HashMap::new(),
            log_sessions: HashMap::new(),
            seen_logs: HashSet::new(),
            max_log_time: i64::MIN,
        }
    }

    /// Adds a batch's spans and log records, but not those already held (a span with
    /// the same trace and span ID, a record with the same identity).
    pub fn add(&mut self, batch: Batch) {
        let b = self.batches.len() as u32;
        for (s, span) in batch.spans().iter().enumerate() {
            if !self.seen.insert((span.trace_id, span.span_id)) {
                continue;
            }
            let at = (b, s as u32);
            self.spans += 1;
            self.max_start = self.max_start.max(span.start);
            let root = span.parent_span_id.is_none().then_some(at);
            match self.traces.entry(span.trace_id) {
                Entry::Vacant(entry) => {
                    entry.insert(HeadTrace {
                        spans: vec![at],
                        root,
                        earliest: at,
                        min_start: span.start,
                        max_start: span.start,
                        max_end: span.end,
                        error: span.error,
                    });
                }
                Entry::Occupied(mut entry) => {
                    let trace = entry.get_mut();
                    trace.spans.push(at);
                    trace.root = trace.root.or(root);
                    if span.start < trace.min_start {
                        trace.earliest = at;
                    }
                    trace.min_start = trace.min_start.min(span.start);
                    trace.max_start = trace.max_start.max(span.start);
                    trace.max_end = trace.max_end.max(span.end);
                    trace.error |= span.error;
                }
            }
        }
        for (l, log) in batch.logs().iter().enumerate() {
            if !self.seen_logs.insert(log.identity) {
                continue;
            }
            let at = (b, l as u32);
            self.logs.push(at);
            self.max_log_time = self.max_log_time.max(log.time);
            if let Some(trace_id) = log.trace_id {
                self.log_traces.entry(trace_id).or_default().push(at);
            }
            if let Some(session) = log.session {
                self.log_sessions.entry(session).or_default().push(at);
            }
        }
        self.memory += batch.memory() + batch.len() * 48;
        self.batches.push(batch);
    }

    /// Spans held.
    pub fn span_count(&self) -> u64 {
        self.spans
    }

    /// Spans and log records held (what sealing and count retention go by).
    pub fn item_count(&self) -> u64 {
        self.spans + self.log_count()
    }

    /// Log records held.
    pub fn log_count(&self) -> u64 {
        self.logs.len() as u64
    }

    /// Every log record held once (duplicates left out), with its batch's index.
    pub fn logs(&self) -> impl Iterator<Item = (usize, &LogRow)> {
        self.logs
            .iter()
            .map(|&(b, l)| (b as usize, self.log_row((b, l)).1))
    }

    fn log_row(&self, (b, l): LogAt) -> (&Batch, &LogRow) {
        let batch = &self.batches[b as usize];
        (batch, &batch.logs()[l as usize])
    }

    /// About how many bytes of memory it holds.
    pub fn memory(&self) -> usize {
        self.memory
    }

    /// The batches, in arrival order.
    pub fn batches(&self) -> &[Batch] {
        &self.batches
    }

    /// Every span held once (duplicates left out), with its batch's index.
    pub fn spans(&self) -> impl Iterator<Item = (usize, &SpanRow)> {
        self.traces
            .values()
            .flat_map(|trace| trace.spans.iter())
            .map(|&(b, s)| (b as usize, self.row((b, s)).1))
    }

    fn row(&self, (b, s): SpanAt) -> (&Batch, &SpanRow) {
        let batch = &self.batches[b as usize];
        (batch, &batch.spans()[s as usize])
    }
}

impl Source for Head {
    fn max_start(&self) -> i64 {
        self.max_start
    }

    fn matching(&self, filter: &SpanFilter, limit: usize) -> anyhow::Result<Vec<(i64, [u8; 16])>> {
        let mut found: Vec<(i64, [u8; 16])> = if filter.is_everything() {
            self.traces
                .iter()
                .map(|(id, trace)| (trace.max_start, *id))
                .collect()
        } else {
            self.traces
                .iter()
                .filter(|(_, trace)| {
                    trace.spans.iter().any(|&at| {
                        let (batch, span) = self.row(at);
                        filter.times_match(span.start, span.end)
                            && batch.has_terms(span, &filter.terms)
                    })
                })
                .map(|(id, trace)| (trace.max_start, *id))
                .collect()
        };
        if found.len() > limit {
            found.select_nth_unstable_by(limit, |a, b| b.cmp(a));
            found.truncate(limit);
        }
        Ok(found)
    }

    fn part(&self, trace_id: &[u8; 16]) -> anyhow::Result<Option<TracePart>> {
        let Some(trace) = self.traces.get(trace_id) else {
            return Ok(None);
        };
        let (batch, named) = self.row(trace.root.unwrap_or(trace.earliest));
        Ok(Some(TracePart {
            min_start: trace.min_start,
            max_start: trace.max_start,
            max_end: trace.max_end,
            spans: trace.spans.len() as u64,
            error: trace.error,
            root_name: trace.root.map(|_| batch.name_of(named).to_owned()),
            service: batch.service_of_span(named).to_owned(),
            services: trace
                .spans
                .iter()
                .map(|&at| {
                    let (batch, span) = self.row(at);
                    batch.service_of_span(span)
                })
                .collect::<BTreeSet<&str>>()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }))
    }

    fn spans(&self, trace_id: &[u8; 16], out: &mut TraceSpans) -> anyhow::Result<()> {
        if let Some(trace) = self.traces.get(trace_id) {
            for &at in &trace.spans {
                let (batch, span) = self.row(at);
                out.add(
                    span.start,
                    span.span_id,
                    batch.body_of(&batch.resources()[span.resource as usize]),
                    batch.body_of(&batch.scopes()[span.scope as usize]),
                    batch.span_body(span),
                );
            }
        }
        Ok(())
    }

    fn operations(&self, out: &mut BTreeMap<String, BTreeSet<String>>) {
        for batch in &self.batches {
            for span in batch.spans() {
                let service = batch.service_of_span(span);
                let name = batch.name_of(span);
                match out.get_mut(service) {
                    Some(names) => {
                        if !names.contains(name) {
                            names.insert(name.to_owned());
                        }
                    }
                    None => {
                        out.insert(service.to_owned(), BTreeSet::from([name.to_owned()]));
                    }
                }
            }
        }
    }

    fn max_log_time(&self) -> i64 {
        self.max_log_time
    }

    fn logs(&self, query: &LogQuery, out: &mut FoundLogs) -> anyhow::Result<()> {
        let session = query.session_term();
        let candidates: &[LogAt] = match (&query.trace, session) {
            (Some(trace_id), _) => self.log_traces.get(trace_id).map_or(&[], Vec::as_slice),
            (None, Some(session)) => self.log_sessions.get(&session).map_or(&[], Vec::as_slice),
            (None, None) => &self.logs,
        };
        for &at in candidates {
            let (batch, log) = self.log_row(at);
            let resource = &batch.resources()[log.resource as usize];
            let body = batch.log_body(log);
            if query.trace.is_none_or(|id| log.trace_id == Some(id))
                && session.is_none_or(|s| log.session == Some(s))
                && query
                    .service
                    .as_deref()
                    .is_none_or(|s| batch.service_of(resource) == s)
                && query.admits(log.time, log.severity, body)
            {
                out.add(
                    log.time,
                    log.identity,
                    batch.body_of(resource),
                    batch.body_of(&batch.scopes()[log.scope as usize]),
                    body,
                );
            }
        }
        Ok(())
    }
}
