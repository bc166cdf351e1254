//! Segments: immutable files of spans and log records written from a head, with the
//! indexes a query needs. Opening one checks its footer and index checksums and keeps
//! the small indexes in memory (about 60 bytes per trace, 8 more per service in the
//! trace, 12 per distinct term, 40 per block); span and log blocks, posting lists and
//! time columns are read from the file when a query needs them.

pub mod format;
mod postings;
pub mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::logs::{FoundLogs, LogQuery};
use super::read::{Source, SpanFilter, TracePart, TraceSpans};
use super::terms;
use format::{BLOCK_ROW, Footer, Place, Reader, Section, TRACE_ROW, TraceRow};
use postings::TermIndex;

/// Largest section or block a segment may ask to decompress: a damaged length must not
/// make the collector allocate without bound.
const MAX_SECTION_BYTES: u64 = 1 << 30;

/// A segment file, open for queries.
pub struct Segment {
    path: PathBuf,
    file: File,
    footer: Footer,
    bytes_on_disk: u64,
    blocks: Vec<Block>,
    resources: Vec<Vec<u8>>,
    scopes: Vec<Vec<u8>>,
    strings: Vec<String>,
    traces: Vec<TraceRow>,
    /// Trace numbers, most recently active first.
    recent: Vec<u32>,
    operations: Vec<(u32, u32)>,
    /// (trace number, service string) for each service with a span in the trace, sorted.
    trace_services: Vec<(u32, u32)>,
    /// The spans' terms.
    terms: TermIndex,
    /// Blocks of log records, in time order.
    log_blocks: Vec<Block>,
    /// Each log block's earliest and latest record time.
    log_block_times: Vec<(i64, i64)>,
    /// The log records' terms (service, trace, session).
    log_terms: TermIndex,
}

/// One compressed block of spans or log records.
#[derive(Debug, Clone, Copy)]
struct Block {
    /// The number of its first span or record.
    first: u32,
    place: Place,
}

impl Segment {
    /// Opens a segment, checking its footer and the checksums of its indexes.
    pub fn open(path: &Path) -> anyhow::Result<Segment> {
        let file = File::open(path)?;
        let bytes_on_disk = file.metadata()?.len();
        let mut magic = [0; 8];
        if bytes_on_disk < 8 {
            anyhow::bail!("too short to be a segment ({bytes_on_disk} bytes)");
        }
        file.read_exact_at(&mut magic, bytes_on_disk - 8)?;
        let footer_len = Footer::len_for(&magic)
            .ok_or_else(|| anyhow::anyhow!("no segment footer at the end of the file"))?
            as u64;
        if bytes_on_disk < footer_len {
            anyhow::bail!("too short to be a segment ({bytes_on_disk} bytes)");
        }
        let mut footer_bytes = vec![0; footer_len as usize];
        file.read_exact_at(&mut footer_bytes, bytes_on_disk - footer_len)?;
        let footer = Footer::from_bytes(&footer_bytes).map_err(anyhow::Error::msg)?;
        for place in &footer.sections {
            if place.offset.saturating_add(place.len) > bytes_on_disk - footer_len {
                anyhow::bail!("a section lies outside the file");
            }
        }
        let mut segment = Segment {
            path: path.to_owned(),
            file,
            footer,
            bytes_on_disk,
            blocks: Vec::new(),
            resources: Vec::new(),
            scopes: Vec::new(),
            strings: Vec::new(),
            traces: Vec::new(),
            recent: Vec::new(),
            operations: Vec::new(),
            trace_services: Vec::new(),
            terms: TermIndex::default(),
            log_blocks: Vec::new(),
            log_block_times: Vec::new(),
            log_terms: TermIndex::default(),
        };
        segment.load().map_err(anyhow::Error::msg)?;
        segment.load_logs().map_err(anyhow::Error::msg)?;
        // Posting lists and columns are read later: check their checksums once, now.
        segment.section(Section::Postings)?;
        segment.section(Section::LogPostings)?;
        segment.trace_services = segment.find_trace_services()?;
        let columns = segment.footer.sections[Section::Columns as usize];
        segment
            .read_place(&columns, true)
            .context("section Columns")?;
        Ok(segment)
    }

