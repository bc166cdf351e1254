//! Queries: recent traces with a summary each, and every span of one trace as OTLP.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
use prost::Message;
use rusqlite::{Connection, ToSql, params};
use serde::Serialize;

/// Which traces to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceFilter {
    /// Only traces with a span of this service.
    pub service: Option<String>,
    /// Only traces with a span that started at or after this time (Unix ns).
    pub start: Option<i64>,
    /// Only traces with a span that started before this time (Unix ns).
    pub end: Option<i64>,
    /// `Some(true)`: only traces with an error span; `Some(false)`: only without.
    pub error: Option<bool>,
    /// Most traces returned.
    pub limit: usize,
}

/// Characters of a span or service name kept in a listing (a longer one is cut there and
/// ends with `…`), so that a listing's size is bounded; a trace's spans keep full names.
pub const MAX_LISTED_NAME_CHARS: usize = 256;

/// One trace in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceSummary {
    /// The trace ID, 32 lowercase hex digits.
    pub trace_id: String,
    /// The root span's name; `None` while the root span has not arrived. At most
    /// [`MAX_LISTED_NAME_CHARS`] characters and a `…`.
    pub root_span_name: Option<String>,
    /// The service of the root span (else of the earliest span), cut like the name.
    pub service: String,
    /// The earliest span start, Unix ns, as a decimal string (as in OTLP JSON: it does
    /// not fit a JavaScript number).
    pub start_time_unix_nano: String,
    /// From the earliest start to the latest end.
    pub duration_nanos: u64,
    /// Spans stored for the trace.
    pub span_count: u64,
    /// Whether a span has status code ERROR.
    pub error: bool,
}

/// Lists the traces that match `filter`, most recently active first (by their latest
/// span start), walking the start-time index (or the service + start-time index) and
/// stopping at the limit.
pub fn list_traces(conn: &Connection, filter: &TraceFilter) -> rusqlite::Result<Vec<TraceSummary>> {
    let start = filter.start.unwrap_or(i64::MIN);
    let end = filter.end.unwrap_or(i64::MAX);
    let mut sql = String::from("SELECT trace_id FROM spans WHERE start_ns >= ?1 AND start_ns < ?2");
    let mut args: Vec<&dyn ToSql> = vec![&start, &end];
    if let Some(service) = &filter.service {
        sql.push_str(" AND service = ?3");
        args.push(service);
    }
    if filter.error == Some(true) {
        sql.push_str(" AND status_code = 2");
    }
    sql.push_str(" ORDER BY start_ns DESC");
    let mut candidates = conn.prepare(&sql)?;
    let mut rows = candidates.query(args.as_slice())?;
    let mut seen = HashSet::new();
    let mut traces = Vec::new();
    while traces.len() < filter.limit {
        let Some(row) = rows.next()? else { break };
        let trace_id: Vec<u8> = row.get(0)?;
        if !seen.insert(trace_id.clone()) {
            continue;
        }
        let Some(summary) = summarize(conn, &trace_id)? else {
            continue;
        };
        if filter.error.is_none_or(|error| summary.error == error) {
            traces.push(summary);
        }
    }
    Ok(traces)
}

