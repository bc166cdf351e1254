//! Durable span and log record storage: a write-ahead log with group commit in front of
//! immutable, indexed segment files.
//!
//! ```text
//! request ─> Batch ─> writer thread ─> wal/<n>.wal (fdatasync) ─> ack
//!                                   └> head (memory) ─sealed─> builder ─> segments/<n>.seg
//! ```
//!
//! A request is acknowledged once its record is on stable storage in the log. The head
//! holds the log's spans and log records in memory for queries; when it is full (or old) the writer
//! seals it and starts a new log, and the builder thread writes the sealed head out as a
//! segment (spans sorted by trace ID, compressed blocks, indexes) and then deletes its
//! log. At start-up, segments are opened (a damaged one is moved to `corrupt/` and
//! reported) and logs are replayed (a torn tail is cut). Retention deletes whole
//! segments. Queries read the head, sealed heads and segments (`read.rs`).

mod batch;
mod head;
mod logs;
mod otlp;
mod read;
mod retention;
mod segment;
mod terms;
pub(crate) mod wal;
mod writer;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

pub use batch::{Batch, LogRow, Part, SESSION_ID, SpanRow, UNKNOWN_SERVICE};
pub use logs::{LogQuery, StoredLogs};
pub use read::{MAX_LISTED_NAME_CHARS, StoredTrace, TraceFilter, TraceSummary, hex};
pub use retention::Retention;
pub(crate) use writer::now_unix_nanos;

use head::Head;
use read::{Source, TraceSpans};
use segment::Segment;
use wal::Log;
use writer::{Command, Writer};

/// The database file of collectors before the segment store; its presence stops start-up.
pub const LEGACY_DATABASE_FILE: &str = "traces.sqlite";

/// Requests that may wait in the writer's queue; senders wait beyond that.
const WRITE_QUEUE: usize = 64;

/// How long a client should wait before retrying a write that failed for a reason that
/// may pass ([`StoreError::Unavailable`]): a full disk needs someone to free space.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(10);

/// Why the store could not do something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The store is shutting down.
    Closed,
    /// The writer thread stopped unexpectedly (it panicked): nothing can be stored until
    /// the collector is restarted.
    WriterStopped,
    /// Storage cannot write now for a reason that may pass (the disk is full, an I/O
    /// error); the text says which. Retrying later may succeed.
    Unavailable(String),
    /// Reading failed (a damaged file); the text says how.
    Failed(String),
}

impl StoreError {
    /// Whether retrying the same request later may succeed, and after how long.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            StoreError::Closed => Some(Duration::from_secs(1)),
            StoreError::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER),
            StoreError::WriterStopped | StoreError::Failed(_) => None,
        }
    }

    /// Writes refused while too many sealed heads wait to be written out as segments.
    pub(crate) fn behind() -> StoreError {
        StoreError::Unavailable(
            "the store is behind writing segments (see the collector's log)".into(),
        )
    }

    /// A failed write: a full disk is named as such; every write error may pass.
    pub(crate) fn from_io(error: &std::io::Error) -> StoreError {
        if error.kind() == std::io::ErrorKind::StorageFull {
            StoreError::Unavailable(format!("the disk is full ({error})"))
        } else {
            StoreError::Unavailable(format!("a disk I/O error ({error})"))
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Closed => f.write_str("the collector is shutting down"),
            StoreError::WriterStopped => f.write_str(
                "the store's writer thread stopped unexpectedly (see the collector's log); restart the collector",
            ),
            StoreError::Unavailable(why) => {
                write!(f, "the collector cannot store spans now: {why}; retry later")
            }
            StoreError::Failed(why) => write!(f, "reading the store failed: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// The folders of a data directory.
#[derive(Debug, Clone)]
pub(crate) struct Dirs {
    wal: PathBuf,
    segments: PathBuf,
    corrupt: PathBuf,
}

/// What the threads and the queries share.
pub(crate) struct Shared {
    state: RwLock<State>,
    /// Why the latest write failed; `None` once one succeeds.
    last_failure: Mutex<Option<StoreError>>,
    closing: AtomicBool,
}

/// The sources of spans, newest last.
struct State {
    /// Spans of the current log.
    head: Head,
    /// Heads being written out as segments.
    sealed: Vec<Arc<Head>>,
    /// Segments, in arrival order.
    segments: Vec<Arc<Segment>>,
}

impl Shared {
    fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_failure(&self, failure: Option<StoreError>) {
        *self
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = failure;
    }

    fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }
}

impl State {
    /// Whether writes are refused until the builder writes a sealed head out.
    fn is_behind(&self) -> bool {
        self.sealed.len() >= writer::MAX_SEALED
    }

    /// Every source, oldest first.
    fn sources(&self) -> Vec<&dyn Source> {
        let mut sources: Vec<&dyn Source> = Vec::new();
        sources.extend(self.segments.iter().map(|s| &**s as &dyn Source));
        sources.extend(self.sealed.iter().map(|h| &**h as &dyn Source));
        sources.push(&self.head);
        sources
    }
}

/// What the store holds and what start-up found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreStatus {
    /// Spans stored (in segments and in memory).
    pub spans: u64,
    /// Log records stored (in segments and in memory).
    pub logs: u64,
    /// Segment files.
    pub segments: usize,
    /// Bytes of segments and logs on disk.
    pub bytes_on_disk: u64,
    /// Damaged segment files moved aside at start-up (paths under `corrupt/`).
    pub set_aside: Vec<String>,
}

/// How full the store's memory is: the head against the sizes that seal it, and the
/// sealed heads waiting to be written out as segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadStatus {
    /// Spans and log records in the head.
    pub items: u64,
    /// The count at which the head is sealed.
    pub seal_items: u64,
    /// About how many bytes of memory the head takes.
    pub memory: usize,
    /// The size at which the head is sealed.
    pub seal_memory: usize,
    /// Sealed heads waiting to be written out.
    pub sealed: usize,
    /// Sealed heads at which writes are refused (503).
    pub max_sealed: usize,
}

