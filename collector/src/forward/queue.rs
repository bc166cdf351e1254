//! The forwarding queue on disk: what was accepted, as protobuf export requests, in
//! segment files (`forward/<sequence>.queue`) framed like the store's write-ahead log
//! (length, CRC-32, payload), with one read position per upstream (`forward/<id>.cursor`).
//!
//! ```text
//! append (group commit, fdatasync) ─> 00…07.queue  00…08.queue  00…09.queue <─ appended to
//!                                         ^ upstream B's cursor     ^ upstream A's cursor
//! ```
//!
//! An append is acknowledged once it is on stable storage. Each upstream reads from its
//! cursor, and moves it past what it delivered (or what its upstream refused for good);
//! a segment every cursor has passed is deleted. Beyond the byte bound the oldest segment
//! is deleted whatever the cursors, and the records it still held for each upstream are
//! counted as dropped. A cursor is written (renamed into place) after each delivery
//! without a sync: after a crash it may be behind, so records are delivered at least
//! once, never skipped. At start-up the last segment's torn tail (an append never
//! acknowledged) is cut.
//!
//! A payload is the signal (`u8`: 0 traces, 1 logs), the item count (`u32`), the time it
//! was queued (Unix milliseconds, `u64`), all little-endian, then the request body.
//! Records of one signal in a row concatenate into one request: protobuf's repeated
//! fields (`resource_spans`, `resource_logs`) join when their encodings do.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::metrics::SignalName;
use crate::store::wal::{self, FRAME_HEADER, Log};

/// The bytes of a payload before the request body.
const PAYLOAD_HEADER: usize = 1 + 4 + 8;

/// Where a record starts (or the queue ends), in order: a segment and an offset in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// The segment's sequence number.
    pub segment: u64,
    /// Bytes into it.
    pub offset: u64,
}

/// A request accepted for forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Traces or logs.
    pub signal: SignalName,
    /// Its spans or log records.
    pub items: u32,
    /// When it was queued, Unix milliseconds.
    pub queued_ms: u64,
    /// The protobuf export request.
    pub body: Vec<u8>,
}

impl Record {
    fn write(&self, out: &mut Vec<u8>) {
        out.push(match self.signal {
            SignalName::Traces => 0,
            SignalName::Logs => 1,
        });
        out.extend_from_slice(&self.items.to_le_bytes());
        out.extend_from_slice(&self.queued_ms.to_le_bytes());
        out.extend_from_slice(&self.body);
    }

    /// The header of a payload: signal, items, time queued.
    fn header(payload: &[u8]) -> Option<(SignalName, u32, u64)> {
        let signal = match payload.first()? {
            0 => SignalName::Traces,
            1 => SignalName::Logs,
            _ => return None,
        };
        let items = u32::from_le_bytes(payload.get(1..5)?.try_into().ok()?);
        let queued_ms = u64::from_le_bytes(payload.get(5..13)?.try_into().ok()?);
        Some((signal, items, queued_ms))
    }
}

/// Consecutive records of one signal read for one upstream, joined into one request.
#[derive(Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Their signal.
    pub signal: SignalName,
    /// Their spans or log records.
    pub items: u64,
    /// When the oldest was queued, Unix milliseconds.
    pub oldest_ms: u64,
    /// The joined export request.
    pub body: Vec<u8>,
    /// Where the first starts.
    pub start: Position,
    /// Where the record after them starts: the cursor once they are delivered.
    pub end: Position,
}

/// Records deleted before an upstream read them (the queue was full).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// The upstream's index.
    pub upstream: usize,
    /// Their signal.
    pub signal: SignalName,
    /// Their spans or log records.
    pub items: u64,
}

/// A segment file and its length (what is durable of the last one).
#[derive(Debug, Clone, Copy)]
struct Segment {
    sequence: u64,
    len: u64,
}

#[derive(Debug)]
struct State {
    /// Oldest first; the last is appended to. Never empty.
    segments: VecDeque<Segment>,
    /// Each upstream's read position.
    cursors: Vec<Position>,
}

impl State {
    fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.len).sum()
    }

    fn end(&self) -> Position {
        let last = self.segments.back().expect("a queue has a segment");
        Position {
            segment: last.sequence,
            offset: last.len,
        }
    }
}

