//! The query API (JSON; errors as `{"error": "..."}`); the log listing is in `logs.rs`.

mod logs;

pub use logs::{DEFAULT_LOG_LIMIT, LogParams, list_logs};

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::logs::v1::LogsData;
use opentelemetry_proto::tonic::trace::v1::TracesData;
use serde::{Deserialize, Serialize};

use crate::store::{LogQuery, SESSION_ID, Store, StoreError, StoredLogs, TraceFilter};

/// Traces listed when no `limit` is given.
pub const DEFAULT_LIST_LIMIT: usize = 20;

/// The largest `limit` accepted.
pub const MAX_LIST_LIMIT: usize = 1000;

/// Most spans returned for one trace: the first by start time; the answer says when a
/// trace has more.
pub const MAX_TRACE_SPANS: usize = 10_000;

/// The query string of `GET /api/traces`, all optional. The span conditions (service,
/// operation, attributes, start, end, durations, `error=true`) must all hold for one
/// span of a listed trace.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    /// A span of this service (`service.name`).
    pub service: Option<String>,
    /// A span of this name.
    pub operation: Option<String>,
    /// `key=value`, repeatable: a span (or its resource) with each attribute; the value
    /// as text (`500`, `true`, `GET`).
    pub attr: Vec<String>,
    /// A span that started at or after this Unix-ns time.
    pub start: Option<String>,
    /// A span that started before this Unix-ns time.
    pub end: Option<String>,
    /// A span that lasted at least this long: a number and a unit (`ns`, `us`, `ms`,
    /// `s`, `m`, `h`), such as `250ms` or `1.5s`.
    pub min_duration: Option<String>,
    /// A span that lasted at most this long (as `min_duration`).
    pub max_duration: Option<String>,
    /// `true`: only traces with an error span; `false`: only traces without one.
    pub error: Option<String>,
    /// Most traces returned: 1 to 1000, default 20.
    pub limit: Option<String>,
}

/// The names `GET /api/traces` accepts; any other is refused, so that a misspelt
/// filter is not silently ignored.
const LIST_PARAMETERS: &[&str] = &[
    "service",
    "operation",
    "attr",
    "start",
    "end",
    "minDuration",
    "maxDuration",
    "error",
    "limit",
];

impl ListParams {
    /// Reads a query string (`attr` may repeat; other names once).
    pub fn parse(query: &str) -> Result<ListParams, String> {
        let mut params = ListParams::default();
        read_query(query, LIST_PARAMETERS, |name, value| {
            let slot = match name {
                "service" => &mut params.service,
                "operation" => &mut params.operation,
                "start" => &mut params.start,
                "end" => &mut params.end,
                "minDuration" => &mut params.min_duration,
                "maxDuration" => &mut params.max_duration,
                "error" => &mut params.error,
                "limit" => &mut params.limit,
                _ => {
                    params.attr.push(value);
                    return None;
                }
            };
            Some(slot.replace(value))
        })?;
        Ok(params)
    }
}

/// Reads a query string whose parameter names must be among `known`: `set` stores a
/// value and returns `Some` of what the name held before (a second value of a name that
/// may not repeat), or `None` for a name that may repeat.
fn read_query(
    query: &str,
    known: &[&str],
    mut set: impl FnMut(&str, String) -> Option<Option<String>>,
) -> Result<(), String> {
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if !known.contains(&&*name) {
            return Err(format!(
                "unknown parameter {name:?}; use {}",
                known.join(", ")
            ));
        }
        if let Some(Some(_)) = set(&name, value.into_owned()) {
            return Err(format!("{name} is given twice"));
        }
    }
    Ok(())
}

/// A time parameter in Unix nanoseconds.
fn parse_time(name: &str, value: Option<String>) -> Result<Option<i64>, String> {
    value
        .map(|v| {
            v.parse::<u64>()
                .map(|t| i64::try_from(t).unwrap_or(i64::MAX))
                .map_err(|_| format!("{name}={v:?} is not a time in Unix nanoseconds"))
        })
        .transpose()
}

