//! The SQLite schema and connection settings.

use rusqlite::Connection;

/// The schema version this collector writes (`PRAGMA user_version`). Version 1 had
/// span IDs that SQLite could reuse; a version 1 store is migrated when opened.
pub const VERSION: i64 = 2;

/// The resource and scope tables.
///
/// Resources and scopes are stored once per distinct content (keyed by the SHA-256 of
/// their encoding). A span row keeps what queries filter and sort on, and the span's
/// protobuf encoding, from which the OTLP JSON is rebuilt.
const PARTS: &str = "
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
";

/// The span table, named `{table}`. `id` is the arrival order, which count retention
/// follows: AUTOINCREMENT never hands out an ID again, even that of the latest span once
/// it is deleted.
const SPANS: &str = "
CREATE TABLE IF NOT EXISTS {table} (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
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
";

/// The span indexes.
const SPAN_INDEXES: &str = "
-- Unique: a span sent again (an exporter's retry) is stored once.
CREATE UNIQUE INDEX IF NOT EXISTS spans_by_trace ON spans (trace_id, span_id);
CREATE INDEX IF NOT EXISTS spans_by_service_start ON spans (service, start_ns);
CREATE INDEX IF NOT EXISTS spans_by_start ON spans (start_ns);
";

/// Sets up the writer's connection: WAL journal, `synchronous=FULL` (a commit is on
/// stable storage when it returns), and the schema: a new store is created, a version 1
/// store is migrated, any other version is refused.
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
    match version {
        0 => {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(PARTS)?;
            tx.execute_batch(&SPANS.replace("{table}", "spans"))?;
            tx.execute_batch(SPAN_INDEXES)?;
            tx.pragma_update(None, "user_version", VERSION)?;
            tx.commit()?;
        }
        1 => migrate_from_1(conn)?,
        VERSION => {}
        _ => anyhow::bail!(
            "the store has schema version {version}; this collector reads versions 1 and \
             {VERSION} (use the collector that wrote it, or another --data-dir)"
        ),
    }
    Ok(())
}

/// Version 1 to 2: the span table is rebuilt with AUTOINCREMENT IDs, keeping every
/// span's ID (so their arrival order), in one transaction.
fn migrate_from_1(conn: &Connection) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(&SPANS.replace("{table}", "spans_v2"))?;
    let spans = tx.execute(
        "INSERT INTO spans_v2 (id, trace_id, span_id, parent_span_id, name, service, start_ns,
           end_ns, status_code, resource_id, scope_id, body)
         SELECT id, trace_id, span_id, parent_span_id, name, service, start_ns,
           end_ns, status_code, resource_id, scope_id, body
         FROM spans ORDER BY id",
        [],
    )?;
    tx.execute_batch("DROP TABLE spans; ALTER TABLE spans_v2 RENAME TO spans;")?;
    tx.execute_batch(SPAN_INDEXES)?;
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    tracing::info!(spans, elapsed = ?started.elapsed(), "store migrated from schema version 1 to {VERSION}");
    Ok(())
}

/// Sets up a reader's connection.
pub fn prepare_reader(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    fn insert_span(conn: &Connection, span_id: u8) -> i64 {
        conn.execute(
            "INSERT INTO spans (trace_id, span_id, name, service, start_ns, end_ns,
               status_code, resource_id, scope_id, body)
             VALUES (x'01', ?1, 'n', 's', 1, 1, 0, 1, 1, x'')",
            [vec![span_id]],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    #[test]
    fn ids_are_never_reused() {
        let conn = Connection::open_in_memory().unwrap();
        prepare_writer(&conn).unwrap();
        assert_eq!(version(&conn), VERSION);
        assert_eq!((insert_span(&conn, 1), insert_span(&conn, 2)), (1, 2));
        conn.execute("DELETE FROM spans WHERE id = 2", []).unwrap();
        assert_eq!(insert_span(&conn, 3), 3);
    }

    #[test]
    fn a_version_1_store_is_migrated_keeping_ids() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("v1.sqlite")).unwrap();
        // The version 1 span table: IDs without AUTOINCREMENT.
        conn.execute_batch(PARTS).unwrap();
        conn.execute_batch(
            "CREATE TABLE spans (
                id INTEGER PRIMARY KEY, trace_id BLOB NOT NULL, span_id BLOB NOT NULL,
                parent_span_id BLOB, name TEXT NOT NULL, service TEXT NOT NULL,
                start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
                status_code INTEGER NOT NULL, resource_id INTEGER NOT NULL,
                scope_id INTEGER NOT NULL, body BLOB NOT NULL);
             CREATE UNIQUE INDEX spans_by_trace ON spans (trace_id, span_id);
             CREATE INDEX spans_by_service_start ON spans (service, start_ns);
             CREATE INDEX spans_by_start ON spans (start_ns);
             PRAGMA user_version = 1;",
        )
        .unwrap();
        for span_id in [7, 8, 9] {
            insert_span(&conn, span_id);
        }
        conn.execute("DELETE FROM spans WHERE id = 1", []).unwrap();

        prepare_writer(&conn).unwrap();
        assert_eq!(version(&conn), VERSION);
        let rows: Vec<(i64, Vec<u8>)> = conn
            .prepare("SELECT id, span_id FROM spans ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [(2, vec![8]), (3, vec![9])]);
        // The latest ID is not handed out again once deleted, and the indexes are back.
        conn.execute("DELETE FROM spans WHERE id = 3", []).unwrap();
        assert_eq!(insert_span(&conn, 10), 4);
        let indexes: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'spans'
                   AND name LIKE 'spans_by_%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 3);
        // Opening it again leaves it as it is.
        prepare_writer(&conn).unwrap();
        assert_eq!(insert_span(&conn, 11), 5);
    }

    #[test]
    fn an_unknown_version_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 3).unwrap();
        let error = prepare_writer(&conn).unwrap_err().to_string();
        assert!(error.contains("schema version 3"), "{error}");
    }
}