fn summarize(conn: &Connection, trace_id: &[u8]) -> rusqlite::Result<Option<TraceSummary>> {
    let (start, end, count, error): (Option<i64>, Option<i64>, i64, bool) = conn
        .prepare_cached(
            "SELECT MIN(start_ns), MAX(end_ns), COUNT(*), COALESCE(MAX(status_code = 2), 0)
             FROM spans WHERE trace_id = ?1",
        )?
        .query_row([trace_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let (Some(start), Some(end)) = (start, end) else {
        return Ok(None); // deleted by retention meanwhile
    };
    let (name, service, is_root): (String, String, bool) = conn
        .prepare_cached(
            "SELECT substr(name, 1, ?2), substr(service, 1, ?2), parent_span_id IS NULL
             FROM spans WHERE trace_id = ?1
             ORDER BY parent_span_id IS NOT NULL, start_ns, id LIMIT 1",
        )?
        // One character more than kept tells whether the name was longer.
        .query_row(params![trace_id, MAX_LISTED_NAME_CHARS + 1], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    Ok(Some(TraceSummary {
        trace_id: hex(trace_id),
        root_span_name: is_root.then(|| cut(name)),
        service: cut(service),
        start_time_unix_nano: start.to_string(),
        duration_nanos: end.saturating_sub(start).max(0) as u64,
        span_count: count.max(0) as u64,
        error,
    }))
}

/// A name cut to [`MAX_LISTED_NAME_CHARS`] characters and `…` if it is longer.
fn cut(mut name: String) -> String {
    if let Some((end, _)) = name.char_indices().nth(MAX_LISTED_NAME_CHARS) {
        name.truncate(end);
        name.push('…');
    }
    name
}

/// The spans of one trace, perhaps not all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTrace {
    /// The spans returned, grouped by resource and scope as OTLP, in start-time order.
    pub data: TracesData,
    /// How many spans are stored for the trace.
    pub stored: u64,
    /// How many spans `data` holds: fewer than `stored` when the limit cut the trace.
    pub returned: u64,
}

/// The first `max_spans` spans of a trace by start time (`None` if the trace has no
/// stored span), with how many it has in all, read in one snapshot.
pub fn trace(
    conn: &Connection,
    trace_id: &[u8; 16],
    max_spans: usize,
) -> anyhow::Result<Option<StoredTrace>> {
    // A read transaction: the count and the spans come from the same state.
    let snapshot = conn.unchecked_transaction()?;
    let mut stmt = snapshot.prepare_cached(
        "SELECT s.resource_id, s.scope_id, s.body, r.body, c.body
         FROM spans s
         LEFT JOIN resources r ON r.id = s.resource_id
         LEFT JOIN scopes c ON c.id = s.scope_id
         WHERE s.trace_id = ?1
         ORDER BY s.start_ns, s.id
         LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![&trace_id[..], max_spans])?;
    let mut returned = 0u64;
    let mut data = TracesData::default();
    // resource id -> (index in data, scope id -> index in its scope_spans)
    let mut places: HashMap<i64, (usize, HashMap<i64, usize>)> = HashMap::new();
    while let Some(row) = rows.next()? {
        let resource_id: i64 = row.get(0)?;
        let scope_id: i64 = row.get(1)?;
        let span = Span::decode(row.get_ref(2)?.as_blob()?)?;
        let (resource_index, scopes) = match places.entry(resource_id) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let resource = match row.get_ref(3)?.as_blob_or_null()? {
                    Some(body) => ResourceSpans::decode(body)?,
                    None => ResourceSpans::default(),
                };
                data.resource_spans.push(resource);
                entry.insert((data.resource_spans.len() - 1, HashMap::new()))
            }
        };
        let resource = &mut data.resource_spans[*resource_index];
        let scope_index = match scopes.get(&scope_id) {
            Some(&index) => index,
            None => {
                let scope = match row.get_ref(4)?.as_blob_or_null()? {
                    Some(body) => ScopeSpans::decode(body)?,
                    None => ScopeSpans::default(),
                };
                resource.scope_spans.push(scope);
                scopes.insert(scope_id, resource.scope_spans.len() - 1);
                resource.scope_spans.len() - 1
            }
        };
        resource.scope_spans[scope_index].spans.push(span);
        returned += 1;
    }
    if returned == 0 {
        return Ok(None);
    }
    let stored = if returned < max_spans as u64 {
        returned
    } else {
        snapshot
            .prepare_cached("SELECT COUNT(*) FROM spans WHERE trace_id = ?1")?
            .query_row([&trace_id[..]], |r| r.get::<_, i64>(0))?
            .max(0) as u64
    };
    Ok(Some(StoredTrace {
        data,
        stored,
        returned,
    }))
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}