impl HeadStatus {
    /// How near the head is to being sealed, 0 to 1: its count or its memory, whichever
    /// is nearer its limit.
    pub fn fill(&self) -> f64 {
        let ratio = |n: f64, of: f64| if of > 0.0 { n / of } else { 0.0 };
        ratio(self.items as f64, self.seal_items as f64)
            .max(ratio(self.memory as f64, self.seal_memory as f64))
            .min(1.0)
    }
}

/// The store: cheap to share behind an `Arc`.
pub struct Store {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    set_aside: Vec<String>,
    dirs: Dirs,
    /// Spans and log records at which the head is sealed.
    seal_items: u64,
    /// Held until the store is closed: one collector per data directory.
    lock: Mutex<Option<File>>,
}

impl Store {
    /// Opens (or creates) the store in `dir`: opens its segments, replays its logs,
    /// applies retention, and starts the writer and builder threads. Heads are written
    /// out as segments of at most `segment_spans` spans.
    pub fn open(dir: &Path, retention: Retention, segment_spans: u64) -> anyhow::Result<Store> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create data directory {}: {e}", dir.display()))?;
        refuse_legacy(dir)?;
        let lock = File::create(dir.join("LOCK"))?;
        if lock.try_lock().is_err() {
            anyhow::bail!(
                "{} is in use by another collector (choose another --data-dir)",
                dir.display()
            );
        }
        let dirs = Dirs {
            wal: dir.join("wal"),
            segments: dir.join("segments"),
            corrupt: dir.join("corrupt"),
        };
        std::fs::create_dir_all(&dirs.wal)?;
        std::fs::create_dir_all(&dirs.segments)?;
        let started = Instant::now();
        let (segments, set_aside) = open_segments(&dirs)?;
        let newest_segment = segments.last().map_or(0, |s| s.sequence());
        let (mut heads, log) = replay_logs(&dirs, newest_segment)?;
        let head = match heads.last() {
            Some(last) if log.path.is_some() && last.sequence == log.sequence => {
                heads.pop().unwrap_or_else(|| Head::new(log.sequence))
            }
            _ => Head::new(log.sequence),
        };
        let log = match log.path {
            Some(path) => Log::append_to(&path)?,
            None => Log::create(&dirs.wal, head.sequence)?,
        };
        let spans = segments.iter().map(|s| s.span_count()).sum::<u64>()
            + heads.iter().map(Head::span_count).sum::<u64>()
            + head.span_count();
        let logs = segments.iter().map(|s| s.log_count()).sum::<u64>()
            + heads.iter().map(Head::log_count).sum::<u64>()
            + head.log_count();
        tracing::info!(
            segments = segments.len(),
            spans,
            logs,
            elapsed = ?started.elapsed(),
            "store opened"
        );
        let sealed: Vec<Arc<Head>> = heads.into_iter().map(Arc::new).collect();
        let shared = Arc::new(Shared {
            state: RwLock::new(State {
                head,
                sealed: sealed.clone(),
                segments,
            }),
            last_failure: Mutex::new(None),
            closing: AtomicBool::new(false),
        });
        let (to_builder, builder_queue) = std::sync::mpsc::channel();
        for head in sealed {
            let _ = to_builder.send(head);
        }
        let (commands, receiver) = mpsc::channel(WRITE_QUEUE);
        let builder = {
            let (shared, dirs) = (Arc::clone(&shared), dirs.clone());
            // Weak: the builder asks for retention after each segment, without keeping
            // the writer alive once the store is gone.
            let sweeps = commands.downgrade();
            std::thread::Builder::new()
                .name("store-builder".into())
                .spawn(move || writer::build_segments(shared, dirs, builder_queue, sweeps))?
        };
        let dirs_for_status = dirs.clone();
        let seal_items = writer::seal_spans(&retention, segment_spans);
        let writer = Writer {
            shared: Arc::clone(&shared),
            dirs,
            log,
            retention,
            builder: to_builder,
            head_since: Instant::now(),
            seal_spans: seal_items,
        };
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer.run(receiver))?;
        let store = Store {
            commands,
            shared,
            threads: Mutex::new(vec![writer, builder]),
            set_aside,
            dirs: dirs_for_status,
            seal_items,
            lock: Mutex::new(Some(lock)),
        };
        store.request_sweep();
        Ok(store)
    }

    /// Stores a batch; returns once it is on stable storage.
    pub async fn write(&self, batch: Batch) -> Result<(), StoreError> {
        let (ack, outcome) = oneshot::channel();
        self.commands
            .send(Command::Write { batch, ack })
            .await
            .map_err(|_| self.gone())?;
        outcome.await.map_err(|_| self.gone())?
    }

    /// Whether the store can write now: `Err` once the store is closing or its writer
    /// thread has stopped, or while its latest write failed and none has succeeded
    /// since (the reason it failed).
    pub fn health(&self) -> Result<(), StoreError> {
        if self.shared.is_closing() {
            return Err(StoreError::Closed);
        }
        let stopped = self
            .threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first()
            .is_none_or(JoinHandle::is_finished);
        if stopped {
            return Err(self.gone());
        }
        match &*self
            .shared
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Whether the store can take writes now: [`Store::health`], and not so far behind
    /// writing segments out that writes are refused.
    pub fn readiness(&self) -> Result<(), StoreError> {
        self.health()?;
        if self.shared.read_state().is_behind() {
            return Err(StoreError::behind());
        }
        Ok(())
    }

    /// How full the head is, and how many sealed heads wait.
    pub fn head_status(&self) -> HeadStatus {
        let state = self.shared.read_state();
        HeadStatus {
            items: state.head.item_count(),
            seal_items: self.seal_items,
            memory: state.head.memory(),
            seal_memory: writer::SEGMENT_MEMORY,
            sealed: state.sealed.len(),
            max_sealed: writer::MAX_SEALED,
        }
    }

    /// What the store holds.
    pub fn status(&self) -> StoreStatus {
        let state = self.shared.read_state();
        let heads = || std::iter::once(&state.head).chain(state.sealed.iter().map(|h| &**h));
        StoreStatus {
            spans: heads().map(Head::span_count).sum::<u64>()
                + state.segments.iter().map(|s| s.span_count()).sum::<u64>(),
            logs: heads().map(Head::log_count).sum::<u64>()
                + state.segments.iter().map(|s| s.log_count()).sum::<u64>(),
            segments: state.segments.len(),
            bytes_on_disk: state
                .segments
                .iter()
                .map(|s| s.bytes_on_disk())
                .sum::<u64>()
                + files_bytes(&self.dirs.wal),
            set_aside: self.set_aside.clone(),
        }
    }

    /// Why the writer no longer takes commands.
    fn gone(&self) -> StoreError {
        if self.shared.is_closing() {
            StoreError::Closed
        } else {
            StoreError::WriterStopped
        }
    }

    /// Asks the writer to apply retention now (without waiting for it).
    pub fn request_sweep(&self) {
        // A full queue means the writer is busy committing, which applies retention.
        let _ = self.commands.try_send(Command::Sweep);
    }

    /// Lets the writer finish what is queued and the builder write out what is sealed,
    /// then waits for both to stop. Later writes fail with [`StoreError::Closed`].
    pub async fn close(&self) {
        self.shared.closing.store(true, Ordering::Release);
        let _ = self.commands.send(Command::Stop).await;
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for thread in threads {
            if tokio::task::spawn_blocking(move || thread.join())
                .await
                .map_or(true, |joined| joined.is_err())
            {
                tracing::error!("a store thread panicked");
            }
        }
        self.lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// Lists traces (see [`TraceFilter`]).
    pub async fn list_traces(&self, filter: TraceFilter) -> Result<Vec<TraceSummary>, StoreError> {
        self.read(move |state| read::list_traces(&state.sources(), &filter))
            .await
    }

    /// The first `max_spans` spans of one trace by start time, as OTLP, with how many it
    /// has; `None` if none is stored.
    pub async fn trace(
        &self,
        trace_id: [u8; 16],
        max_spans: usize,
    ) -> Result<Option<StoredTrace>, StoreError> {
        self.read(move |state| {
            let mut spans = TraceSpans::default();
            for source in state.sources() {
                source.spans(&trace_id, &mut spans)?;
            }
            spans.finish(max_spans)
        })
        .await
    }

    /// The most recent log records that match `query` (see [`LogQuery`]).
    pub async fn logs(&self, query: LogQuery) -> Result<StoredLogs, StoreError> {
        self.read(move |state| logs::find(&state.sources(), &query))
            .await
    }

    /// Every service with its span names (operations).
    pub async fn operations(&self) -> Result<BTreeMap<String, BTreeSet<String>>, StoreError> {
        self.read(|state| Ok(read::operations(&state.sources())))
            .await
    }

    async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&State) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || query(&shared.read_state()))
            .await
            .map_err(|e| StoreError::Failed(e.to_string()))?
            .map_err(|e| StoreError::Failed(format!("{e:#}")))
    }
}

