//! Log record queries across the store's sources: which records a query wants
//! ([`LogQuery`]), and the most recent matches gathered from every source, each record
//! kept once ([`FoundLogs`]).

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashSet};

use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, LogsData};
use prost::Message;

use super::batch::SESSION_ID;
use super::otlp::{Encoded, EncodedItem};
use super::read::Source;
use super::terms;

/// Which log records to find: those that meet every condition given, the most recent
/// `limit` of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// Records of this trace.
    pub trace: Option<[u8; 16]>,
    /// Records of this session (their `session.id`, else their resource's).
    pub session: Option<String>,
    /// Records of this service (`service.name` of their resource).
    pub service: Option<String>,
    /// Records of at least this `SeverityNumber` (0: any, unspecified included).
    pub min_severity: u8,
    /// Records at or after this time (Unix ns).
    pub start: Option<i64>,
    /// Records before this time (Unix ns).
    pub end: Option<i64>,
    /// Records whose body holds this text, ignoring case (in a string body, or in any
    /// string inside an array or map body).
    pub text: Option<String>,
    /// Most records returned.
    pub limit: usize,
}

impl LogQuery {
    /// The terms a record must carry (its trace, session, service), as segments index
    /// them.
    pub fn terms(&self) -> Vec<u64> {
        let mut terms = Vec::new();
        terms.extend(self.trace.as_ref().map(terms::trace));
        terms.extend(self.session_term());
        terms.extend(self.service.as_deref().map(terms::service));
        terms
    }

    /// The term of the session asked for.
    pub fn session_term(&self) -> Option<u64> {
        self.session
            .as_deref()
            .map(|id| terms::attribute(SESSION_ID, id))
    }

    /// Whether a record of `time` may match (the time range).
    pub fn in_time(&self, time: i64) -> bool {
        self.start.is_none_or(|start| time >= start) && self.end.is_none_or(|end| time < end)
    }

    /// Whether records between `min` and `max` (inclusive) may match.
    pub fn may_match_times(&self, min: i64, max: i64) -> bool {
        self.start.is_none_or(|start| max >= start) && self.end.is_none_or(|end| min < end)
    }

    /// Whether a record of `time` and `severity`, encoded as `record`, meets the
    /// conditions that are not terms (time, severity, text).
    pub fn admits(&self, time: i64, severity: u8, record: &[u8]) -> bool {
        self.in_time(time)
            && severity >= self.min_severity
            && self
                .text
                .as_deref()
                .is_none_or(|text| body_contains(record, &text.to_lowercase()))
    }
}

/// Whether the body of an encoded `LogRecord` holds `needle` (lowercase), ignoring case.
fn body_contains(record: &[u8], needle: &str) -> bool {
    fn contains(value: &AnyValue, needle: &str) -> bool {
        match &value.value {
            Some(Value::StringValue(s)) => s.to_lowercase().contains(needle),
            Some(Value::ArrayValue(array)) => array.values.iter().any(|v| contains(v, needle)),
            Some(Value::KvlistValue(list)) => list
                .values
                .iter()
                .any(|kv| kv.value.as_ref().is_some_and(|v| contains(v, needle))),
            _ => false,
        }
    }
    LogRecord::decode(record)
        .ok()
        .and_then(|r| r.body)
        .is_some_and(|body| contains(&body, needle))
}

/// A record kept: ordered by time, then identity.
#[derive(Debug)]
struct Found {
    time: i64,
    identity: u64,
    item: EncodedItem,
}

impl PartialEq for Found {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Found {}

impl PartialOrd for Found {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Found {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.time, self.identity).cmp(&(other.time, other.identity))
    }
}

/// The most recent records offered, at most `limit`, each identity once (a record sent
/// twice, an exporter's retry, may be in two sources).
#[derive(Debug)]
pub struct FoundLogs {
    limit: usize,
    kept: BinaryHeap<Reverse<Found>>,
    identities: HashSet<u64>,
    encoded: Encoded,
    truncated: bool,
}

impl FoundLogs {
    /// Keeps at most `limit` records.
    pub fn new(limit: usize) -> FoundLogs {
        FoundLogs {
            limit,
            kept: BinaryHeap::new(),
            identities: HashSet::new(),
            encoded: Encoded::default(),
            truncated: false,
        }
    }