    fn load(&mut self) -> Result<(), String> {
        let bytes = self.section(Section::Blocks).map_err(|e| e.to_string())?;
        if bytes.len() % BLOCK_ROW != 0 {
            return Err("the block table has a partial row".into());
        }
        self.blocks = read_blocks(&mut Reader::new(&bytes), bytes.len() / BLOCK_ROW)?;

        let bytes = self.section(Section::Parts).map_err(|e| e.to_string())?;
        let mut r = Reader::new(&bytes);
        for _ in 0..r.u32()? {
            self.resources.push(r.sized()?.to_vec());
        }
        for _ in 0..r.u32()? {
            self.scopes.push(r.sized()?.to_vec());
        }

        let bytes = self.section(Section::Strings).map_err(|e| e.to_string())?;
        let mut r = Reader::new(&bytes);
        for _ in 0..r.u32()? {
            let string = std::str::from_utf8(r.sized()?).map_err(|e| e.to_string())?;
            self.strings.push(string.to_owned());
        }
        let string_count = self.strings.len() as u32;

        let bytes = self.section(Section::Traces).map_err(|e| e.to_string())?;
        if bytes.len() % TRACE_ROW != 0 {
            return Err("the trace table has a partial row".into());
        }
        let mut r = Reader::new(&bytes);
        while !r.is_empty() {
            let row = TraceRow::read(&mut r)?;
            if u64::from(row.first) + u64::from(row.spans) > self.footer.spans
                || row.service >= string_count
                || row.root_name.is_some_and(|name| name >= string_count)
            {
                return Err("a trace row points outside the segment".into());
            }
            self.traces.push(row);
        }
        let mut recent: Vec<u32> = (0..self.traces.len() as u32).collect();
        recent.sort_unstable_by_key(|&t| std::cmp::Reverse(self.traces[t as usize].max_start));
        self.recent = recent;

        let bytes = self
            .section(Section::Operations)
            .map_err(|e| e.to_string())?;
        let mut r = Reader::new(&bytes);
        while !r.is_empty() {
            let pair = (r.u32()?, r.u32()?);
            if pair.0 >= string_count || pair.1 >= string_count {
                return Err("an operation points outside the strings".into());
            }
            self.operations.push(pair);
        }

        let bytes = self.section(Section::Terms).map_err(|e| e.to_string())?;
        let postings = self.footer.sections[Section::Postings as usize];
        self.terms = TermIndex::load(&bytes, postings, self.footer.spans)?;
        Ok(())
    }

    /// Loads the log records' block table and term table (none in a version 1 segment).
    fn load_logs(&mut self) -> Result<(), String> {
        if self.footer.logs == 0 {
            return Ok(());
        }
        let bytes = self
            .section(Section::LogBlocks)
            .map_err(|e| e.to_string())?;
        const LOG_BLOCK_ROW: usize = BLOCK_ROW + 16;
        if bytes.len() % LOG_BLOCK_ROW != 0 {
            return Err("the log block table has a partial row".into());
        }
        let count = bytes.len() / LOG_BLOCK_ROW;
        let mut r = Reader::new(&bytes);
        self.log_blocks = read_blocks(&mut r, count)?;
        self.log_block_times = (0..count)
            .map(|_| Ok((r.i64()?, r.i64()?)))
            .collect::<Result<_, String>>()?;
        let bytes = self.section(Section::LogTerms).map_err(|e| e.to_string())?;
        let postings = self.footer.sections[Section::LogPostings as usize];
        self.log_terms = TermIndex::load(&bytes, postings, self.footer.logs)?;
        Ok(())
    }

    /// Reads, checks and (if compressed) decompresses a section.
    fn section(&self, section: Section) -> anyhow::Result<Vec<u8>> {
        self.read_place(
            &self.footer.sections[section as usize],
            matches!(section, Section::Postings | Section::LogPostings),
        )
        .with_context(|| format!("section {section:?}"))
    }

