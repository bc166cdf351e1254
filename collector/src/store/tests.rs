//! The store end to end on a real directory: writes, sealing into segments, reopening
//! (log replay, torn tails, damaged segments), retention and every filter.

use std::time::Duration;

use collector_decode::model::{
    AnyValue, Id, KeyValue, LogRecord, Resource, Scope, Span, Status, Value,
};

use super::*;

fn string(key: &'static str, value: &str) -> KeyValue<'static> {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::String(value.to_owned().into())),
        }),
    }
}

fn int(key: &'static str, value: i64) -> KeyValue<'static> {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Value::Int(value)),
        }),
    }
}

fn trace_id(n: u64) -> [u8; 16] {
    let mut id = [0xab; 16];
    id[8..].copy_from_slice(&n.to_be_bytes());
    id
}

/// Trace `n`: a root `GET /` and `children` fetches, one with status 500 (an error),
/// starting at `start` ns, 1 ms apart, each lasting `n` ms + its index.
fn batch(service: &str, n: u64, children: u64, start: i64) -> Batch {
    let mut batch = Batch::default();
    let resource = Resource {
        attributes: vec![
            string("service.name", service),
            string("deployment", "prod"),
        ],
        ..Resource::default()
    };
    let r = batch.add_resource(Some(&resource), "");
    let s = batch.add_scope(
        Some(&Scope {
            name: "test".into(),
            ..Scope::default()
        }),
        "",
    );
    for i in 0..=children {
        let begin = start + i as i64 * 1_000_000;
        let span = Span {
            trace_id: Id::new(&trace_id(n)),
            span_id: Id::new(&(n * 1000 + i + 1).to_be_bytes()),
            parent_span_id: if i == 0 {
                Id::default()
            } else {
                Id::new(&(n * 1000 + 1).to_be_bytes())
            },
            name: if i == 0 { "GET /" } else { "fetch" }.into(),
            start_time_unix_nano: begin as u64,
            end_time_unix_nano: (begin + (n + i) as i64 * 1_000_000) as u64,
            attributes: vec![int(
                "http.response.status_code",
                if i == 2 { 500 } else { 200 },
            )],
            status: (i == 2).then(|| Status {
                code: 2,
                ..Status::default()
            }),
            ..Span::default()
        };
        batch.add_span(r, s, &span);
    }
    batch
}

fn open(dir: &Path, max_spans: Option<u64>) -> Store {
    Store::open(
        dir,
        Retention {
            max_spans,
            ..Retention::default()
        },
        100_000,
    )
    .unwrap()
}

async fn wait_for_segments(store: &Store, segments: usize) {
    for _ in 0..500 {
        if store.status().segments >= segments && store.shared.read_state().sealed.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no {segments} segments: {:?}", store.status());
}

async fn listed(store: &Store, filter: TraceFilter) -> Vec<String> {
    store
        .list_traces(TraceFilter {
            limit: 100,
            ..filter
        })
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.trace_id)
        .collect()
}

fn id(n: u64) -> String {
    hex(&trace_id(n))
}

async fn span_count(store: &Store, n: u64) -> u64 {
    store
        .trace(trace_id(n), 10_000)
        .await
        .unwrap()
        .map_or(0, |t| t.returned)
}