    /// Whether a record of `time` could still be kept: `false` once `limit` more recent
    /// ones are held (and then a source need not look at older records; the answer
    /// says that some were left out).
    pub fn wants(&mut self, time: i64) -> bool {
        let full = self.kept.len() >= self.limit;
        let older = self.kept.peek().is_none_or(|oldest| time < oldest.0.time);
        if full && older {
            self.truncated = true;
            return false;
        }
        true
    }

    /// Offers a record: its time, identity, the encodings of its resource and scope,
    /// and its own.
    pub fn add(&mut self, time: i64, identity: u64, resource: &[u8], scope: &[u8], body: &[u8]) {
        if self.identities.contains(&identity) || !self.wants(time) {
            return;
        }
        let item = EncodedItem {
            resource: self.encoded.part(resource),
            scope: self.encoded.part(scope),
            body: body.to_vec(),
        };
        self.identities.insert(identity);
        self.kept.push(Reverse(Found {
            time,
            identity,
            item,
        }));
        if self.kept.len() > self.limit
            && let Some(Reverse(oldest)) = self.kept.pop()
        {
            self.identities.remove(&oldest.identity);
            self.truncated = true;
        }
    }

    /// The records kept as OTLP, grouped by resource and scope, in time order.
    pub fn finish(self) -> anyhow::Result<StoredLogs> {
        let mut kept: Vec<Found> = self.kept.into_iter().map(|r| r.0).collect();
        kept.sort();
        Ok(StoredLogs {
            data: self.encoded.build(kept.iter().map(|f| &f.item))?,
            returned: kept.len(),
            truncated: self.truncated,
        })
    }
}

/// Log records found, perhaps not all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLogs {
    /// The records, grouped by resource and scope as OTLP, each group in time order.
    pub data: LogsData,
    /// How many records `data` holds.
    pub returned: usize,
    /// Whether matching records (older than those returned) were left out.
    pub truncated: bool,
}

/// The most recent records that match `query` across `sources`.
pub fn find(sources: &[&dyn Source], query: &LogQuery) -> anyhow::Result<StoredLogs> {
    let mut found = FoundLogs::new(query.limit);
    let mut newest_first: Vec<&dyn Source> = sources.to_vec();
    newest_first.sort_by_key(|s| Reverse(s.max_log_time()));
    for source in newest_first {
        let latest = source.max_log_time();
        if latest == i64::MIN || !query.may_match_times(i64::MIN, latest) {
            continue;
        }
        if !found.wants(latest) {
            break;
        }
        source.logs(query, &mut found)?;
    }
    found.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(body: &str) -> Vec<u8> {
        LogRecord {
            body: Some(AnyValue {
                value: Some(Value::StringValue(body.into())),
            }),
            ..LogRecord::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn the_most_recent_are_kept_once_each() {
        let mut found = FoundLogs::new(2);
        found.add(10, 1, b"", b"", &record("a"));
        found.add(30, 3, b"", b"", &record("c"));
        found.add(30, 3, b"", b"", &record("c"));
        assert!(!found.truncated);
        found.add(20, 2, b"", b"", &record("b"));
        assert!(found.truncated);
        assert!(!found.wants(15));
        let stored = found.finish().unwrap();
        let bodies: Vec<_> = stored.data.resource_logs[0].scope_logs[0]
            .log_records
            .iter()
            .map(|r| r.body.clone().unwrap().value.unwrap())
            .collect();
        assert_eq!(
            bodies,
            [
                Value::StringValue("b".into()),
                Value::StringValue("c".into())
            ]
        );
        assert_eq!(stored.returned, 2);
    }

    #[test]
    fn conditions_on_time_severity_and_text() {
        let query = LogQuery {
            min_severity: 17,
            start: Some(10),
            end: Some(20),
            text: Some("TypeError".into()),
            ..LogQuery::default()
        };
        let error = record("Uncaught typeerror: x is undefined");
        assert!(query.admits(10, 17, &error));
        assert!(!query.admits(20, 17, &error));
        assert!(!query.admits(15, 13, &error));
        assert!(!query.admits(15, 21, &record("ReferenceError")));
        assert!(LogQuery::default().admits(i64::MIN, 0, &[]));
    }
}