/// Bytes of the files in a directory (the logs).
fn files_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .map(|metadata| metadata.len())
        .sum()
}

/// Stops start-up on a data directory written by the SQLite store of earlier versions:
/// nothing is deleted or converted silently.
fn refuse_legacy(dir: &Path) -> anyhow::Result<()> {
    let legacy = dir.join(LEGACY_DATABASE_FILE);
    if legacy.exists() {
        let d = dir.display();
        anyhow::bail!(
            "{legacy} was written by an earlier collector, which kept spans in SQLite; this \
             collector keeps them in a write-ahead log and segments and does not read that \
             file. Its spans stay where they are: to start with an empty store here, move \
             the old files aside with\n    mkdir {d}/sqlite-store && mv {d}/{LEGACY_DATABASE_FILE}* {d}/sqlite-store/\n\
             or start with another --data-dir.",
            legacy = legacy.display(),
        );
    }
    Ok(())
}

/// Opens every segment, oldest first; a damaged one is moved to `corrupt/` (and named
/// in the second list), the others stay readable.
fn open_segments(dirs: &Dirs) -> anyhow::Result<(Vec<Arc<Segment>>, Vec<String>)> {
    let mut names: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&dirs.segments)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") {
            // A segment whose writing was cut short; its log is still there.
            std::fs::remove_file(dirs.segments.join(&name))?;
        } else if name.ends_with(".seg") {
            names.push(name);
        }
    }
    names.sort();
    let mut segments = Vec::new();
    let mut set_aside = Vec::new();
    for name in names {
        let path = dirs.segments.join(&name);
        match Segment::open(&path) {
            Ok(segment) => segments.push(Arc::new(segment)),
            Err(error) => {
                std::fs::create_dir_all(&dirs.corrupt)?;
                let aside = dirs.corrupt.join(&name);
                std::fs::rename(&path, &aside)?;
                tracing::error!(
                    error = format!("{error:#}"),
                    moved_to = %aside.display(),
                    "a damaged segment was set aside; its spans are not served"
                );
                set_aside.push(aside.display().to_string());
            }
        }
    }
    Ok((segments, set_aside))
}

