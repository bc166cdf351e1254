//! The store's two threads. The writer takes every request waiting in its queue, appends
//! their records to the write-ahead log with one `fdatasync` (group commit), adds them to
//! the head, and only then acknowledges each; it seals the head when it is full or old,
//! and applies retention. The segment builder writes sealed heads out as segments and
//! then deletes their logs.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};

use super::batch::Batch;
use super::head::Head;
use super::retention::{self, Retention, SegmentSize};
use super::segment::{self, Segment};
use super::wal::{self, Log};
use super::{Dirs, Shared, StoreError};

/// Most requests committed with one sync.
const MAX_GROUP_REQUESTS: usize = 64;

/// A group stops growing once it holds this many spans and log records.
const MAX_GROUP_ITEMS: usize = 50_000;

/// A head is sealed (written out as a segment) once it holds `--segment-spans` spans
/// (see [`seal_spans`]), or this many bytes of memory ...
pub(super) const SEGMENT_MEMORY: usize = 64 << 20;

/// ... or once its first span arrived this long ago.
const SEGMENT_AGE: Duration = Duration::from_secs(300);

/// Sealed heads that may wait to be written out; writes are refused beyond that.
pub(super) const MAX_SEALED: usize = 3;

/// How long the builder waits before trying again after failing to write a segment.
const BUILD_RETRY: Duration = Duration::from_secs(5);

/// What the writer thread is asked to do.
pub(super) enum Command {
    /// Store a batch, then report the outcome.
    Write {
        /// The spans.
        batch: Batch,
        /// Where the outcome goes once durable (or failed).
        ack: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Apply retention and seal an old head now (for idle periods).
    Sweep,
    /// Finish the writes already queued, then exit.
    Stop,
}

/// The writer's state.
pub(super) struct Writer {
    pub(super) shared: Arc<Shared>,
    pub(super) dirs: Dirs,
    pub(super) log: Log,
    pub(super) retention: Retention,
    pub(super) builder: std::sync::mpsc::Sender<Arc<Head>>,
    pub(super) head_since: Instant,
    pub(super) seal_spans: u64,
}

impl Writer {
    /// Serves commands until [`Command::Stop`] or until every sender is gone.
    pub(super) fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        while let Some(first) = commands.blocking_recv() {
            let mut group = Vec::new();
            let mut items = 0;
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Write { batch, ack } => {
                        items += batch.len();
                        group.push((batch, ack));
                    }
                    Command::Sweep => {}
                    // Refuse new commands; those already queued are still served.
                    Command::Stop => commands.close(),
                }
                if group.len() < MAX_GROUP_REQUESTS && items < MAX_GROUP_ITEMS {
                    next = commands.try_recv().ok();
                }
            }
            if !group.is_empty() {
                self.commit(group);
            }
            self.maybe_seal();
            self.apply_retention();
        }
        tracing::debug!("store writer stopped");
    }

    fn commit(&mut self, group: Vec<(Batch, oneshot::Sender<Result<(), StoreError>>)>) {
        if self.shared.read_state().is_behind() {
            // Memory stays bounded while segments cannot be written (a full disk).
            let error = StoreError::behind();
            for (_, ack) in group {
                let _ = ack.send(Err(error.clone()));
            }
            return;
        }
        let outcome = self.log.append(|frames| {
            for (batch, _) in &group {
                frames.frame(|out| batch.record(out));
            }
        });
        let outcome = outcome.map_err(|error| {
            tracing::error!(%error, "appending to the write-ahead log failed; the requests get 503");
            StoreError::from_io(&error)
        });
        self.shared.set_failure(outcome.clone().err());
        let mut acks = Vec::with_capacity(group.len());
        if outcome.is_ok() {
            let mut state = self.shared.write_state();
            if state.head.item_count() == 0 {
                self.head_since = Instant::now();
            }
            for (batch, ack) in group {
                state.head.add(batch);
                acks.push(ack);
            }
        } else {
            acks.extend(group.into_iter().map(|(_, ack)| ack));
        }
        for ack in acks {
            // The request may have gone (client disconnected): nothing to tell then.
            let _ = ack.send(outcome.clone());
        }
    }

    /// Seals the head when it is full or old: a new log takes the writes, and the
    /// builder writes the sealed head out.
    fn maybe_seal(&mut self) {
        let full = {
            let state = self.shared.read_state();
            let head = &state.head;
            head.item_count() > 0
                && (head.item_count() >= self.seal_spans
                    || head.memory() >= SEGMENT_MEMORY
                    || self.head_since.elapsed() >= SEGMENT_AGE)
        };
        if !full {
            return;
        }
        let sequence = self.shared.read_state().head.sequence + 1;
        let log = match Log::create(&self.dirs.wal, sequence) {
            Ok(log) => log,
            Err(error) => {
                tracing::error!(%error, "cannot start a new write-ahead log; the head grows");
                return;
            }
        };
        self.log = log;
        let sealed = {
            let mut state = self.shared.write_state();
            let sealed = Arc::new(std::mem::replace(&mut state.head, Head::new(sequence)));
            state.sealed.push(Arc::clone(&sealed));
            sealed
        };
        let _ = self.builder.send(sealed);
    }

    /// Deletes the segments retention no longer keeps.
    fn apply_retention(&mut self) {
        let doomed = {
            let state = self.shared.read_state();
            let sizes: Vec<SegmentSize> = state
                .segments
                .iter()
                .map(|s| SegmentSize {
                    sequence: s.sequence(),
                    items: s.span_count() + s.log_count(),
                    bytes: s.bytes_on_disk(),
                    max_time: s.max_time(),
                })
                .collect();
            let live_items =
                state.head.item_count() + state.sealed.iter().map(|h| h.item_count()).sum::<u64>();
            retention::expired(
                &self.retention,
                &sizes,
                live_items,
                self.log.len(),
                now_unix_nanos(),
            )
        };
        if doomed.is_empty() {
            return;
        }
        let removed: Vec<Arc<Segment>> = {
            let mut state = self.shared.write_state();
            let (gone, kept) = std::mem::take(&mut state.segments)
                .into_iter()
                .partition(|s| doomed.contains(&s.sequence()));
            state.segments = kept;
            gone
        };
        let spans: u64 = removed.iter().map(|s| s.span_count()).sum();
        let logs: u64 = removed.iter().map(|s| s.log_count()).sum();
        for segment in &removed {
            // Queries still reading it keep their open file.
            if let Err(error) = std::fs::remove_file(segment.path()) {
                tracing::error!(%error, path = %segment.path().display(), "cannot delete a segment");
            }
        }
        let _ = wal::sync_dir(&self.dirs.segments);
        tracing::info!(
            segments = removed.len(),
            spans,
            logs,
            "retention deleted segments"
        );
    }
}

