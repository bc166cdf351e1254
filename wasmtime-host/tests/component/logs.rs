//! Log records: emitted through the direct API or recorded as `LOG` operations, they
//! leave apart from spans as `logs` payloads that decode as `ExportLogsServiceRequest`,
//! linked to their span, under the resource and limits of the configuration.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::LogRecord as OtlpLogRecord;
use wasmtime_host::{KeyValue, LogRecord, Payload, Signal, TracingError};

use crate::common::ops::{Ops, parse_roots};
use crate::common::{
    Harness, MS, T0, browser_runtime, no_trap, ok, span_id_bytes, string_attribute, trace_id_bytes,
};

/// Every log record of the logs payloads among `payloads`, checking their counts.
#[track_caller]
fn records(payloads: &[Payload]) -> Vec<OtlpLogRecord> {
    payloads
        .iter()
        .filter(|p| p.signal == Signal::Logs)
        .flat_map(|payload| {
            let request: ExportLogsServiceRequest =
                serde_json::from_slice(&payload.body).expect("an ExportLogsServiceRequest");
            let records: Vec<_> = request
                .resource_logs
                .into_iter()
                .flat_map(|r| r.scope_logs)
                .flat_map(|s| s.log_records)
                .collect();
            assert_eq!(records.len(), payload.count as usize, "count");
            records
        })
        .collect()
}

fn body(record: &OtlpLogRecord) -> &str {
    match record.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(Value::StringValue(text)) => text,
        other => panic!("a string body, not {other:?}"),
    }
}

fn log(body: &str, severity: u8) -> LogRecord {
    LogRecord {
        time: None,
        severity_number: severity,
        severity_text: "error".into(),
        body: body.into(),
        attributes: vec![KeyValue::new("session.id", "s-1")],
        context: None,
        scope: 0,
    }
}

#[test]
fn a_log_record_is_linked_to_its_span_and_leaves_in_a_logs_payload() {
    let mut t = Harness::new();
    let span = t.start("checkout");
    let context = ok(t.context_of(span));
    t.clock.advance(7 * MS);
    ok(t.emit_log(&LogRecord {
        context: Some(context.clone()),
        ..log("payment failed", 17)
    }));
    ok(t.emit_log(&LogRecord {
        time: Some(T0 + MS),
        ..log("no span", 13)
    }));
    t.end(span);
    let payloads = t.flush();
    assert_eq!(
        payloads.iter().map(|p| p.signal).collect::<Vec<_>>(),
        [Signal::Traces, Signal::Logs]
    );
    let records = records(&payloads);
    assert_eq!(records.len(), 2);
    let linked = &records[0];
    assert_eq!(body(linked), "payment failed");
    assert_eq!(linked.severity_number, 17);
    assert_eq!(linked.severity_text, "error");
    assert_eq!(linked.time_unix_nano, T0 + 7 * MS);
    assert_eq!(linked.observed_time_unix_nano, T0 + 7 * MS);
    assert_eq!(linked.trace_id, trace_id_bytes(&context.trace_id));
    assert_eq!(linked.span_id, span_id_bytes(context.span_id));
    assert_eq!(linked.flags, 1, "the span's trace flags");
    assert_eq!(string_attribute(&linked.attributes, "session.id"), "s-1");
    let unlinked = &records[1];
    assert_eq!(unlinked.time_unix_nano, T0 + MS, "an explicit time is kept");
    assert!(unlinked.trace_id.is_empty() && unlinked.span_id.is_empty());
    let request: serde_json::Value = serde_json::from_slice(&payloads[1].body).expect("JSON");
    assert_eq!(
        request["resourceLogs"][0]["resource"],
        serde_json::from_slice::<serde_json::Value>(&payloads[0].body).unwrap()["resourceSpans"][0]
            ["resource"],
        "the same resource as the spans"
    );
    let stats = no_trap(t.read_stats());
    assert_eq!((stats.logs_emitted, stats.logs_exported), (2, 2));
}

#[test]
fn a_bad_severity_is_refused_and_long_bodies_are_cut() {
    let mut t = Harness::new();
    let refused = no_trap(t.emit_log(&log("x", 25)));
    assert!(
        matches!(refused, Err(TracingError::InvalidArgument(_))),
        "{refused:?}"
    );
    ok(t.emit_log(&log(&"é".repeat(10_000), 9)));
    let records = records(&t.flush());
    assert_eq!(records.len(), 1);
    assert!(body(&records[0]).len() <= 4096, "cut at max-value-length");
    let stats = no_trap(t.read_stats());
    assert_eq!(stats.rejected_operations, 1);
    assert_eq!(stats.truncated_values, 1);
}

#[test]
fn recorded_log_operations_encode_as_the_direct_api_does_in_both_worlds() {
    let record = |t: &mut Harness| {
        let ids = parse_roots(&no_trap(t.reserve_roots(1)))[0];
        let mut ops = Ops::new(T0);
        ops.log(
            Some(ids),
            17,
            "error",
            "TypeError: x is undefined",
            2.0,
            &[KeyValue::new("exception.type", "TypeError")],
        )
        .log(None, 13, "warn", "slow", 3.0, &[]);
        let outcome = no_trap(t.apply(&ops.batch()));
        assert_eq!((outcome.applied, outcome.refused), (2, 0), "{outcome:?}");
        (ids, t.flush())
    };
    let (ids, payloads) = record(&mut Harness::new());
    let logged = records(&payloads);
    assert_eq!(logged.len(), 2);
    assert_eq!(logged[0].trace_id, ids.trace_id_bytes());
    assert_eq!(logged[0].span_id, ids.span_id_bytes());
    assert_eq!(logged[0].time_unix_nano, T0 + 2 * MS);
    assert_eq!(body(&logged[1]), "slow");
    let mut browser = Harness::of(browser_runtime(), |host| host);
    let mut settings = Ops::new(T0);
    settings.configure(&crate::common::test_config());
    no_trap(browser.apply(&settings.batch()));
    let (_, browser_payloads) = record(&mut browser);
    assert_eq!(browser_payloads.len(), payloads.len());
    assert_eq!(
        records(&browser_payloads).len(),
        2,
        "the browser world records logs too"
    );
}