/// The queue; shared by the writer thread (appends) and the upstreams (reads).
pub struct Queue {
    dir: PathBuf,
    max_bytes: u64,
    segment_bytes: u64,
    cursor_names: Vec<String>,
    state: Mutex<State>,
    /// The segment appended to; only the appending thread takes it.
    log: Mutex<Log>,
    _lock: File,
}

impl Queue {
    /// Opens (or creates) the queue in `dir` for upstreams identified by `upstream_ids`
    /// (stable names: a cursor file each), bounded to about `max_bytes` on disk.
    pub fn open(dir: &Path, upstream_ids: &[String], max_bytes: u64) -> anyhow::Result<Queue> {
        fs::create_dir_all(dir)?;
        let lock = File::create(dir.join("LOCK"))?;
        if lock.try_lock().is_err() {
            anyhow::bail!(
                "{} is in use by another collector (each needs its own --data-dir)",
                dir.display()
            );
        }
        let mut sequences: Vec<u64> = fs::read_dir(dir)?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name();
                name.to_str()?.strip_suffix(".queue")?.parse().ok()
            })
            .collect();
        sequences.sort_unstable();
        let mut segments = VecDeque::new();
        for (i, &sequence) in sequences.iter().enumerate() {
            let path = dir.join(file_name(sequence));
            if i + 1 == sequences.len() {
                // Only the last segment can end with a torn append.
                wal::replay(&path, |_| Ok(()))?;
            }
            let len = fs::metadata(&path)?.len();
            segments.push_back(Segment { sequence, len });
        }
        let log = match segments.back() {
            Some(last) => Log::append_to(&dir.join(file_name(last.sequence)))?,
            None => {
                segments.push_back(Segment {
                    sequence: 1,
                    len: 0,
                });
                Log::create_named(dir, &file_name(1))?
            }
        };
        let mut state = State {
            segments,
            cursors: Vec::new(),
        };
        let cursor_names: Vec<String> = upstream_ids
            .iter()
            .map(|id| format!("{id}.cursor"))
            .collect();
        for name in &cursor_names {
            let saved = fs::read_to_string(dir.join(name))
                .ok()
                .and_then(|text| parse_cursor(&text));
            let first = Position {
                segment: state.segments[0].sequence,
                offset: 0,
            };
            let cursor = saved.map_or(first, |c| c.clamp(first, state.end()));
            state.cursors.push(cursor);
        }
        Ok(Queue {
            dir: dir.to_owned(),
            max_bytes,
            // Small enough that dropping the oldest frees a fraction of the bound.
            segment_bytes: (max_bytes / 8).clamp(64 << 10, 64 << 20),
            cursor_names,
            state: Mutex::new(state),
            log: Mutex::new(log),
            _lock: lock,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `records` with one sync (the caller's group commit): when this returns
    /// `Ok` they are on stable storage. Then keeps the queue within its bound, deleting
    /// the oldest segments, and returns what that dropped for each upstream.
    pub fn append(&self, records: &[Record]) -> io::Result<Vec<Dropped>> {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.append(|frames| {
            for record in records {
                frames.frame(|out| record.write(out));
            }
        })?;
        let len = log.len();
        let mut state = self.state();
        state.segments.back_mut().expect("a segment").len = len;
        if len >= self.segment_bytes {
            let sequence = state.end().segment + 1;
            *log = Log::create_named(&self.dir, &file_name(sequence))?;
            state.segments.push_back(Segment { sequence, len: 0 });
        }
        let mut dropped = Vec::new();
        while state.bytes() > self.max_bytes && state.segments.len() > 1 {
            let oldest = state.segments.pop_front().expect("two segments");
            let next = Position {
                segment: state.segments[0].sequence,
                offset: 0,
            };
            let path = self.dir.join(file_name(oldest.sequence));
            for (upstream, cursor) in state.cursors.iter_mut().enumerate() {
                if *cursor < next {
                    for (signal, items) in count_from(&path, cursor.offset, oldest.len) {
                        dropped.push(Dropped {
                            upstream,
                            signal,
                            items,
                        });
                    }
                    *cursor = next;
                }
            }
            remove(&path);
        }
        Ok(dropped)
    }

    /// Reads, for upstream `upstream`, the records from its cursor on: those of the
    /// first one's signal in a row, up to about `max_bytes` of body (at least one).
    /// `None` when it has read everything.
    pub fn read(&self, upstream: usize, max_bytes: usize) -> io::Result<Option<Chunk>> {
        let (mut at, segments) = {
            let state = self.state();
            (state.cursors[upstream], state.segments.clone())
        };
        let mut chunk: Option<Chunk> = None;
        let mut buffer = Vec::new();
        let from = at.segment;
        for segment in segments.iter().filter(|s| s.sequence >= from) {
            if segment.sequence > at.segment {
                at = Position {
                    segment: segment.sequence,
                    offset: 0,
                };
            }
            let file = match File::open(self.dir.join(file_name(segment.sequence))) {
                Ok(file) => file,
                // Dropped meanwhile (the queue was full): the next segment follows.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            while at.offset + FRAME_HEADER as u64 <= segment.len {
                let mut header = [0; FRAME_HEADER];
                file.read_exact_at(&mut header, at.offset)?;
                let len = u32::from_le_bytes(header[..4].try_into().unwrap_or_default()) as u64;
                if at.offset + FRAME_HEADER as u64 + len > segment.len {
                    break;
                }
                buffer.resize(len as usize, 0);
                file.read_exact_at(&mut buffer, at.offset + FRAME_HEADER as u64)?;
                let crc = u32::from_le_bytes(header[4..].try_into().unwrap_or_default());
                let Some((signal, items, queued_ms)) =
                    Record::header(&buffer).filter(|_| crc32fast::hash(&buffer) == crc)
                else {
                    let damaged = format!(
                        "{}: a damaged record at byte {}",
                        file_name(segment.sequence),
                        at.offset
                    );
                    if segments
                        .back()
                        .is_some_and(|last| last.sequence > segment.sequence)
                    {
                        // The rest of this segment cannot be framed: go on with the next.
                        tracing::error!("{damaged}: the rest of that segment is skipped");
                        break;
                    }
                    return Err(io::Error::new(io::ErrorKind::InvalidData, damaged));
                };
                match &mut chunk {
                    Some(c) if c.signal != signal || c.body.len() >= max_bytes => {
                        return Ok(chunk);
                    }
                    Some(c) => {
                        c.items += u64::from(items);
                        c.body.extend_from_slice(&buffer[PAYLOAD_HEADER..]);
                    }
                    None => {
                        chunk = Some(Chunk {
                            signal,
                            items: u64::from(items),
                            oldest_ms: queued_ms,
                            body: buffer[PAYLOAD_HEADER..].to_vec(),
                            start: at,
                            end: at,
                        });
                    }
                }
                at.offset += FRAME_HEADER as u64 + len;
                if let Some(c) = &mut chunk {
                    c.end = at;
                }
            }
        }
        Ok(chunk)
    }

    /// Moves upstream `upstream`'s cursor to `to` (if that is forward: the queue may
    /// have dropped past it meanwhile), saves it, and deletes the segments every cursor
    /// has passed.
    pub fn advance(&self, upstream: usize, to: Position) -> io::Result<()> {
        let mut state = self.state();
        // The end of a finished segment is the start of the next.
        let mut to = to;
        if let Some(i) = state.segments.iter().position(|s| s.sequence == to.segment)
            && to.offset >= state.segments[i].len
            && let Some(next) = state.segments.get(i + 1)
        {
            to = Position {
                segment: next.sequence,
                offset: 0,
            };
        }
        let cursor = &mut state.cursors[upstream];
        if to <= *cursor {
            return Ok(());
        }
        *cursor = to;
        let name = &self.cursor_names[upstream];
        let temporary = self.dir.join(format!("{name}.tmp"));
        fs::write(&temporary, format!("{} {}\n", to.segment, to.offset))?;
        fs::rename(&temporary, self.dir.join(name))?;
        let oldest_needed = state
            .cursors
            .iter()
            .map(|c| c.segment)
            .min()
            .unwrap_or(u64::MAX);
        while state.segments.len() > 1 && state.segments[0].sequence < oldest_needed {
            let done = state.segments.pop_front().expect("two segments");
            remove(&self.dir.join(file_name(done.sequence)));
        }
        Ok(())
    }

    /// Whether the records from `start` on are still queued for upstream `upstream`:
    /// `false` once the full queue dropped them (its cursor moved past).
    pub fn holds(&self, upstream: usize, start: Position) -> bool {
        self.state().cursors[upstream] <= start
    }

    /// Bytes of the queue on disk.
    pub fn bytes(&self) -> u64 {
        self.state().bytes()
    }

    /// Bytes upstream `upstream` has yet to read.
    pub fn pending_bytes(&self, upstream: usize) -> u64 {
        let state = self.state();
        let cursor = state.cursors[upstream];
        state
            .segments
            .iter()
            .filter(|s| s.sequence >= cursor.segment)
            .map(|s| {
                if s.sequence == cursor.segment {
                    s.len.saturating_sub(cursor.offset)
                } else {
                    s.len
                }
            })
            .sum()
    }

    /// The bound on the queue's bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }
}

/// The file name of segment `sequence`.
fn file_name(sequence: u64) -> String {
    format!("{sequence:020}.queue")
}

/// A cursor file's position (`<segment> <offset>`).
fn parse_cursor(text: &str) -> Option<Position> {
    let (segment, offset) = text.trim().split_once(' ')?;
    Some(Position {
        segment: segment.parse().ok()?,
        offset: offset.parse().ok()?,
    })
}

/// The items of each signal in the records of a segment from `offset` to `len`.
fn count_from(path: &Path, offset: u64, len: u64) -> Vec<(SignalName, u64)> {
    let mut counts: Vec<(SignalName, u64)> = Vec::new();
    let Ok(file) = File::open(path) else {
        return counts;
    };
    let mut at = offset;
    let mut header = [0; FRAME_HEADER + PAYLOAD_HEADER];
    while at + header.len() as u64 <= len && file.read_exact_at(&mut header, at).is_ok() {
        let frame = u32::from_le_bytes(header[..4].try_into().unwrap_or_default()) as u64;
        let Some((signal, items, _)) = Record::header(&header[FRAME_HEADER..]) else {
            break;
        };
        match counts.iter_mut().find(|(s, _)| *s == signal) {
            Some((_, n)) => *n += u64::from(items),
            None => counts.push((signal, u64::from(items))),
        }
        at += FRAME_HEADER as u64 + frame;
    }
    counts
}

/// Deletes a segment; a failure is logged (the file is then only disk space).
fn remove(path: &Path) {
    if let Err(error) = fs::remove_file(path)
        && error.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), %error, "cannot delete a forwarding queue segment");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(signal: SignalName, items: u32, body: &[u8]) -> Record {
        Record {
            signal,
            items,
            queued_ms: 1_000 + u64::from(items),
            body: body.to_vec(),
        }
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("upstream-{i}")).collect()
    }

    #[test]
    fn each_upstream_reads_runs_of_one_signal_and_resumes_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::open(dir.path(), &ids(2), 1 << 30).unwrap();
        assert_eq!(queue.read(0, 1 << 20).unwrap(), None);
        queue
            .append(&[
                record(SignalName::Traces, 2, b"ab"),
                record(SignalName::Traces, 3, b"cde"),
                record(SignalName::Logs, 1, b"L"),
            ])
            .unwrap();
        let first = queue.read(0, 1 << 20).unwrap().unwrap();
        assert_eq!(
            (first.signal, first.items, first.oldest_ms, &first.body[..]),
            (SignalName::Traces, 5, 1_002, &b"abcde"[..])
        );
        queue.advance(0, first.end).unwrap();
        let logs = queue.read(0, 1 << 20).unwrap().unwrap();
        assert_eq!((logs.signal, &logs.body[..]), (SignalName::Logs, &b"L"[..]));
        // The other upstream has read nothing yet.
        assert_eq!(queue.read(1, 1 << 20).unwrap().unwrap().items, 5);
        // A small limit still reads one record.
        assert_eq!(queue.read(1, 1).unwrap().unwrap().body, b"ab");
        drop(queue);

        let queue = Queue::open(dir.path(), &ids(2), 1 << 30).unwrap();
        assert_eq!(queue.read(0, 1 << 20).unwrap().unwrap().body, b"L");
        assert_eq!(queue.read(1, 1 << 20).unwrap().unwrap().body, b"abcde");
    }

    #[test]
    fn segments_every_upstream_passed_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        // 64 KiB segments.
        let queue = Queue::open(dir.path(), &ids(1), 512 << 10).unwrap();
        let body = vec![7; 40 << 10];
        for _ in 0..4 {
            queue
                .append(&[record(SignalName::Traces, 1, &body)])
                .unwrap();
        }
        let files = || {
            fs::read_dir(dir.path())
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_str()
                        .unwrap()
                        .ends_with(".queue")
                })
                .count()
        };
        assert_eq!(files(), 3);
        let mut delivered = 0;
        while let Some(chunk) = queue.read(0, 1).unwrap() {
            delivered += chunk.items;
            queue.advance(0, chunk.end).unwrap();
        }
        assert_eq!(delivered, 4);
        assert_eq!(files(), 1);
        assert_eq!(queue.pending_bytes(0), 0);
    }

    #[test]
    fn beyond_the_bound_the_oldest_are_dropped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        // Bound 512 KiB, 64 KiB segments: each append of 40 KiB fills one in two.
        let queue = Queue::open(dir.path(), &ids(2), 512 << 10).unwrap();
        let body = vec![1; 40 << 10];
        let mut dropped = Vec::new();
        for _ in 0..40 {
            dropped.extend(queue.append(&[record(SignalName::Logs, 3, &body)]).unwrap());
        }
        assert!(queue.bytes() <= 512 << 10, "{}", queue.bytes());
        let lost: u64 = dropped
            .iter()
            .filter(|d| d.upstream == 1)
            .map(|d| d.items)
            .sum();
        let mut kept = 0;
        while let Some(chunk) = queue.read(1, 1 << 20).unwrap() {
            kept += chunk.items;
            queue.advance(1, chunk.end).unwrap();
        }
        assert_eq!(lost + kept, 120);
        assert!(!queue.holds(1, Position::default()));
        assert!(lost > 0 && kept > 0);
        assert!(dropped.iter().all(|d| d.signal == SignalName::Logs));
    }

    #[test]
    fn a_torn_append_is_cut_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::open(dir.path(), &ids(1), 1 << 30).unwrap();
        queue
            .append(&[record(SignalName::Traces, 1, b"whole")])
            .unwrap();
        drop(queue);
        let path = dir.path().join(file_name(1));
        let mut bytes = fs::read(&path).unwrap();
        bytes.extend_from_slice(&[40, 0, 0, 0, 1, 2, 3]);
        fs::write(&path, bytes).unwrap();
        let queue = Queue::open(dir.path(), &ids(1), 1 << 30).unwrap();
        let chunk = queue.read(0, 1 << 20).unwrap().unwrap();
        assert_eq!(chunk.body, b"whole");
        queue.advance(0, chunk.end).unwrap();
        queue
            .append(&[record(SignalName::Traces, 1, b"next")])
            .unwrap();
        assert_eq!(queue.read(0, 1 << 20).unwrap().unwrap().body, b"next");
    }

    #[test]
    fn a_damaged_segment_is_skipped_for_the_next() {
        let dir = tempfile::tempdir().unwrap();
        // 64 KiB segments: the second append rolls to a new one.
        let queue = Queue::open(dir.path(), &ids(1), 512 << 10).unwrap();
        let body = vec![3; 40 << 10];
        queue
            .append(&[record(SignalName::Traces, 1, &body)])
            .unwrap();
        queue
            .append(&[record(SignalName::Traces, 2, &body)])
            .unwrap();
        queue
            .append(&[record(SignalName::Logs, 4, b"after")])
            .unwrap();
        let first = dir.path().join(file_name(1));
        let mut bytes = fs::read(&first).unwrap();
        let second_record = FRAME_HEADER + PAYLOAD_HEADER + body.len();
        bytes[second_record + FRAME_HEADER + 20] ^= 1;
        fs::write(&first, bytes).unwrap();
        let mut read = Vec::new();
        while let Some(chunk) = queue.read(0, 1).unwrap() {
            read.push((chunk.signal, chunk.items));
            queue.advance(0, chunk.end).unwrap();
        }
        assert_eq!(read, [(SignalName::Traces, 1), (SignalName::Logs, 4)]);
    }

    #[test]
    fn a_second_collector_cannot_open_the_same_queue() {
        let dir = tempfile::tempdir().unwrap();
        let _queue = Queue::open(dir.path(), &ids(1), 1 << 30).unwrap();
        let Err(error) = Queue::open(dir.path(), &ids(1), 1 << 30) else {
            panic!("opened twice");
        };
        assert!(error.to_string().contains("in use"), "{error}");
    }
}
