//! Writing a head out as a segment file: spans sorted by trace ID and log records sorted
//! by time, compressed in blocks, with the indexes of [`super::format`]. The file is written under a temporary name,
//! synced, then renamed into place, so a segment file is always whole.

use std::collections::BTreeSet;

use foldhash::{HashMap, HashMapExt};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::format::{Footer, Place, SECTIONS, Section, TraceRow, put_sized};
use crate::store::batch::{LogRow, SpanRow};
use crate::store::head::Head;
use crate::store::terms;
use crate::store::wal::sync_dir;

/// Uncompressed bytes of spans per block: one trace lookup decompresses at least one.
const BLOCK_BYTES: usize = 64 << 10;

/// zstd's level for blocks and sections: its fastest, as the builder shares the CPU with
/// ingest (see docs/store.md for what levels cost and save).
const ZSTD_LEVEL: i32 = 1;

/// The file name of segment `sequence`.
pub fn file_name(sequence: u64) -> String {
    format!("{sequence:020}.seg")
}

/// Writes `head` as segment `dir/<sequence>.seg`, durably (file and directory entry);
/// returns its path.
pub fn write(dir: &Path, head: &Head) -> anyhow::Result<PathBuf> {
    let path = dir.join(file_name(head.sequence));
    let temporary = dir.join(format!("{}.tmp", file_name(head.sequence)));
    let file = File::create(&temporary)?;
    let mut out = Output {
        file: BufWriter::with_capacity(256 << 10, file),
        offset: 0,
        compressor: zstd::bulk::Compressor::new(ZSTD_LEVEL)?,
    };
    let footer = write_body(&mut out, head)?;
    out.file.write_all(&footer.to_bytes())?;
    let file = out.file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, &path)?;
    sync_dir(dir)?;
    Ok(path)
}

struct Output {
    file: BufWriter<File>,
    offset: u64,
    /// One zstd context for every block and section.
    compressor: zstd::bulk::Compressor<'static>,
}

impl Output {
    /// Writes bytes as they are; returns where.
    fn raw(&mut self, bytes: &[u8]) -> anyhow::Result<Place> {
        let place = Place {
            offset: self.offset,
            len: bytes.len() as u64,
            raw_len: bytes.len() as u64,
            crc: crc32fast::hash(bytes),
        };
        self.file.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(place)
    }

    /// Writes bytes compressed; returns where.
    fn compressed(&mut self, bytes: &[u8]) -> anyhow::Result<Place> {
        let stored = self.compressor.compress(bytes)?;
        Ok(Place {
            raw_len: bytes.len() as u64,
            ..self.raw(&stored)?
        })
    }
}

/// Numbers for distinct byte strings, in order of first use.
#[derive(Default)]
struct Numbering<'a> {
    numbers: HashMap<&'a [u8], u32>,
    items: Vec<&'a [u8]>,
}

impl<'a> Numbering<'a> {
    fn number(&mut self, item: &'a [u8]) -> u32 {
        *self.numbers.entry(item).or_insert_with(|| {
            self.items.push(item);
            self.items.len() as u32 - 1
        })
    }
}

/// A posting list while it is built: most terms (unique values such as URLs) belong to
/// one span, which this keeps without a heap allocation.
enum Posting {
    One(u32),
    Many(Vec<u32>),
}

impl Posting {
    /// Adds span `number` (ascending; a term repeated within a span is added once).
    fn push(&mut self, number: u32) {
        match self {
            Posting::One(first) if *first != number => *self = Posting::Many(vec![*first, number]),
            Posting::One(_) => {}
            Posting::Many(list) => {
                if list.last() != Some(&number) {
                    list.push(number);
                }
            }
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Posting::One(number) => std::slice::from_ref(number),
            Posting::Many(list) => list,
        }
    }
}

/// Posting lists by term hash, while they are built.
#[derive(Default)]
struct PostingLists(HashMap<u64, Posting>);

