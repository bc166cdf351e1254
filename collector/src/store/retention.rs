//! Deleting old spans: by age (start time) and by total count (the earliest-arrived
//! first, so that spans dated in the future cannot push out the ones arriving now).

use std::time::Duration;

use rusqlite::Connection;

/// The retention rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Spans that started longer ago than this are deleted; `None`: no age limit.
    pub max_age: Option<Duration>,
    /// At most this many spans are kept, the latest to arrive; `None`: no count limit.
    pub max_spans: Option<u64>,
}

/// Applies both rules on `conn` (inside the caller's transaction) given the current span
/// count, which it updates; returns how many spans it deleted. Age goes by start time;
/// count deletes the spans that arrived first (the lowest IDs, which are never reused).
pub fn enforce(
    conn: &Connection,
    retention: &Retention,
    now_unix_nanos: i64,
    span_count: &mut u64,
) -> rusqlite::Result<u64> {
    let mut deleted = 0;
    if let Some(max_age) = retention.max_age {
        let age = i64::try_from(max_age.as_nanos()).unwrap_or(i64::MAX);
        let cutoff = now_unix_nanos.saturating_sub(age);
        let n = conn
            .prepare_cached("DELETE FROM spans WHERE start_ns < ?1")?
            .execute([cutoff])? as u64;
        deleted += n;
        *span_count = span_count.saturating_sub(n);
    }
    if let Some(max_spans) = retention.max_spans
        && *span_count > max_spans
    {
        let excess = *span_count - max_spans;
        let n = conn
            .prepare_cached(
                "DELETE FROM spans WHERE id IN
                   (SELECT id FROM spans ORDER BY id LIMIT ?1)",
            )?
            .execute([i64::try_from(excess).unwrap_or(i64::MAX)])? as u64;
        deleted += n;
        *span_count = span_count.saturating_sub(n);
    }
    Ok(deleted)
}

/// Deletes the resources and scopes no span refers to any more; returns how many.
/// It reads every span row, so it runs at start-up and now and then, not per commit.
pub fn prune_unreferenced(conn: &Connection) -> rusqlite::Result<usize> {
    let resources = conn.execute(
        "DELETE FROM resources WHERE id NOT IN (SELECT resource_id FROM spans)",
        [],
    )?;
    let scopes = conn.execute(
        "DELETE FROM scopes WHERE id NOT IN (SELECT scope_id FROM spans)",
        [],
    )?;
    Ok(resources + scopes)
}

/// Counts the stored spans.
pub fn count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM spans", [], |row| row.get::<_, i64>(0))
        .map(|n| n.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_starts(starts: &[i64]) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::store::schema::prepare_writer(&conn).unwrap();
        conn.execute(
            "INSERT INTO resources (id, hash, service, body) VALUES (1, x'01', 's', x'')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO resources (id, hash, service, body) VALUES (2, x'02', 'old', x'')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO scopes (id, hash, body) VALUES (1, x'01', x'')",
            [],
        )
        .unwrap();
        for &start in starts {
            insert(&conn, start);
        }
        conn
    }

    /// Stores a span that starts (and ends) at `start` (which also makes its span ID).
    fn insert(conn: &Connection, start: i64) {
        conn.execute(
            "INSERT INTO spans (trace_id, span_id, name, service, start_ns, end_ns,
               status_code, resource_id, scope_id, body)
             VALUES (x'01', ?2, 'n', 's', ?1, ?1, 0, 1, 1, x'')",
            rusqlite::params![start, start.to_be_bytes()],
        )
        .unwrap();
    }

    fn starts(conn: &Connection) -> Vec<i64> {
        let mut stmt = conn
            .prepare("SELECT start_ns FROM spans ORDER BY start_ns")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn by_count_the_first_to_arrive_go_first() {
        let conn = store_with_starts(&[50, 10, 40, 20, 30]);
        let mut count = count(&conn).unwrap();
        let rules = Retention {
            max_age: None,
            max_spans: Some(3),
        };
        assert_eq!(enforce(&conn, &rules, 100, &mut count).unwrap(), 2);
        assert_eq!(count, 3);
        assert_eq!(starts(&conn), [20, 30, 40]);
    }

    #[test]
    fn spans_dated_in_the_future_do_not_push_out_new_ones() {
        // Many spans dated far ahead arrive first; the ones arriving after them stay.
        let conn = store_with_starts(&[1000, 1001, 1002, 1003]);
        let rules = Retention {
            max_age: Some(Duration::from_nanos(50)),
            max_spans: Some(4),
        };
        let mut count = count(&conn).unwrap();
        for start in [90, 91, 92] {
            insert(&conn, start);
            count += 1;
            assert_eq!(enforce(&conn, &rules, 100, &mut count).unwrap(), 1);
        }
        assert_eq!(starts(&conn), [90, 91, 92, 1003]);
        assert_eq!(count, 4);
    }

    #[test]
    fn ids_of_deleted_spans_are_not_reused() {
        let conn = store_with_starts(&[10, 20]);
        // Age retention deletes the latest arrival (it started long ago) ...
        insert(&conn, 1);
        let rules = Retention {
            max_age: Some(Duration::from_nanos(95)),
            max_spans: Some(2),
        };
        let mut count = 3;
        assert_eq!(enforce(&conn, &rules, 100, &mut count).unwrap(), 1);
        // ... and the next arrival still counts as later than every span stored.
        insert(&conn, 30);
        count += 1;
        assert_eq!(enforce(&conn, &rules, 100, &mut count).unwrap(), 1);
        assert_eq!(starts(&conn), [20, 30]);
        let ids: Vec<i64> = conn
            .prepare("SELECT id FROM spans ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ids, [2, 4]);
    }

    #[test]
    fn by_age() {
        let conn = store_with_starts(&[10, 20, 95]);
        let mut count = 3;
        let rules = Retention {
            max_age: Some(Duration::from_nanos(50)),
            max_spans: None,
        };
        assert_eq!(enforce(&conn, &rules, 100, &mut count).unwrap(), 2);
        assert_eq!((count, starts(&conn)), (1, vec![95]));
    }

    #[test]
    fn no_rules_delete_nothing_and_pruning_keeps_used_parts() {
        let conn = store_with_starts(&[1, 2]);
        let mut count = 2;
        let none = Retention {
            max_age: None,
            max_spans: None,
        };
        assert_eq!(enforce(&conn, &none, i64::MAX, &mut count).unwrap(), 0);
        assert_eq!(prune_unreferenced(&conn).unwrap(), 1);
        let left: i64 = conn
            .query_row("SELECT COUNT(*) FROM resources", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 1);
    }
}