/// Filters give the same answers from the head and from segments.
async fn check_filters(store: &Store) {
    let all = listed(store, TraceFilter::default()).await;
    // Most recently active first: trace n starts at n seconds.
    assert_eq!(all, [id(3), id(2), id(1)]);
    let f = |filter: TraceFilter| listed(store, filter);
    assert_eq!(
        f(TraceFilter {
            service: Some("web".into()),
            ..TraceFilter::default()
        })
        .await,
        [id(3), id(1)]
    );
    assert_eq!(
        f(TraceFilter {
            operation: Some("fetch".into()),
            ..TraceFilter::default()
        })
        .await,
        [id(3), id(2)],
        "trace 1 has no child"
    );
    assert_eq!(
        f(TraceFilter {
            attributes: vec![
                ("http.response.status_code".into(), "500".into()),
                ("deployment".into(), "prod".into())
            ],
            ..TraceFilter::default()
        })
        .await,
        [id(3), id(2)]
    );
    assert_eq!(
        f(TraceFilter {
            error: Some(false),
            ..TraceFilter::default()
        })
        .await,
        [id(1)]
    );
    assert_eq!(
        f(TraceFilter {
            error: Some(true),
            service: Some("api".into()),
            ..TraceFilter::default()
        })
        .await,
        [id(2)]
    );
    // Span-level: trace 3's fetch spans last 4-6 ms, trace 2's 3-5 ms.
    assert_eq!(
        f(TraceFilter {
            operation: Some("fetch".into()),
            min_duration: Some(6_000_000),
            ..TraceFilter::default()
        })
        .await,
        [id(3)]
    );
    assert_eq!(
        f(TraceFilter {
            max_duration: Some(1_500_000),
            ..TraceFilter::default()
        })
        .await,
        [id(1)]
    );
    assert_eq!(
        f(TraceFilter {
            start: Some(2_000_000_000),
            end: Some(3_000_000_000),
            ..TraceFilter::default()
        })
        .await,
        [id(2)]
    );
    assert!(
        f(TraceFilter {
            operation: Some("GET /".into()),
            attributes: vec![("http.response.status_code".into(), "500".into())],
            ..TraceFilter::default()
        })
        .await
        .is_empty(),
        "both conditions must hold on one span"
    );
    let summary = &store
        .list_traces(TraceFilter {
            limit: 1,
            ..TraceFilter::default()
        })
        .await
        .unwrap()[0];
    assert_eq!(
        (summary.root_span_name.as_deref(), &*summary.service),
        (Some("GET /"), "web")
    );
    assert_eq!((summary.span_count, summary.error), (4, true));
    assert_eq!(summary.start_time_unix_nano, "3000000000");
    assert_eq!(summary.duration_nanos, 9_000_000);
    let operations = store.operations().await.unwrap();
    assert_eq!(
        operations["api"].iter().collect::<Vec<_>>(),
        ["GET /", "fetch"]
    );
    assert_eq!(
        (span_count(store, 1).await, span_count(store, 3).await),
        (1, 4)
    );
}

#[tokio::test]
async fn a_listing_of_no_traces_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), None);
    write_three(&store).await;
    assert!(
        store
            .list_traces(TraceFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await;
}

async fn write_three(store: &Store) {
    store
        .write(batch("web", 1, 0, 1_000_000_000))
        .await
        .unwrap();
    store
        .write(batch("api", 2, 2, 2_000_000_000))
        .await
        .unwrap();
    store
        .write(batch("web", 3, 3, 3_000_000_000))
        .await
        .unwrap();
}

#[tokio::test]
async fn filters_hold_in_memory_in_segments_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), None);
    write_three(&store).await;
    check_filters(&store).await;
    // Resent spans are kept once.
    store
        .write(batch("web", 3, 3, 3_000_000_000))
        .await
        .unwrap();
    assert_eq!(span_count(&store, 3).await, 4);
    store.close().await;

    // Replayed from the log.
    let store = open(dir.path(), None);
    check_filters(&store).await;
    assert_eq!(store.status().spans, 8);
    store.close().await;
}

#[tokio::test]
async fn segments_answer_like_the_head_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    // Heads sealed at 2 spans (a quarter of the limit): traces 1 and 2, then 3.
    let store = open(dir.path(), Some(8));
    write_three(&store).await;
    wait_for_segments(&store, 2).await;
    assert!(store.shared.read_state().head.span_count() == 0);
    store.close().await;
    let store = open(dir.path(), None);
    assert_eq!(store.status().segments, 2);
    check_filters(&store).await;
    store.close().await;
}

/// A child span of trace `n`'s root from `service`, its span number `i`.
fn child(service: &str, n: u64, i: u64, start: i64) -> Batch {
    let mut batch = Batch::default();
    let resource = Resource {
        attributes: vec![string("service.name", service)],
        ..Resource::default()
    };
    let r = batch.add_resource(Some(&resource), "");
    let s = batch.add_scope(None, "");
    let span = Span {
        trace_id: Id::new(&trace_id(n)),
        span_id: Id::new(&(n * 1000 + i + 1).to_be_bytes()),
        parent_span_id: Id::new(&(n * 1000 + 1).to_be_bytes()),
        name: "query".into(),
        start_time_unix_nano: start as u64,
        end_time_unix_nano: start as u64 + 1_000_000,
        ..Span::default()
    };
    batch.add_span(r, s, &span);
    batch
}