    /// Reads bytes at `place`, checks their CRC, and decompresses them unless `raw`.
    fn read_place(&self, place: &Place, raw: bool) -> anyhow::Result<Vec<u8>> {
        if place.len > MAX_SECTION_BYTES || place.raw_len > MAX_SECTION_BYTES {
            anyhow::bail!("implausibly large ({} bytes)", place.raw_len);
        }
        let mut stored = vec![0; place.len as usize];
        self.file.read_exact_at(&mut stored, place.offset)?;
        if crc32fast::hash(&stored) != place.crc {
            anyhow::bail!("checksum mismatch");
        }
        if raw {
            return Ok(stored);
        }
        let bytes = zstd::bulk::decompress(&stored, place.raw_len as usize)?;
        if bytes.len() as u64 != place.raw_len {
            anyhow::bail!(
                "decompressed to {} bytes, not {}",
                bytes.len(),
                place.raw_len
            );
        }
        Ok(bytes)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The write-ahead log it was written from.
    pub fn sequence(&self) -> u64 {
        self.footer.sequence
    }

    /// Spans it holds.
    pub fn span_count(&self) -> u64 {
        self.footer.spans
    }

    /// Log records it holds.
    pub fn log_count(&self) -> u64 {
        self.footer.logs
    }

    /// The latest span start or log record time it holds: what age retention goes by.
    pub fn max_time(&self) -> i64 {
        self.footer.max_start.max(self.footer.max_log_time)
    }

    /// Its size in bytes.
    pub fn bytes_on_disk(&self) -> u64 {
        self.bytes_on_disk
    }

    /// The span numbers that carry `term`, ascending; empty if none does.
    fn postings(&self, term: u64) -> anyhow::Result<Vec<u32>> {
        self.terms
            .list(&self.file, term)
            .with_context(|| format!("{}: span terms", self.path.display()))
    }

    /// Which services each trace has spans of: a service's posting list holds its span
    /// numbers, ascending, and a trace's spans are one run of numbers, so one pass over
    /// each list finds its traces. (The format has no per-trace service list; this is
    /// derived once, at open.)
    fn find_trace_services(&self) -> anyhow::Result<Vec<(u32, u32)>> {
        let mut services: Vec<u32> = self
            .operations
            .iter()
            .map(|&(service, _)| service)
            .collect();
        services.sort_unstable();
        services.dedup();
        let mut pairs = Vec::new();
        for service in services {
            let mut last = None;
            for number in self.postings(terms::service(self.string(service)))? {
                let trace = self.trace_of(number) as u32;
                if last != Some(trace) {
                    pairs.push((trace, service));
                    last = Some(trace);
                }
            }
        }
        pairs.sort_unstable();
        Ok(pairs)
    }

    /// The services with spans in trace number `t`.
    fn services_of(&self, t: usize) -> impl Iterator<Item = &str> {
        let t = t as u32;
        let from = self.trace_services.partition_point(|&(trace, _)| trace < t);
        self.trace_services[from..]
            .iter()
            .take_while(move |&&(trace, _)| trace == t)
            .map(|&(_, service)| self.string(service))
    }

    /// The span numbers that match `filter`.
    fn matching_spans(&self, filter: &SpanFilter) -> anyhow::Result<Vec<u32>> {
        let mut spans = match self
            .terms
            .all_of(&self.file, &filter.terms)
            .with_context(|| format!("{}: span terms", self.path.display()))?
        {
            Some(spans) => spans,
            None => (0..self.footer.spans as u32).collect(),
        };
        if filter.limits_times() && !spans.is_empty() {
            let columns = self.section(Section::Columns)?;
            spans.retain(|&n| {
                let at = n as usize * 16;
                let start = columns.get(at..at + 8).map(le_i64);
                let end = columns.get(at + 8..at + 16).map(le_i64);
                matches!((start, end), (Some(s), Some(e)) if filter.times_match(s, e))
            });
        }
        Ok(spans)
    }

    /// The trace that span `number` belongs to.
    fn trace_of(&self, number: u32) -> usize {
        self.traces
            .partition_point(|t| t.first <= number)
            .saturating_sub(1)
    }

    fn string(&self, n: u32) -> &str {
        self.strings.get(n as usize).map_or("", String::as_str)
    }
}

/// One log record of a block, its resource and scope looked up.
struct LogEntry<'a> {
    identity: u64,
    time: i64,
    severity: u8,
    resource: &'a [u8],
    scope: &'a [u8],
    body: &'a [u8],
}

