//! Durable storage in SQLite: one writer thread (group commit, retention), pooled
//! read-only connections for queries.

mod batch;
mod read;
mod retention;
mod schema;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use opentelemetry_proto::tonic::trace::v1::TracesData;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

pub use batch::{Batch, Part, SpanRow, UNKNOWN_SERVICE};
pub use read::{TraceFilter, TraceSummary, hex};
pub use retention::Retention;
pub(crate) use writer::now_unix_nanos;

use writer::{Command, Writer};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "traces.sqlite";

/// Requests that may wait in the writer's queue; senders wait beyond that.
const WRITE_QUEUE: usize = 32;

/// Idle read connections kept open.
const IDLE_READERS: usize = 4;

/// Why the store could not do something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The store is shutting down.
    Closed,
    /// SQLite (or decoding a stored record) failed; the text says how.
    Failed(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Closed => f.write_str("the collector is shutting down"),
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
        let writer = Writer::new(conn, retention)?;
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
        })
    }

    /// Stores a batch; returns once it is committed to stable storage.
    pub async fn write(&self, batch: Batch) -> Result<(), StoreError> {
        let (ack, outcome) = oneshot::channel();
        self.commands
            .send(Command::Write { batch, ack })
            .await
            .map_err(|_| StoreError::Closed)?;
        outcome.await.map_err(|_| StoreError::Closed)?
    }

    /// Asks the writer to apply age retention now (without waiting for it).
    pub fn request_sweep(&self) {
        // A full queue means the writer is busy committing, which applies retention.
        let _ = self.commands.try_send(Command::Sweep);
    }

    /// Lets the writer finish what is queued, then waits for it to stop. Later writes
    /// fail with [`StoreError::Closed`].
    pub async fn close(&self) {
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

    /// Every span of one trace, as OTLP; `None` if none is stored.
    pub async fn trace(&self, trace_id: [u8; 16]) -> Result<Option<TracesData>, StoreError> {
        self.read(move |conn| read::trace(conn, &trace_id)).await
    }

    async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || readers.with(query))
            .await
            .map_err(|e| StoreError::Failed(e.to_string()))?
            .map_err(|e| StoreError::Failed(format!("{e:#}")))
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