/// A `limit` parameter: 1 to [`MAX_LIST_LIMIT`], `default` when absent.
fn parse_limit(value: Option<String>, default: usize) -> Result<usize, String> {
    match value {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_LIST_LIMIT).contains(&n) => Ok(n),
            _ => Err(format!(
                "limit={v:?}: use a number from 1 to {MAX_LIST_LIMIT}"
            )),
        },
    }
}

/// `GET /api/traces`: `{"traces": [...]}`, most recently active first.
pub async fn list(State(store): State<Arc<Store>>, RawQuery(query): RawQuery) -> Response {
    let filter = match ListParams::parse(query.as_deref().unwrap_or("")).and_then(filter) {
        Ok(filter) => filter,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    match store.list_traces(filter).await {
        Ok(traces) => Json(serde_json::json!({ "traces": traces })).into_response(),
        Err(e) => store_error(&e),
    }
}

/// Checks the query string and turns it into a [`TraceFilter`].
pub fn filter(params: ListParams) -> Result<TraceFilter, String> {
    let error = match params.error.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => return Err(format!("error={other:?}: use true or false")),
    };
    let limit = parse_limit(params.limit, DEFAULT_LIST_LIMIT)?;
    let attributes = params
        .attr
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => Err(format!("attr={pair:?}: use attr=key=value")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let duration = |name: &str, value: Option<String>| {
        value
            .map(|v| parse_duration(&v).ok_or_else(|| format!("{name}={v:?}: use a number and a unit (ns, us, ms, s, m, h), such as 250ms or 1.5s")))
            .transpose()
    };
    Ok(TraceFilter {
        service: params.service.filter(|s| !s.is_empty()),
        operation: params.operation.filter(|s| !s.is_empty()),
        attributes,
        start: parse_time("start", params.start)?,
        end: parse_time("end", params.end)?,
        min_duration: duration("minDuration", params.min_duration)?,
        max_duration: duration("maxDuration", params.max_duration)?,
        error,
        limit,
    })
}

/// A duration such as `250ms`, `1.5s` or `90us` in nanoseconds (as Jaeger and Tempo
/// write them); `None` if it is not one.
pub fn parse_duration(text: &str) -> Option<u64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let scale: f64 = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        _ => return None,
    };
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return None;
    }
    let nanos = number.parse::<f64>().ok()? * scale;
    (nanos.is_finite() && nanos < u64::MAX as f64).then_some(nanos.round() as u64)
}

/// `GET /api/services`: `{"services": [...]}`, every service with stored spans, sorted.
pub async fn services(State(store): State<Arc<Store>>) -> Response {
    match store.operations().await {
        Ok(all) => {
            Json(serde_json::json!({ "services": all.keys().collect::<Vec<_>>() })).into_response()
        }
        Err(e) => store_error(&e),
    }
}

/// `GET /api/services/{service}/operations`: `{"operations": [...]}`, the span names of a
/// service, sorted; 404 for a service without stored spans.
pub async fn operations(State(store): State<Arc<Store>>, Path(service): Path<String>) -> Response {
    match store.operations().await {
        Ok(mut all) => match all.remove(&service) {
            Some(names) => Json(serde_json::json!({ "operations": names })).into_response(),
            None => error(
                StatusCode::NOT_FOUND,
                format!("no spans stored for service {service:?}"),
            ),
        },
        Err(e) => store_error(&e),
    }
}

/// `GET /api/status`: what the store holds (spans, segments, bytes on disk) and the
/// damaged segment files set aside at start-up.
pub async fn status(State(store): State<Arc<Store>>) -> Response {
    Json(store.status()).into_response()
}

/// Most log records returned with one trace: its most recent.
pub const MAX_TRACE_LOGS: usize = 1000;

/// The answer of `GET /api/traces/{traceId}`: OTLP JSON of its spans and log records,
/// `truncated` when the trace has more than [`MAX_TRACE_SPANS`] spans, `logsTruncated`
/// when it has more than [`MAX_TRACE_LOGS`] log records.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceAnswer {
    /// The spans, as in an OTLP trace export request (`resourceSpans`).
    #[serde(flatten)]
    pub data: TracesData,
    /// Present only when some spans were left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncated>,
    /// The trace's log records, as in an OTLP logs export request (`resourceLogs`).
    #[serde(flatten)]
    pub logs: LogsData,
    /// Present (`true`) only when older log records were left out.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub logs_truncated: bool,
}