impl Segment {
    /// Calls `each` with every record of log block `b` and its number.
    fn log_block(&self, b: usize, mut each: impl FnMut(u32, LogEntry<'_>)) -> anyhow::Result<()> {
        let block = self.log_blocks[b];
        let bytes = self
            .read_place(&block.place, false)
            .with_context(|| format!("{}: a log block", self.path.display()))?;
        let damaged = |e: String| anyhow::anyhow!("{}: a log block: {e}", self.path.display());
        let mut r = Reader::new(&bytes);
        let mut number = block.first;
        while !r.is_empty() {
            let identity = r.u64().map_err(damaged)?;
            let time = r.i64().map_err(damaged)?;
            let severity = r.u8().map_err(damaged)?;
            let resource = r.varint().map_err(damaged)? as usize;
            let scope = r.varint().map_err(damaged)? as usize;
            let len = r.varint().map_err(damaged)? as usize;
            let body = r.bytes(len).map_err(damaged)?;
            let (Some(resource), Some(scope)) =
                (self.resources.get(resource), self.scopes.get(scope))
            else {
                anyhow::bail!(
                    "{}: a log record's resource is missing",
                    self.path.display()
                );
            };
            each(
                number,
                LogEntry {
                    identity,
                    time,
                    severity,
                    resource,
                    scope,
                    body,
                },
            );
            number += 1;
        }
        Ok(())
    }
}

/// Reads `count` rows of a block table.
fn read_blocks(r: &mut Reader<'_>, count: usize) -> Result<Vec<Block>, String> {
    (0..count)
        .map(|_| {
            Ok(Block {
                first: r.u32()?,
                place: Place {
                    offset: r.u64()?,
                    len: u64::from(r.u32()?),
                    raw_len: u64::from(r.u32()?),
                    crc: r.u32()?,
                },
            })
        })
        .collect()
}

fn le_i64(bytes: &[u8]) -> i64 {
    i64::from_le_bytes(bytes.try_into().unwrap_or_default())
}

impl Source for Segment {
    fn max_start(&self) -> i64 {
        self.footer.max_start
    }

    fn matching(&self, filter: &SpanFilter, limit: usize) -> anyhow::Result<Vec<(i64, [u8; 16])>> {
        if !filter.may_match_starts(self.footer.min_start, self.footer.max_start) {
            return Ok(Vec::new());
        }
        let traces: Vec<usize> = if filter.is_everything() {
            self.recent
                .iter()
                .take(limit)
                .map(|&t| t as usize)
                .collect()
        } else {
            let mut traces: Vec<usize> = self
                .matching_spans(filter)?
                .into_iter()
                .map(|n| self.trace_of(n))
                .collect();
            traces.dedup();
            if traces.len() > limit {
                traces.select_nth_unstable_by_key(limit, |&t| {
                    std::cmp::Reverse(self.traces[t].max_start)
                });
                traces.truncate(limit);
            }
            traces
        };
        Ok(traces
            .into_iter()
            .map(|t| (self.traces[t].max_start, self.traces[t].id))
            .collect())
    }