/// Each listed trace's services, most recently active trace first.
async fn listed_services(store: &Store) -> Vec<Vec<String>> {
    store
        .list_traces(TraceFilter {
            limit: 10,
            ..TraceFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.services)
        .collect()
}

#[tokio::test]
async fn a_listing_names_every_service_of_a_trace_from_segments_and_the_head() {
    let dir = tempfile::tempdir().unwrap();
    // Heads sealed at 3 spans: traces 1 and 2 (api and db) in one segment, trace 3
    // (web) in another, then an api span of trace 3 in the head.
    let store = open(dir.path(), Some(12));
    let expected = [
        vec!["api".to_owned(), "web".to_owned()],
        vec!["api".to_owned(), "db".to_owned()],
        vec!["web".to_owned()],
    ];
    store
        .write(batch("web", 1, 0, 1_000_000_000))
        .await
        .unwrap();
    store.write(child("db", 2, 5, 2_000_500_000)).await.unwrap();
    store
        .write(batch("api", 2, 2, 2_000_000_000))
        .await
        .unwrap();
    store
        .write(batch("web", 3, 3, 3_000_000_000))
        .await
        .unwrap();
    wait_for_segments(&store, 2).await;
    store
        .write(child("api", 3, 6, 3_000_500_000))
        .await
        .unwrap();
    assert_eq!(store.shared.read_state().head.span_count(), 1);
    assert_eq!(listed_services(&store).await, expected);
    store.close().await;
    // Segments reopened, the head replayed from its log.
    let store = open(dir.path(), None);
    assert_eq!(store.status().segments, 2);
    assert_eq!(listed_services(&store).await, expected);
    store.close().await;
}

#[tokio::test]
async fn a_torn_log_tail_is_cut_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), None);
    write_three(&store).await;
    store.close().await;
    let log = std::fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&log).unwrap();
    let whole = bytes.len();
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3, 4, 5]);
    std::fs::write(&log, &bytes).unwrap();
    let store = open(dir.path(), None);
    check_filters(&store).await;
    assert_eq!(std::fs::metadata(&log).unwrap().len(), whole as u64);
    // Writing goes on after the cut.
    store
        .write(batch("web", 4, 0, 4_000_000_000))
        .await
        .unwrap();
    store.close().await;
    let store = open(dir.path(), None);
    assert_eq!(span_count(&store, 4).await, 1);
    store.close().await;
}

#[tokio::test]
async fn a_damaged_segment_is_set_aside_and_the_rest_stays_readable() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), Some(8));
    write_three(&store).await;
    wait_for_segments(&store, 2).await;
    store.close().await;
    let mut segments: Vec<_> = std::fs::read_dir(dir.path().join("segments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    segments.sort();
    // Damage the first segment (traces 1 and 2) inside its indexes.
    let damaged = &segments[0];
    let mut bytes = std::fs::read(damaged).unwrap();
    let footer =
        segment::format::Footer::from_bytes(&bytes[bytes.len() - segment::format::FOOTER_LEN..])
            .unwrap();
    let traces = footer.sections[segment::format::Section::Traces as usize];
    bytes[traces.offset as usize + 3] ^= 0xff;
    std::fs::write(damaged, &bytes).unwrap();

    let store = open(dir.path(), None);
    let status = store.status();
    assert_eq!(status.segments, 1);
    assert_eq!(status.set_aside.len(), 1);
    assert!(status.set_aside[0].contains("corrupt"), "{status:?}");
    assert!(
        dir.path()
            .join("corrupt")
            .join(damaged.file_name().unwrap())
            .exists()
    );
    assert_eq!(span_count(&store, 1).await, 0);
    assert_eq!(span_count(&store, 3).await, 4);
    assert_eq!(listed(&store, TraceFilter::default()).await, [id(3)]);
    store.close().await;
}

#[tokio::test]
async fn count_retention_deletes_the_earliest_segments() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), Some(8));
    write_three(&store).await;
    wait_for_segments(&store, 2).await;
    // 8 spans stored, at the limit: one more pushes out the first segment (traces 1, 2).
    store
        .write(batch("web", 4, 0, 4_000_000_000))
        .await
        .unwrap();
    assert_eq!(span_count(&store, 1).await, 0);
    assert_eq!(span_count(&store, 2).await, 0);
    assert_eq!(span_count(&store, 3).await, 4);
    assert_eq!(store.status().spans, 5);
    store.close().await;
}