/// The log to append to after replay: its sequence, and its path if it exists.
struct NextLog {
    sequence: u64,
    path: Option<PathBuf>,
}

/// Replays every log not yet written out as a segment, oldest first, into heads (a torn
/// tail is cut); deletes logs whose segment exists. The last log is the one to go on
/// appending to.
fn replay_logs(dirs: &Dirs, newest_segment: u64) -> anyhow::Result<(Vec<Head>, NextLog)> {
    let mut sequences: Vec<u64> = Vec::new();
    for entry in std::fs::read_dir(&dirs.wal)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(sequence) = wal::sequence_of(&name) {
            sequences.push(sequence);
        }
    }
    sequences.sort_unstable();
    let mut heads = Vec::new();
    let mut last = None;
    for sequence in sequences {
        let path = dirs.wal.join(wal::file_name(sequence));
        if sequence <= newest_segment
            && dirs
                .segments
                .join(segment::write::file_name(sequence))
                .exists()
        {
            // Written out; the crash came before its log was deleted.
            std::fs::remove_file(&path)?;
            continue;
        }
        let mut head = Head::new(sequence);
        let replayed = wal::replay(&path, |record| {
            head.add(Batch::from_record(record)?);
            Ok(())
        })?;
        if replayed.cut > 0 {
            tracing::warn!(
                path = %path.display(),
                bytes = replayed.cut,
                records = replayed.records,
                "the log ended in a torn write (never acknowledged); cut it off"
            );
        }
        heads.push(head);
        last = Some((sequence, path));
    }
    let next = match last {
        // A log older than a segment (whose own segment was set aside) is written out
        // again; new writes go to a new log after every segment.
        Some((sequence, _)) if sequence < newest_segment => NextLog {
            sequence: newest_segment + 1,
            path: None,
        },
        Some((sequence, path)) => NextLog {
            sequence,
            path: Some(path),
        },
        None => NextLog {
            sequence: newest_segment + 1,
            path: None,
        },
    };
    Ok((heads, next))
}

#[cfg(test)]
mod tests;
