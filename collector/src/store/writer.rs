//! The writer thread: the only connection that writes. It takes every request waiting in
//! its queue, commits them in one transaction (group commit), applies retention in the
//! same transaction, and only then acknowledges each request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::batch::{Batch, Part};
use super::retention::{self, Retention};

/// Most requests committed in one transaction.
const MAX_GROUP_REQUESTS: usize = 64;

/// A group stops growing once it holds this many spans.
const MAX_GROUP_SPANS: usize = 50_000;

/// Unreferenced resources and scopes are pruned at most this often (it reads every row).
const PRUNE_INTERVAL: Duration = Duration::from_secs(600);

/// Cached resource or scope IDs kept before the cache starts afresh.
const MAX_CACHED_IDS: usize = 100_000;

/// Why the writer's latest commit failed (`None` once one succeeds), shared with the
/// store for its health.
pub(super) type LastFailure = Arc<Mutex<Option<StoreError>>>;

/// What the writer thread is asked to do.
pub(super) enum Command {
    /// Store a batch, then report the outcome.
    Write {
        /// The spans.
        batch: Batch,
        /// Where the outcome goes once committed (or failed).
        ack: oneshot::Sender<Result<(), StoreError>>,
    },
    /// Apply age retention now (for idle periods) and prune now and then.
    Sweep,
    /// Finish the writes already queued, then exit.
    Stop,
}

/// The writer's state.
pub(super) struct Writer {
    conn: Connection,
    retention: Retention,
    span_count: u64,
    resource_ids: HashMap<[u8; 32], i64>,
    scope_ids: HashMap<[u8; 32], i64>,
    last_prune: Instant,
    deleted_since_prune: bool,
    last_failure: LastFailure,
}

impl Writer {
    /// Takes over a prepared connection: applies retention and prunes once. It records
    /// the outcome of each commit in `last_failure`.
    pub(super) fn new(
        conn: Connection,
        retention: Retention,
        last_failure: LastFailure,
    ) -> anyhow::Result<Writer> {
        let mut span_count = retention::count(&conn)?;
        retention::enforce(&conn, &retention, now_unix_nanos(), &mut span_count)?;
        retention::prune_unreferenced(&conn)?;
        Ok(Writer {
            conn,
            retention,
            span_count,
            resource_ids: HashMap::new(),
            scope_ids: HashMap::new(),
            last_prune: Instant::now(),
            deleted_since_prune: false,
            last_failure,
        })
    }

    /// Serves commands until [`Command::Stop`] or until every sender is gone.
    pub(super) fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        while let Some(first) = commands.blocking_recv() {
            let mut group = Vec::new();
            let mut spans = 0;
            let mut sweep = false;
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Write { batch, ack } => {
                        spans += batch.len();
                        group.push((batch, ack));
                    }
                    Command::Sweep => sweep = true,
                    // Refuse new commands; those already queued are still served.
                    Command::Stop => commands.close(),
                }
                if group.len() < MAX_GROUP_REQUESTS && spans < MAX_GROUP_SPANS {
                    next = commands.try_recv().ok();
                }
            }
            if !group.is_empty() {
                self.commit(group);
            }
            if sweep {
                self.sweep();
            }
        }
        tracing::debug!("store writer stopped");
    }

    fn commit(&mut self, group: Vec<(Batch, oneshot::Sender<Result<(), StoreError>>)>) {
        let started = Instant::now();
        let outcome = self.insert_group(group.iter().map(|(batch, _)| batch));
        match &outcome {
            Ok(deleted) => {
                self.deleted_since_prune |= *deleted > 0;
                tracing::trace!(
                    requests = group.len(),
                    deleted,
                    elapsed = ?started.elapsed(),
                    "committed"
                );
            }
            Err(error) => {
                tracing::error!(%error, "commit failed; the requests get 503 or 500");
                // The rolled-back transaction may have inserted cached rows.
                self.resource_ids.clear();
                self.scope_ids.clear();
                if let Ok(count) = retention::count(&self.conn) {
                    self.span_count = count;
                }
            }
        }
        let outcome = outcome.map(drop).map_err(|e| StoreError::from_sqlite(&e));
        *self
            .last_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = outcome.clone().err();
        for (_, ack) in group {
            // The request may have gone (client disconnected): nothing to tell then.
            let _ = ack.send(outcome.clone());
        }
    }

    /// Inserts the batches and applies retention in one transaction; returns how many
    /// spans retention deleted.
    fn insert_group<'a>(
        &mut self,
        batches: impl Iterator<Item = &'a Batch>,
    ) -> rusqlite::Result<u64> {
        if self.resource_ids.len() > MAX_CACHED_IDS || self.scope_ids.len() > MAX_CACHED_IDS {
            self.resource_ids.clear();
            self.scope_ids.clear();
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut count = self.span_count;
        for batch in batches {
            count += insert_batch(&tx, batch, &mut self.resource_ids, &mut self.scope_ids)?;
        }
        let deleted = retention::enforce(&tx, &self.retention, now_unix_nanos(), &mut count)?;
        tx.commit()?;
        self.span_count = count;
        Ok(deleted)
    }

    fn sweep(&mut self) {
        let mut count = self.span_count;
        let outcome = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .and_then(|tx| {
                let deleted =
                    retention::enforce(&tx, &self.retention, now_unix_nanos(), &mut count)?;
                tx.commit()?;
                Ok(deleted)
            });
        match outcome {
            Ok(deleted) => {
                self.span_count = count;
                self.deleted_since_prune |= deleted > 0;
                if deleted > 0 {
                    tracing::info!(deleted, kept = count, "retention deleted old spans");
                }
            }
            Err(error) => tracing::error!(%error, "retention sweep failed"),
        }
        if self.deleted_since_prune && self.last_prune.elapsed() >= PRUNE_INTERVAL {
            match retention::prune_unreferenced(&self.conn) {
                Ok(pruned) => tracing::debug!(pruned, "pruned unreferenced resources and scopes"),
                Err(error) => tracing::error!(%error, "pruning resources and scopes failed"),
            }
            self.resource_ids.clear();
            self.scope_ids.clear();
            self.last_prune = Instant::now();
            self.deleted_since_prune = false;
        }
    }
}