#[test]
fn a_sqlite_store_is_refused_with_the_command_to_move_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(LEGACY_DATABASE_FILE), b"SQLite format 3\0").unwrap();
    let error = Store::open(dir.path(), Retention::default(), 100_000)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("earlier collector"), "{error}");
    assert!(error.contains("mv "), "{error}");
    assert!(dir.path().join(LEGACY_DATABASE_FILE).exists());
}

#[test]
fn one_collector_per_directory() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path(), None);
    let error = Store::open(dir.path(), Retention::default(), 100_000)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("in use by another collector"), "{error}");
}

#[tokio::test]
async fn byte_retention_keeps_the_disk_under_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let rules = Retention {
        max_bytes: Some(1),
        ..Retention::default()
    };
    // One-span segments; every byte over the limit: each new segment pushes out the rest.
    let store = Store::open(dir.path(), rules, 1).unwrap();
    write_three(&store).await;
    wait_for_segments(&store, 0).await;
    // Until the builder has written the last head out and a sweep came after it.
    for _ in 0..200 {
        store.request_sweep();
        if store.status().segments == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(store.status().segments, 0);
    assert_eq!(span_count(&store, 1).await, 0);
    store.close().await;
}

/// A log record of trace `trace` (and span `span`) if given, at `time`, of `severity`,
/// saying `body`, in session `session` if given.
fn record(
    trace: Option<u64>,
    span: Option<u64>,
    time: u64,
    severity: i32,
    body: &str,
    session: Option<&str>,
) -> LogRecord<'static> {
    LogRecord {
        time_unix_nano: time,
        severity_number: severity,
        body: Some(AnyValue {
            value: Some(Value::String(body.to_owned().into())),
        }),
        attributes: session
            .map(|id| vec![string(SESSION_ID, id)])
            .unwrap_or_default(),
        trace_id: trace.map_or_else(Id::default, |n| Id::new(&trace_id(n))),
        span_id: span.map_or_else(Id::default, |s| Id::new(&s.to_be_bytes())),
        ..LogRecord::default()
    }
}