impl PostingLists {
    fn with_capacity(capacity: usize) -> Self {
        PostingLists(HashMap::with_capacity(capacity))
    }

    /// Adds item `number` (ascending) to the list of `term`.
    fn add(&mut self, term: u64, number: u32) {
        self.0
            .entry(term)
            .and_modify(|list| list.push(number))
            .or_insert(Posting::One(number));
    }

    /// Writes the term table (compressed) and the lists (raw); returns where each is.
    fn write(self, out: &mut Output) -> anyhow::Result<(Place, Place)> {
        let mut terms: Vec<(u64, Posting)> = self.0.into_iter().collect();
        terms.sort_unstable_by_key(|(hash, _)| *hash);
        let mut lists = Vec::new();
        let mut table = Vec::with_capacity(terms.len() * 12 + 4);
        for (hash, numbers) in &terms {
            table.extend_from_slice(&hash.to_le_bytes());
            table.extend_from_slice(&(lists.len() as u32).to_le_bytes());
            let mut previous = 0;
            for (i, &number) in numbers.as_slice().iter().enumerate() {
                let gap = if i == 0 { number } else { number - previous };
                prost::encoding::encode_varint(u64::from(gap), &mut lists);
                previous = number;
            }
        }
        table.extend_from_slice(&(lists.len() as u32).to_le_bytes());
        Ok((out.compressed(&table)?, out.raw(&lists)?))
    }
}

/// One written block: its first item, where it is, and its items' time range.
struct WrittenBlock {
    first: u32,
    place: Place,
    min_time: i64,
    max_time: i64,
}

/// Items gathered into blocks of about [`BLOCK_BYTES`], each compressed on its own.
struct Blocks {
    current: Vec<u8>,
    first: u32,
    min_time: i64,
    max_time: i64,
    written: Vec<WrittenBlock>,
}

impl Blocks {
    fn new() -> Self {
        Blocks {
            current: Vec::with_capacity(BLOCK_BYTES + (16 << 10)),
            first: 0,
            min_time: i64::MAX,
            max_time: i64::MIN,
            written: Vec::new(),
        }
    }

    /// The block being filled, to append item `number` (at `time`) to; call
    /// [`Blocks::end_item`] after.
    fn item(&mut self, time: i64) -> &mut Vec<u8> {
        self.min_time = self.min_time.min(time);
        self.max_time = self.max_time.max(time);
        &mut self.current
    }

