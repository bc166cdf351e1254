//! `GET /api/logs`: the most recent log records, filtered.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::logs::v1::LogsData;
use serde::Serialize;

use super::{error, parse_limit, parse_time, parse_trace_id, read_query, store_error};
use crate::ingest::validate::MAX_SEVERITY_NUMBER;
use crate::store::{LogQuery, Store};

/// Log records listed when no `limit` is given.
pub const DEFAULT_LOG_LIMIT: usize = 100;

/// Severity names `minSeverity` accepts, with the lowest `SeverityNumber` of each.
const SEVERITIES: &[(&str, u8)] = &[
    ("trace", 1),
    ("debug", 5),
    ("info", 9),
    ("warn", 13),
    ("error", 17),
    ("fatal", 21),
];

/// The names `GET /api/logs` accepts; any other is refused.
const LOG_PARAMETERS: &[&str] = &[
    "service",
    "minSeverity",
    "start",
    "end",
    "text",
    "traceId",
    "sessionId",
    "limit",
];

/// The query string of `GET /api/logs`, all optional, each at most once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LogParams {
    /// Records of this service (`service.name` of their resource).
    pub service: Option<String>,
    /// Records of at least this severity: a `SeverityNumber` (1 to 24) or a name
    /// (`trace`, `debug`, `info`, `warn`, `error`, `fatal`: the lowest number of each).
    pub min_severity: Option<String>,
    /// Records at or after this Unix-ns time.
    pub start: Option<String>,
    /// Records before this Unix-ns time.
    pub end: Option<String>,
    /// Records whose body holds this text, ignoring case.
    pub text: Option<String>,
    /// Records of this trace (32 hex digits).
    pub trace_id: Option<String>,
    /// Records of this session (`session.id`).
    pub session_id: Option<String>,
    /// Most records returned: 1 to 1000, default 100.
    pub limit: Option<String>,
}

impl LogParams {
    /// Reads a query string.
    pub fn parse(query: &str) -> Result<LogParams, String> {
        let mut params = LogParams::default();
        read_query(query, LOG_PARAMETERS, |name, value| {
            let slot = match name {
                "service" => &mut params.service,
                "minSeverity" => &mut params.min_severity,
                "start" => &mut params.start,
                "end" => &mut params.end,
                "text" => &mut params.text,
                "traceId" => &mut params.trace_id,
                "sessionId" => &mut params.session_id,
                _ => &mut params.limit,
            };
            Some(slot.replace(value))
        })?;
        Ok(params)
    }

    /// Checks the values and turns them into a [`LogQuery`].
    pub fn query(self) -> Result<LogQuery, String> {
        let min_severity = match self.min_severity.as_deref() {
            None | Some("") => 0,
            Some(text) => parse_severity(text).ok_or_else(|| {
                format!(
                    "minSeverity={text:?}: use a SeverityNumber (1 to {MAX_SEVERITY_NUMBER}) or one of {}",
                    SEVERITIES.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
                )
            })?,
        };
        let trace = match self.trace_id.as_deref() {
            None | Some("") => None,
            Some(text) => Some(parse_trace_id(text).ok_or_else(|| {
                format!("traceId={text:?} is not a trace ID: expected 32 hex digits")
            })?),
        };
        let given = |value: Option<String>| value.filter(|v| !v.is_empty());
        Ok(LogQuery {
            trace,
            session: given(self.session_id),
            service: given(self.service),
            min_severity,
            start: parse_time("start", self.start)?,
            end: parse_time("end", self.end)?,
            text: given(self.text),
            limit: parse_limit(self.limit, DEFAULT_LOG_LIMIT)?,
        })
    }
}

/// A severity: a number from 1 to 24 or a name, either case.
fn parse_severity(text: &str) -> Option<u8> {
    match text.parse::<u8>() {
        Ok(n) if (1..=MAX_SEVERITY_NUMBER).contains(&i32::from(n)) => Some(n),
        Ok(_) => None,
        Err(_) => SEVERITIES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|&(_, n)| n),
    }
}

/// The answer of `GET /api/logs`.
#[derive(Debug, Serialize)]
pub struct LogsAnswer {
    /// The records, as in an OTLP logs export request (`resourceLogs`), grouped by
    /// resource and scope, each group in time order.
    #[serde(flatten)]
    pub data: LogsData,
    /// Records in the answer.
    pub returned: usize,
    /// Whether older matching records were left out (ask again with `end` set to the
    /// oldest time returned to page back).
    pub truncated: bool,
}

/// `GET /api/logs`: the most recent log records that meet every condition given (see
/// [`LogParams`]), at most `limit`.
pub async fn list_logs(State(store): State<Arc<Store>>, RawQuery(query): RawQuery) -> Response {
    let query = match LogParams::parse(query.as_deref().unwrap_or("")).and_then(LogParams::query) {
        Ok(query) => query,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    match store.logs(query).await {
        Ok(found) => Json(LogsAnswer {
            data: found.data,
            returned: found.returned,
            truncated: found.truncated,
        })
        .into_response(),
        Err(e) => store_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters() {
        let query = LogParams::parse("service=web&minSeverity=WARN&text=TypeError&limit=5")
            .and_then(LogParams::query)
            .unwrap();
        assert_eq!(
            query,
            LogQuery {
                service: Some("web".into()),
                min_severity: 13,
                text: Some("TypeError".into()),
                limit: 5,
                ..LogQuery::default()
            }
        );
        let query =
            LogParams::parse("minSeverity=18&start=5&traceId=5B8EFFF798038103D269B633813FC60C")
                .and_then(LogParams::query)
                .unwrap();
        assert_eq!(
            (query.min_severity, query.start, query.limit),
            (18, Some(5), DEFAULT_LOG_LIMIT)
        );
        assert!(query.trace.is_some());
        for bad in [
            "severity=error",
            "minSeverity=25",
            "minSeverity=loud",
            "limit=0",
            "start=yesterday",
            "traceId=abc",
            "text=a&text=b",
        ] {
            assert!(
                LogParams::parse(bad).and_then(LogParams::query).is_err(),
                "{bad}"
            );
        }
    }
}