/// Inserts a batch; returns how many spans were new (a span already stored, same trace
/// and span ID, is kept as it was).
fn insert_batch(
    tx: &Transaction<'_>,
    batch: &Batch,
    resource_cache: &mut HashMap<[u8; 32], i64>,
    scope_cache: &mut HashMap<[u8; 32], i64>,
) -> rusqlite::Result<u64> {
    let mut resource_ids = Vec::with_capacity(batch.resources().len());
    for part in batch.resources() {
        resource_ids.push(part_id(resource_cache, part, || {
            tx.prepare_cached(
                "INSERT INTO resources (hash, service, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (hash) DO NOTHING",
            )?
            .execute(params![
                &part.hash[..],
                batch.service_of(part),
                batch.body_of(part)
            ])?;
            tx.prepare_cached("SELECT id FROM resources WHERE hash = ?1")?
                .query_row([&part.hash[..]], |row| row.get(0))
        })?);
    }
    let mut scope_ids = Vec::with_capacity(batch.scopes().len());
    for part in batch.scopes() {
        scope_ids.push(part_id(scope_cache, part, || {
            tx.prepare_cached(
                "INSERT INTO scopes (hash, body) VALUES (?1, ?2) ON CONFLICT (hash) DO NOTHING",
            )?
            .execute(params![&part.hash[..], batch.body_of(part)])?;
            tx.prepare_cached("SELECT id FROM scopes WHERE hash = ?1")?
                .query_row([&part.hash[..]], |row| row.get(0))
        })?);
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO spans (trace_id, span_id, parent_span_id, name, service, start_ns,
           end_ns, status_code, resource_id, scope_id, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut inserted = 0;
    for span in batch.spans() {
        inserted += insert.execute(params![
            &span.trace_id[..],
            &span.span_id[..],
            span.parent_span_id.as_ref().map(|id| &id[..]),
            batch.name_of(span),
            batch.service_of(&batch.resources()[span.resource]),
            span.start,
            span.end,
            span.status_code,
            resource_ids[span.resource],
            scope_ids[span.scope],
            batch.span_body(span),
        ])? as u64;
    }
    Ok(inserted)
}

/// The row ID of a resource or scope: from the cache, else stored (if new) and looked up.
fn part_id(
    cache: &mut HashMap<[u8; 32], i64>,
    part: &Part,
    store: impl FnOnce() -> rusqlite::Result<i64>,
) -> rusqlite::Result<i64> {
    if let Some(&id) = cache.get(&part.hash) {
        return Ok(id);
    }
    let id = store()?;
    cache.insert(part.hash, id);
    Ok(id)
}

/// The wall clock in Unix nanoseconds.
pub(crate) fn now_unix_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}
