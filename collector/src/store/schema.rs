//! The SQLite schema and connection settings.

use rusqlite::Connection;

/// The schema version this collector writes (`PRAGMA user_version`).
pub const VERSION: i64 = 1;

/// The tables and indexes.
///
/// Resources and scopes are stored once per distinct content (keyed by the SHA-256 of
/// their encoding). A span row keeps what queries filter and sort on, and the span's
/// protobuf encoding, from which the OTLP JSON is rebuilt.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS resources (
    id      INTEGER PRIMARY KEY,
    hash    BLOB NOT NULL UNIQUE,
    service TEXT NOT NULL,
    body    BLOB NOT NULL -- protobuf ResourceSpans without scope_spans
);
CREATE TABLE IF NOT EXISTS scopes (
    id   INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    body BLOB NOT NULL -- protobuf ScopeSpans without spans
);
CREATE TABLE IF NOT EXISTS spans (
    id             INTEGER PRIMARY KEY,
    trace_id       BLOB NOT NULL,
    span_id        BLOB NOT NULL,
    parent_span_id BLOB,             -- NULL for a root span
    name           TEXT NOT NULL,
    service        TEXT NOT NULL,    -- the resource's service.name
    start_ns       INTEGER NOT NULL, -- Unix nanoseconds
    end_ns         INTEGER NOT NULL,
    status_code    INTEGER NOT NULL, -- 0 unset, 1 ok, 2 error
    resource_id    INTEGER NOT NULL,
    scope_id       INTEGER NOT NULL,
    body           BLOB NOT NULL     -- protobuf Span
);
-- Unique: a span sent again (an exporter's retry) is stored once.
CREATE UNIQUE INDEX IF NOT EXISTS spans_by_trace ON spans (trace_id, span_id);
CREATE INDEX IF NOT EXISTS spans_by_service_start ON spans (service, start_ns);
CREATE INDEX IF NOT EXISTS spans_by_start ON spans (start_ns);
";

/// Sets up the writer's connection: WAL journal, `synchronous=FULL` (a commit is on
/// stable storage when it returns), and the schema, refusing a store written by an
/// incompatible version.
pub fn prepare_writer(conn: &Connection) -> anyhow::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let journal: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    // An in-memory database (unit tests) keeps its "memory" journal.
    if !journal.eq_ignore_ascii_case("wal") && !journal.eq_ignore_ascii_case("memory") {
        anyhow::bail!("SQLite refused WAL mode (journal_mode is {journal})");
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version != 0 && version != VERSION {
        anyhow::bail!(
            "the store has schema version {version}; this collector reads version {VERSION}"
        );
    }
    conn.execute_batch(SCHEMA)?;
    conn.pragma_update(None, "user_version", VERSION)?;
    Ok(())
}

/// Sets up a reader's connection.
pub fn prepare_reader(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))
}