    /// Writes the block out once it is full; the next item is `next`.
    fn end_item(&mut self, out: &mut Output, next: u32) -> anyhow::Result<()> {
        if self.current.len() >= BLOCK_BYTES {
            self.flush(out, next)?;
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut Output, next: u32) -> anyhow::Result<()> {
        if !self.current.is_empty() {
            self.written.push(WrittenBlock {
                first: self.first,
                place: out.compressed(&self.current)?,
                min_time: self.min_time,
                max_time: self.max_time,
            });
        }
        self.current.clear();
        self.first = next;
        self.min_time = i64::MAX;
        self.max_time = i64::MIN;
        Ok(())
    }

    /// Writes the last block, then the block table (with each block's time range when
    /// `times`); returns where the table is.
    fn finish(mut self, out: &mut Output, times: bool) -> anyhow::Result<Place> {
        self.flush(out, 0)?;
        let mut table = Vec::new();
        for block in &self.written {
            let place = block.place;
            table.extend_from_slice(&block.first.to_le_bytes());
            table.extend_from_slice(&place.offset.to_le_bytes());
            table.extend_from_slice(&(place.len as u32).to_le_bytes());
            table.extend_from_slice(&(place.raw_len as u32).to_le_bytes());
            table.extend_from_slice(&place.crc.to_le_bytes());
        }
        if times {
            for block in &self.written {
                table.extend_from_slice(&block.min_time.to_le_bytes());
                table.extend_from_slice(&block.max_time.to_le_bytes());
            }
        }
        out.compressed(&table)
    }
}

/// A batch's resources (with their services) and scopes as numbered in the segment.
struct BatchNumbers {
    resources: Vec<(u32, u32)>,
    scopes: Vec<u32>,
}

fn write_body(out: &mut Output, head: &Head) -> anyhow::Result<Footer> {
    // Sorted by a copy of the key: comparing through the rows' pointers missed the cache.
    let mut keyed: Vec<([u8; 16], i64, usize, &SpanRow)> = head
        .spans()
        .map(|(b, span)| (span.trace_id, span.start, b, span))
        .collect();
    keyed.sort_unstable_by_key(|&(trace_id, start, _, _)| (trace_id, start));
    let spans: Vec<(usize, &SpanRow)> =
        keyed.into_iter().map(|(_, _, b, span)| (b, span)).collect();

    // Resources, scopes and services numbered once per batch, not per span.
    let mut resources = Numbering::default();
    let mut scopes = Numbering::default();
    let mut strings = Numbering::default();
    let batches = head.batches();
    let numbered: Vec<BatchNumbers> = batches
        .iter()
        .map(|batch| BatchNumbers {
            resources: batch
                .resources()
                .iter()
                .map(|part| {
                    (
                        resources.number(batch.body_of(part)),
                        strings.number(batch.service_of(part).as_bytes()),
                    )
                })
                .collect(),
            scopes: batch
                .scopes()
                .iter()
                .map(|part| scopes.number(batch.body_of(part)))
                .collect(),
        })
        .collect();
    let mut operations = BTreeSet::new();
    let mut postings = PostingLists::with_capacity(spans.len());
    let mut columns = Vec::with_capacity(spans.len() * 16);
    let mut traces: Vec<TraceRow> = Vec::new();
    let mut blocks = Blocks::new();
    let mut min_start = i64::MAX;
    let mut max_start = i64::MIN;

    for (number, &(b, span)) in spans.iter().enumerate() {
        let number = number as u32;
        let batch = &batches[b];
        let (resource, service) = numbered[b].resources[span.resource as usize];
        let scope = numbered[b].scopes[span.scope as usize];
        let name = strings.number(batch.name_of(span).as_bytes());
        operations.insert((service, name));
        for &term in batch
            .span_terms(span)
            .iter()
            .chain(batch.resource_terms(span))
        {
            postings.add(term, number);
        }
        columns.extend_from_slice(&span.start.to_le_bytes());
        columns.extend_from_slice(&span.end.to_le_bytes());
        min_start = min_start.min(span.start);
        max_start = max_start.max(span.start);

        let is_root = span.parent_span_id.is_none();
        match traces.last_mut() {
            Some(trace) if trace.id == span.trace_id => {
                trace.spans += 1;
                trace.max_start = trace.max_start.max(span.start);
                trace.max_end = trace.max_end.max(span.end);
                trace.error |= span.error;
                if is_root && trace.root_name.is_none() {
                    trace.root_name = Some(name);
                    trace.service = service;
                }
            }
            _ => traces.push(TraceRow {
                id: span.trace_id,
                first: number,
                spans: 1,
                // Spans come by start time within a trace: the first is the earliest.
                min_start: span.start,
                max_start: span.start,
                max_end: span.end,
                error: span.error,
                root_name: is_root.then_some(name),
                service,
            }),
        }

        let body = batch.span_body(span);
        let block = blocks.item(span.start);
        block.extend_from_slice(&span.span_id);
        block.extend_from_slice(&span.start.to_le_bytes());
        prost::encoding::encode_varint(u64::from(resource), block);
        prost::encoding::encode_varint(u64::from(scope), block);
        prost::encoding::encode_varint(body.len() as u64, block);
        block.extend_from_slice(body);
        blocks.end_item(out, number + 1)?;
    }
    let mut sections = [Place::default(); SECTIONS];
    sections[Section::Blocks as usize] = blocks.finish(out, false)?;
    let logs = write_logs(out, head, &numbered, &mut sections)?;

    let mut section = Vec::new();
    section.extend_from_slice(&(resources.items.len() as u32).to_le_bytes());
    for body in &resources.items {
        put_sized(&mut section, body);
    }
    section.extend_from_slice(&(scopes.items.len() as u32).to_le_bytes());
    for body in &scopes.items {
        put_sized(&mut section, body);
    }
    sections[Section::Parts as usize] = out.compressed(&section)?;

    section.clear();
    section.extend_from_slice(&(strings.items.len() as u32).to_le_bytes());
    for string in &strings.items {
        put_sized(&mut section, string);
    }
    sections[Section::Strings as usize] = out.compressed(&section)?;

    section.clear();
    for trace in &traces {
        trace.write(&mut section);
    }
    sections[Section::Traces as usize] = out.compressed(&section)?;

    section.clear();
    for (service, name) in &operations {
        section.extend_from_slice(&service.to_le_bytes());
        section.extend_from_slice(&name.to_le_bytes());
    }
    sections[Section::Operations as usize] = out.compressed(&section)?;

    (
        sections[Section::Terms as usize],
        sections[Section::Postings as usize],
    ) = postings.write(out)?;
    sections[Section::Columns as usize] = out.compressed(&columns)?;

    Ok(Footer {
        sequence: head.sequence,
        spans: spans.len() as u64,
        traces: traces.len() as u64,
        min_start,
        max_start,
        logs: logs.count,
        min_log_time: logs.min_time,
        max_log_time: logs.max_time,
        sections,
    })
}

/// What [`write_logs`] wrote.
struct LogsWritten {
    count: u64,
    min_time: i64,
    max_time: i64,
}

/// Writes the head's log records (sorted by time, then identity) in blocks, with their
/// block table and their terms (service, trace, session); fills in their sections.
fn write_logs(
    out: &mut Output,
    head: &Head,
    numbered: &[BatchNumbers],
    sections: &mut [Place; SECTIONS],
) -> anyhow::Result<LogsWritten> {
    let mut logs: Vec<(i64, u64, usize, &LogRow)> = head
        .logs()
        .map(|(b, log)| (log.time, log.identity, b, log))
        .collect();
    logs.sort_unstable_by_key(|&(time, identity, _, _)| (time, identity));
    let batches = head.batches();
    let mut blocks = Blocks::new();
    let mut postings = PostingLists::with_capacity(logs.len());
    for (number, &(_, _, b, log)) in logs.iter().enumerate() {
        let number = number as u32;
        let batch = &batches[b];
        let (resource, _) = numbered[b].resources[log.resource as usize];
        let scope = numbered[b].scopes[log.scope as usize];
        let service = batch.service_of(&batch.resources()[log.resource as usize]);
        postings.add(terms::service(service), number);
        if let Some(trace_id) = &log.trace_id {
            postings.add(terms::trace(trace_id), number);
        }
        if let Some(session) = log.session {
            postings.add(session, number);
        }
        let body = batch.log_body(log);
        let block = blocks.item(log.time);
        block.extend_from_slice(&log.identity.to_le_bytes());
        block.extend_from_slice(&log.time.to_le_bytes());
        block.push(log.severity);
        prost::encoding::encode_varint(u64::from(resource), block);
        prost::encoding::encode_varint(u64::from(scope), block);
        prost::encoding::encode_varint(body.len() as u64, block);
        block.extend_from_slice(body);
        blocks.end_item(out, number + 1)?;
    }
    sections[Section::LogBlocks as usize] = blocks.finish(out, true)?;
    (
        sections[Section::LogTerms as usize],
        sections[Section::LogPostings as usize],
    ) = postings.write(out)?;
    Ok(LogsWritten {
        count: logs.len() as u64,
        min_time: logs.first().map_or(i64::MAX, |l| l.0),
        max_time: logs.last().map_or(i64::MIN, |l| l.0),
    })
}