/// A batch of log records from `service`, whose resource carries `resource_session`.
fn logs(service: &str, resource_session: Option<&str>, records: &[LogRecord<'_>]) -> Batch {
    let mut batch = Batch::default();
    let mut attributes = vec![string("service.name", service)];
    attributes.extend(resource_session.map(|id| string(SESSION_ID, id)));
    let resource = Resource {
        attributes,
        ..Resource::default()
    };
    let r = batch.add_resource(Some(&resource), "");
    let s = batch.add_scope(None, "");
    for record in records {
        batch.add_log(r, s, record);
    }
    batch
}

/// The browser's records: trace 1 has an error on its root span and a warning without
/// a span; a no-trace info record; the session `s1` on the resource, except for one
/// record that names `s2` itself (the record's attribute wins). And a server's record
/// of trace 1, without a session.
async fn write_logs(store: &Store) {
    let browser = logs(
        "web",
        Some("s1"),
        &[
            record(
                Some(1),
                Some(1001),
                1_100_000_000,
                17,
                "TypeError: x is undefined",
                None,
            ),
            record(Some(1), None, 1_200_000_000, 13, "slow image", None),
            record(None, None, 1_300_000_000, 9, "app started", None),
            record(None, None, 1_400_000_000, 13, "other tab", Some("s2")),
        ],
    );
    store.write(browser).await.unwrap();
    let server = logs(
        "api",
        None,
        &[record(Some(1), None, 1_150_000_000, 9, "GET / 200", None)],
    );
    store.write(server).await.unwrap();
}

/// The bodies found by `query` (limit 100 unless set), oldest first.
async fn bodies(store: &Store, query: LogQuery) -> Vec<String> {
    let limit = if query.limit == 0 { 100 } else { query.limit };
    let found = store.logs(LogQuery { limit, ..query }).await.unwrap();
    let mut records: Vec<_> = found
        .data
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .collect();
    records.sort_by_key(|r| r.time_unix_nano);
    records
        .into_iter()
        .map(|r| match &r.body.as_ref().unwrap().value {
            Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => {
                s.clone()
            }
            other => panic!("{other:?}"),
        })
        .collect()
}

/// Log queries give the same answers from the head and from segments.
async fn check_logs(store: &Store) {
    let q = |query: LogQuery| bodies(store, query);
    assert_eq!(
        q(LogQuery {
            trace: Some(trace_id(1)),
            ..LogQuery::default()
        })
        .await,
        ["TypeError: x is undefined", "GET / 200", "slow image"]
    );
    assert_eq!(
        q(LogQuery {
            session: Some("s1".into()),
            ..LogQuery::default()
        })
        .await,
        ["TypeError: x is undefined", "slow image", "app started"]
    );
    assert_eq!(
        q(LogQuery {
            session: Some("s2".into()),
            ..LogQuery::default()
        })
        .await,
        ["other tab"]
    );
    assert_eq!(
        q(LogQuery {
            service: Some("web".into()),
            min_severity: 13,
            ..LogQuery::default()
        })
        .await,
        ["TypeError: x is undefined", "slow image", "other tab"]
    );
    assert_eq!(
        q(LogQuery {
            text: Some("typeerror".into()),
            ..LogQuery::default()
        })
        .await,
        ["TypeError: x is undefined"]
    );
    assert_eq!(
        q(LogQuery {
            start: Some(1_150_000_000),
            end: Some(1_300_000_000),
            ..LogQuery::default()
        })
        .await,
        ["GET / 200", "slow image"]
    );
    // The most recent, and the answer says that older ones were left out.
    let latest = store
        .logs(LogQuery {
            limit: 2,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!((latest.returned, latest.truncated), (2, true));
    assert_eq!(
        q(LogQuery {
            limit: 2,
            ..LogQuery::default()
        })
        .await,
        ["app started", "other tab"]
    );
    let all = store
        .logs(LogQuery {
            limit: 5,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!((all.returned, all.truncated), (5, false));
}

#[tokio::test]
async fn logs_are_found_in_memory_in_segments_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    // Heads sealed at 2 items: the browser's records in one segment, the server's
    // record and trace 1 in the next, then traces 2 and 3 in one each.
    let store = Store::open(dir.path(), Retention::default(), 2).unwrap();
    write_logs(&store).await;
    check_logs(&store).await;
    write_three(&store).await;
    wait_for_segments(&store, 4).await;
    check_logs(&store).await;
    check_filters(&store).await;
    assert_eq!(store.status().logs, 5);
    store.close().await;
    let store = open(dir.path(), None);
    check_logs(&store).await;
    store.close().await;

    // Replayed from the log.
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), None);
    write_logs(&store).await;
    store.close().await;
    let store = open(dir.path(), None);
    assert_eq!(store.status().segments, 0);
    check_logs(&store).await;
    store.close().await;
}

#[tokio::test]
async fn a_resent_log_record_is_kept_once_in_the_head_and_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Retention::default(), 2).unwrap();
    write_logs(&store).await;
    write_logs(&store).await;
    wait_for_segments(&store, 2).await;
    write_logs(&store).await;
    check_logs(&store).await;
    // A record differing in its time or body is another record.
    store
        .write(logs(
            "web",
            Some("s1"),
            &[
                record(Some(1), None, 1_200_000_001, 13, "slow image", None),
                record(Some(1), None, 1_200_000_000, 13, "slow font", None),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(
        bodies(
            &store,
            LogQuery {
                trace: Some(trace_id(1)),
                ..LogQuery::default()
            }
        )
        .await
        .len(),
        5
    );
    store.close().await;
}

#[tokio::test]
async fn count_retention_counts_log_records_and_deletes_their_segments() {
    let dir = tempfile::tempdir().unwrap();
    // Heads sealed at 2 items; at most 8 items kept.
    let store = open(dir.path(), Some(8));
    write_logs(&store).await;
    wait_for_segments(&store, 1).await;
    assert_eq!(store.status().logs, 5);
    // 13 items: the segments with the log records (the browser's, then the server's
    // with trace 1) go first.
    write_three(&store).await;
    wait_for_segments(&store, 1).await;
    store.request_sweep();
    for _ in 0..200 {
        if store.status().logs == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(store.status().logs, 0);
    assert!(
        bodies(
            &store,
            LogQuery {
                session: Some("s1".into()),
                ..LogQuery::default()
            }
        )
        .await
        .is_empty()
    );
    assert_eq!(span_count(&store, 3).await, 4);
    store.close().await;
}