/// How a trace was cut: `{"spans": <stored>, "returned": <in this answer>}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Truncated {
    /// Spans stored for the trace.
    pub spans: u64,
    /// Spans in the answer (the first by start time).
    pub returned: u64,
}

/// `GET /api/traces/{traceId}`: the trace's spans and log records as OTLP JSON
/// (`{"resourceSpans": [...], "resourceLogs": [...]}`), at most [`MAX_TRACE_SPANS`]
/// spans (the first by start time; then with `"truncated"`) and [`MAX_TRACE_LOGS`]
/// records (the most recent; then with `"logsTruncated": true`); 404 when neither is
/// stored.
pub async fn trace(State(store): State<Arc<Store>>, Path(trace_id): Path<String>) -> Response {
    let Some(id) = parse_trace_id(&trace_id) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("{trace_id:?} is not a trace ID: expected 32 hex digits"),
        );
    };
    let logs = LogQuery {
        trace: Some(id),
        limit: MAX_TRACE_LOGS,
        ..LogQuery::default()
    };
    let (trace, logs) = match (
        store.trace(id, MAX_TRACE_SPANS).await,
        store.logs(logs).await,
    ) {
        (Ok(trace), Ok(logs)) => (trace, logs),
        (Err(e), _) | (_, Err(e)) => return store_error(&e),
    };
    if trace.is_none() && logs.returned == 0 {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "no spans or log records stored for trace {}",
                trace_id.to_ascii_lowercase()
            ),
        );
    }
    let (data, truncated) = match trace {
        Some(trace) => (
            trace.data,
            (trace.returned < trace.stored).then_some(Truncated {
                spans: trace.stored,
                returned: trace.returned,
            }),
        ),
        None => (TracesData::default(), None),
    };
    Json(TraceAnswer {
        data,
        truncated,
        logs: logs.data,
        logs_truncated: logs.truncated,
    })
    .into_response()
}

/// Most traces `GET /api/sessions/{id}` returns: the session's most recently active.
pub const MAX_SESSION_TRACES: usize = 200;

/// Most spans `GET /api/sessions/{id}` returns, over all its traces.
pub const MAX_SESSION_SPANS: usize = 20_000;

/// Most log records `GET /api/sessions/{id}` returns: the session's most recent.
pub const MAX_SESSION_LOGS: usize = 2000;

/// The answer of `GET /api/sessions/{id}`: the spans of the session's traces and the
/// session's log records as OTLP JSON.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAnswer {
    /// The spans, as in an OTLP trace export request (each trace's resources in turn).
    #[serde(flatten)]
    pub data: TracesData,
    /// Traces in the answer.
    pub traces: usize,
    /// Whether traces or spans were left out (over [`MAX_SESSION_TRACES`] or
    /// [`MAX_SESSION_SPANS`]).
    pub truncated: bool,
    /// The session's log records (with a trace or not), as in an OTLP logs export
    /// request (`resourceLogs`).
    #[serde(flatten)]
    pub logs: LogsData,
    /// Whether older log records were left out (over [`MAX_SESSION_LOGS`]).
    pub logs_truncated: bool,
}

