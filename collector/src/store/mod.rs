//! Durable storage in SQLite: one writer thread (group commit, retention), pooled
//! read-only connections for queries.

mod batch;
mod read;
mod retention;
mod schema;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

pub use batch::{Batch, Part, SpanRow, UNKNOWN_SERVICE};
pub use read::{MAX_LISTED_NAME_CHARS, StoredTrace, TraceFilter, TraceSummary, hex};
pub use retention::Retention;
pub(crate) use writer::now_unix_nanos;

use writer::{Command, LastFailure, Writer};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "traces.sqlite";

/// Requests that may wait in the writer's queue; senders wait beyond that.
const WRITE_QUEUE: usize = 32;

/// Idle read connections kept open.
const IDLE_READERS: usize = 4;

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
    /// error, the database is locked); the text says which. Retrying later may succeed.
    Unavailable(String),
    /// SQLite (or decoding a stored record) failed; the text says how.
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

    /// Sorts a SQLite error: a full disk, an I/O error or a busy or locked database is
    /// [`StoreError::Unavailable`], anything else [`StoreError::Failed`].
    pub(crate) fn from_sqlite(error: &rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode;
        match error.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => {
                StoreError::Unavailable(format!("the disk is full ({error})"))
            }
            Some(ErrorCode::SystemIoFailure) => {
                StoreError::Unavailable(format!("a disk I/O error ({error})"))
            }
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Unavailable(
                format!("the database is locked by another connection or process ({error})"),
            ),
            _ => StoreError::Failed(error.to_string()),
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
            StoreError::Failed(why) => write!(f, "storage failed: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// The store: cheap to share behind an `Arc`.
pub struct Store {
    commands: mpsc::Sender<Command>,
    readers: Arc<Readers>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Set once [`Store::close`] is called.
    closing: AtomicBool,
    /// Why the writer's latest commit failed; `None` once one succeeds.
    last_failure: LastFailure,
}

impl Store {
    /// Opens (or creates) the store in `dir`, applies retention once, and starts the
    /// writer thread.
    pub fn open(dir: &Path, retention: Retention) -> anyhow::Result<Store> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create data directory {}: {e}", dir.display()))?;
        let path = dir.join(DATABASE_FILE);
        let conn = Connection::open(&path)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
        schema::prepare_writer(&conn)?;
        let last_failure = LastFailure::default();
        let writer = Writer::new(conn, retention, Arc::clone(&last_failure))?;
        let (commands, receiver) = mpsc::channel(WRITE_QUEUE);
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer.run(receiver))?;
        Ok(Store {
            commands,
            readers: Arc::new(Readers {
                path,
                idle: Mutex::new(Vec::new()),
            }),
            writer: Mutex::new(Some(thread)),
            closing: AtomicBool::new(false),
            last_failure,
        })
    }

    /// Stores a batch; returns once it is committed to stable storage.
    pub async fn write(&self, batch: Batch) -> Result<(), StoreError> {
        let (ack, outcome) = oneshot::channel();
        self.commands
            .send(Command::Write { batch, ack })
            .await
            .map_err(|_| self.gone())?;
        outcome.await.map_err(|_| self.gone())?
    }

    /// Whether the store can write now: `Err` once the store is closing or its writer
    /// thread has stopped, or while its latest commit failed and none has succeeded
    /// since (the reason the commit failed).
    pub fn health(&self) -> Result<(), StoreError> {
        if self.closing.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let stopped = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_none_or(JoinHandle::is_finished);
        if stopped {
            return Err(self.gone());
        }
        match &*self
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Why the writer no longer takes commands.
    fn gone(&self) -> StoreError {
        if self.closing.load(Ordering::Acquire) {
            StoreError::Closed
        } else {
            StoreError::WriterStopped
        }
    }

    /// Asks the writer to apply age retention now (without waiting for it).
    pub fn request_sweep(&self) {
        // A full queue means the writer is busy committing, which applies retention.
        let _ = self.commands.try_send(Command::Sweep);
    }

    /// Lets the writer finish what is queued, then waits for it to stop. Later writes
    /// fail with [`StoreError::Closed`].
    pub async fn close(&self) {
        self.closing.store(true, Ordering::Release);
        let _ = self.commands.send(Command::Stop).await;
        let thread = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread
            && tokio::task::spawn_blocking(move || thread.join())
                .await
                .is_err()
        {
            tracing::error!("the store writer thread panicked");
        }
    }

    /// Lists traces (see [`TraceFilter`]).
    pub async fn list_traces(&self, filter: TraceFilter) -> Result<Vec<TraceSummary>, StoreError> {
        self.read(move |conn| read::list_traces(conn, &filter).map_err(anyhow::Error::from))
            .await
    }

    /// The first `max_spans` spans of one trace by start time, as OTLP, with how many it
    /// has; `None` if none is stored.
    pub async fn trace(
        &self,
        trace_id: [u8; 16],
        max_spans: usize,
    ) -> Result<Option<StoredTrace>, StoreError> {
        self.read(move |conn| read::trace(conn, &trace_id, max_spans))
            .await
    }

    async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || readers.with(query))
            .await
            .map_err(|e| StoreError::Failed(e.to_string()))?
            .map_err(|e| match e.downcast_ref::<rusqlite::Error>() {
                Some(error) => StoreError::from_sqlite(error),
                None => StoreError::Failed(format!("{e:#}")),
            })
    }
}

/// Read-only connections, reused.
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn with<T>(&self, query: impl FnOnce(&Connection) -> anyhow::Result<T>) -> anyhow::Result<T> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                schema::prepare_reader(&conn)?;
                conn
            }
        };
        let result = query(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_errors_that_may_pass_are_unavailable() {
        let sqlite = |code| rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        let full = StoreError::from_sqlite(&sqlite(rusqlite::ffi::SQLITE_FULL));
        assert!(full.to_string().contains("the disk is full"), "{full}");
        assert_eq!(full.retry_after(), Some(UNAVAILABLE_RETRY_AFTER));
        for code in [
            rusqlite::ffi::SQLITE_IOERR_WRITE,
            rusqlite::ffi::SQLITE_BUSY,
            rusqlite::ffi::SQLITE_LOCKED,
        ] {
            assert!(matches!(
                StoreError::from_sqlite(&sqlite(code)),
                StoreError::Unavailable(_)
            ));
        }
        let corrupt = StoreError::from_sqlite(&sqlite(rusqlite::ffi::SQLITE_CORRUPT));
        assert!(matches!(corrupt, StoreError::Failed(_)));
        assert_eq!(corrupt.retry_after(), None);
        assert_eq!(StoreError::WriterStopped.retry_after(), None);
    }

    #[tokio::test]
    async fn healthy_until_closed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            dir.path(),
            Retention {
                max_age: None,
                max_spans: None,
            },
        )
        .unwrap();
        assert_eq!(store.health(), Ok(()));
        store.close().await;
        assert_eq!(store.health(), Err(StoreError::Closed));
        assert_eq!(store.write(Batch::default()).await, Err(StoreError::Closed));
    }
}