/// Spans and log records at which a head is sealed: `segment_spans`, or fewer when count
/// retention keeps few, so that it can delete in steps of about a quarter of its limit.
pub(super) fn seal_spans(retention: &Retention, segment_spans: u64) -> u64 {
    let segment_spans = segment_spans.max(1);
    retention
        .max_spans
        .map_or(segment_spans, |max| (max / 4).clamp(1, segment_spans))
}

/// Writes sealed heads out as segments, in order, until the writer is gone; retries a
/// failed write (a full disk) until it succeeds, the head staying queryable meanwhile.
/// After each segment it asks the writer (through `sweeps`) to apply retention: the
/// segment may take the store past a limit with no commit coming to notice.
pub(super) fn build_segments(
    shared: Arc<Shared>,
    dirs: Dirs,
    sealed: std::sync::mpsc::Receiver<Arc<Head>>,
    sweeps: mpsc::WeakSender<Command>,
) {
    for head in sealed {
        loop {
            let started = Instant::now();
            let built =
                segment::write::write(&dirs.segments, &head).and_then(|path| Segment::open(&path));
            match built {
                Ok(segment) => {
                    tracing::debug!(
                        sequence = head.sequence,
                        spans = head.span_count(),
                        logs = head.log_count(),
                        bytes = segment.bytes_on_disk(),
                        elapsed = ?started.elapsed(),
                        "segment written"
                    );
                    {
                        let mut state = shared.write_state();
                        state.sealed.retain(|h| h.sequence != head.sequence);
                        let at = state
                            .segments
                            .partition_point(|s| s.sequence() < segment.sequence());
                        state.segments.insert(at, Arc::new(segment));
                    }
                    let log = dirs.wal.join(wal::file_name(head.sequence));
                    if let Err(error) =
                        std::fs::remove_file(&log).and_then(|()| wal::sync_dir(&dirs.wal))
                    {
                        tracing::error!(%error, path = %log.display(), "cannot delete a written-out log");
                    }
                    if let Some(writer) = sweeps.upgrade() {
                        // A full queue means the writer is busy committing, which
                        // applies retention.
                        let _ = writer.try_send(Command::Sweep);
                    }
                    break;
                }
                Err(error) if shared.is_closing() => {
                    tracing::error!(
                        error = format!("{error:#}"),
                        sequence = head.sequence,
                        "writing a segment failed at shutdown; its log is replayed at the next start"
                    );
                    break;
                }
                Err(error) => {
                    tracing::error!(
                        error = format!("{error:#}"),
                        sequence = head.sequence,
                        "writing a segment failed; retrying"
                    );
                    let _ = std::fs::remove_file(
                        dirs.segments
                            .join(format!("{}.tmp", segment::write::file_name(head.sequence))),
                    );
                    std::thread::sleep(BUILD_RETRY);
                }
            }
        }
    }
}

/// The wall clock in Unix nanoseconds.
pub(crate) fn now_unix_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}