/// `GET /api/sessions/{id}`: every span of the traces with a span (or resource) whose
/// `session.id` is `id`, most recently active trace first, at most
/// [`MAX_SESSION_TRACES`] traces and [`MAX_SESSION_SPANS`] spans (each trace's first by
/// start time), and the session's most recent [`MAX_SESSION_LOGS`] log records; 404 if
/// neither a trace nor a log record has that session. The store's attribute search finds
/// the traces and each is read as `GET /api/traces/{id}` reads it, so the answer is
/// bounded however long the session.
pub async fn session(State(store): State<Arc<Store>>, Path(session_id): Path<String>) -> Response {
    let filter = TraceFilter {
        attributes: vec![(SESSION_ID.to_owned(), session_id.clone())],
        limit: MAX_SESSION_TRACES + 1,
        ..TraceFilter::default()
    };
    let logs = LogQuery {
        session: Some(session_id.clone()),
        limit: MAX_SESSION_LOGS,
        ..LogQuery::default()
    };
    let (listed, logs) = match (store.list_traces(filter).await, store.logs(logs).await) {
        (Ok(listed), Ok(logs)) => (listed, logs),
        (Err(e), _) | (_, Err(e)) => return store_error(&e),
    };
    if listed.is_empty() && logs.returned == 0 {
        return error(
            StatusCode::NOT_FOUND,
            format!("no traces or log records stored for session {session_id:?}"),
        );
    }
    let StoredLogs {
        data: logs,
        truncated: logs_truncated,
        ..
    } = logs;
    let mut answer = SessionAnswer {
        data: TracesData::default(),
        traces: 0,
        truncated: listed.len() > MAX_SESSION_TRACES,
        logs,
        logs_truncated,
    };
    let mut spans_left = MAX_SESSION_SPANS;
    for summary in listed.iter().take(MAX_SESSION_TRACES) {
        let Some(id) = parse_trace_id(&summary.trace_id) else {
            continue;
        };
        if spans_left == 0 {
            answer.truncated = true;
            break;
        }
        match store.trace(id, spans_left).await {
            Ok(Some(trace)) => {
                answer.truncated |= trace.returned < trace.stored;
                spans_left -= trace.returned as usize;
                answer.traces += 1;
                answer.data.resource_spans.extend(trace.data.resource_spans);
            }
            Ok(None) => {} // deleted by retention since it was listed
            Err(e) => return store_error(&e),
        }
    }
    Json(answer).into_response()
}

/// 32 hex digits (either case) as 16 bytes.
pub fn parse_trace_id(text: &str) -> Option<[u8; 16]> {
    if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut id = [0u8; 16];
    for (byte, pair) in id.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(id)
}

/// A JSON error answer: `{"error": message}`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

/// 503 with `Retry-After` when retrying may help, else 500.
fn store_error(e: &StoreError) -> Response {
    match e.retry_after() {
        Some(_) => with_retry_after(error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()), e),
        None => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Adds `Retry-After` (seconds) when `e` says when to retry.
pub(crate) fn with_retry_after(mut response: Response, e: &StoreError) -> Response {
    if let Some(after) = e.retry_after() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(after.as_secs()));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids() {
        let id = parse_trace_id("5B8EFFF798038103D269B633813FC60C").unwrap();
        assert_eq!(id[0], 0x5b);
        assert_eq!(id[15], 0x0c);
        assert_eq!(parse_trace_id("5b8efff798038103d269b633813fc60"), None);
        assert_eq!(parse_trace_id("zz8efff798038103d269b633813fc60c"), None);
        assert_eq!(parse_trace_id("+b8efff798038103d269b633813fc60c"), None);
        assert_eq!(parse_trace_id("é8efff798038103d269b633813fc60"), None);
    }

    #[test]
    fn list_parameters() {
        let f = filter(ListParams::default()).unwrap();
        assert_eq!(
            (f.limit, f.error, f.start),
            (DEFAULT_LIST_LIMIT, None, None)
        );
        let f = filter(ListParams {
            service: Some("web".into()),
            start: Some("5".into()),
            end: Some("18446744073709551615".into()),
            error: Some("true".into()),
            limit: Some("1000".into()),
            ..ListParams::default()
        })
        .unwrap();
        assert_eq!(f.service.as_deref(), Some("web"));
        assert_eq!(
            (f.start, f.end, f.error, f.limit),
            (Some(5), Some(i64::MAX), Some(true), 1000)
        );
        for bad in [
            ListParams {
                limit: Some("0".into()),
                ..ListParams::default()
            },
            ListParams {
                limit: Some("1001".into()),
                ..ListParams::default()
            },
            ListParams {
                start: Some("-1".into()),
                ..ListParams::default()
            },
            ListParams {
                end: Some("soon".into()),
                ..ListParams::default()
            },
            ListParams {
                error: Some("yes".into()),
                ..ListParams::default()
            },
        ] {
            assert!(filter(bad).is_err());
        }
    }
}