    fn part(&self, trace_id: &[u8; 16]) -> anyhow::Result<Option<TracePart>> {
        let Ok(t) = self.traces.binary_search_by_key(trace_id, |t| t.id) else {
            return Ok(None);
        };
        let trace = &self.traces[t];
        Ok(Some(TracePart {
            min_start: trace.min_start,
            max_start: trace.max_start,
            max_end: trace.max_end,
            spans: u64::from(trace.spans),
            error: trace.error,
            root_name: trace.root_name.map(|name| self.string(name).to_owned()),
            service: self.string(trace.service).to_owned(),
            services: self.services_of(t).map(str::to_owned).collect(),
        }))
    }

    fn spans(&self, trace_id: &[u8; 16], out: &mut TraceSpans) -> anyhow::Result<()> {
        let Ok(t) = self.traces.binary_search_by_key(trace_id, |t| t.id) else {
            return Ok(());
        };
        let trace = self.traces[t];
        let wanted = trace.first..trace.first + trace.spans;
        let first_block = self
            .blocks
            .partition_point(|b| b.first <= trace.first)
            .saturating_sub(1);
        for block in &self.blocks[first_block..] {
            if block.first >= wanted.end {
                break;
            }
            let bytes = self
                .read_place(&block.place, false)
                .with_context(|| format!("{}: a span block", self.path.display()))?;
            let mut r = Reader::new(&bytes);
            let mut number = block.first;
            while !r.is_empty() && number < wanted.end {
                let span_id = r.array::<8>().map_err(anyhow::Error::msg)?;
                let start = r.i64().map_err(anyhow::Error::msg)?;
                let resource = r.varint().map_err(anyhow::Error::msg)? as usize;
                let scope = r.varint().map_err(anyhow::Error::msg)? as usize;
                let len = r.varint().map_err(anyhow::Error::msg)? as usize;
                let body = r.bytes(len).map_err(anyhow::Error::msg)?;
                if wanted.contains(&number) {
                    let (Some(resource), Some(scope)) =
                        (self.resources.get(resource), self.scopes.get(scope))
                    else {
                        anyhow::bail!("{}: a span's resource is missing", self.path.display());
                    };
                    out.add(start, span_id, resource, scope, body);
                }
                number += 1;
            }
        }
        Ok(())
    }

    fn operations(&self, out: &mut BTreeMap<String, BTreeSet<String>>) {
        for &(service, name) in &self.operations {
            let names = out.entry(self.string(service).to_owned()).or_default();
            if !names.contains(self.string(name)) {
                names.insert(self.string(name).to_owned());
            }
        }
    }

    fn max_log_time(&self) -> i64 {
        self.footer.max_log_time
    }

    fn logs(&self, query: &LogQuery, out: &mut FoundLogs) -> anyhow::Result<()> {
        if self.footer.logs == 0
            || !query.may_match_times(self.footer.min_log_time, self.footer.max_log_time)
        {
            return Ok(());
        }
        let wanted = self
            .log_terms
            .all_of(&self.file, &query.terms())
            .with_context(|| format!("{}: log terms", self.path.display()))?;
        // Newest blocks first: once `out` is full, older blocks cannot add to it.
        for b in (0..self.log_blocks.len()).rev() {
            let (min, max) = self.log_block_times[b];
            let first = self.log_blocks[b].first;
            let end = self
                .log_blocks
                .get(b + 1)
                .map_or(self.footer.logs, |next| u64::from(next.first));
            let holds_wanted = wanted.as_ref().is_none_or(|numbers| {
                let at = numbers.partition_point(|&n| n < first);
                numbers.get(at).is_some_and(|&n| u64::from(n) < end)
            });
            if !holds_wanted || !query.may_match_times(min, max) {
                continue;
            }
            if !out.wants(max) {
                break;
            }
            self.log_block(b, |number, entry| {
                let is_wanted = wanted
                    .as_ref()
                    .is_none_or(|numbers| numbers.binary_search(&number).is_ok());
                if is_wanted && query.admits(entry.time, entry.severity, entry.body) {
                    out.add(
                        entry.time,
                        entry.identity,
                        entry.resource,
                        entry.scope,
                        entry.body,
                    );
                }
            })?;
        }
        Ok(())
    }
}
