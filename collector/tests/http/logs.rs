//! OTLP logs over HTTP: `POST /v1/logs` in JSON, protobuf and gzip, the records served
//! with their trace, their session and by `GET /api/logs`; a bad record rejected alone;
//! CORS; hostile bodies refused within bounds.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::*;

/// An OTLP JSON log record at `time` of `severity` saying `body`, in `trace` and `span`
/// (empty: none), with a `session.id` attribute when `session` is not empty.
pub fn record(
    trace: &str,
    span: &str,
    time: u64,
    severity: u8,
    body: &str,
    session: &str,
) -> Value {
    let mut record = json!({
        "timeUnixNano": time.to_string(),
        "observedTimeUnixNano": time.to_string(),
        "severityNumber": severity,
        "body": {"stringValue": body},
        "attributes": [{"key": "exception.type", "value": {"stringValue": "TypeError"}}],
        "traceId": trace,
        "spanId": span,
    });
    if !session.is_empty() {
        record["attributes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"key": "session.id", "value": {"stringValue": session}}));
    }
    record
}

/// An OTLP JSON logs export request of `records` from `service`.
pub fn logs_export(service: &str, records: Vec<Value>) -> Value {
    json!({
        "resourceLogs": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": service}}
            ]},
            "scopeLogs": [{"scope": {"name": "browser", "version": "1.0"}, "logRecords": records}]
        }]
    })
}

/// The protobuf encoding of an OTLP JSON logs request.
fn logs_protobuf(request: &Value) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use prost::Message;
    let request: ExportLogsServiceRequest = serde_json::from_value(request.clone()).unwrap();
    request.encode_to_vec()
}

/// POSTs a body to /v1/logs; returns the status and the body's bytes.
async fn post_logs(server: &TestServer, body: Vec<u8>, headers: &[(&str, &str)]) -> (u16, Vec<u8>) {
    let mut request = server.client.post(server.url("/v1/logs")).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

/// The bodies of the records in an answer's `resourceLogs`, by time.
fn bodies(answer: &Value) -> Vec<String> {
    let mut records: Vec<&Value> = answer["resourceLogs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["scopeLogs"].as_array().unwrap())
        .flat_map(|s| s["logRecords"].as_array().unwrap())
        .collect();
    records.sort_by_key(|r| r["timeUnixNano"].as_str().unwrap().parse::<u64>().unwrap());
    records
        .iter()
        .map(|r| r["body"]["stringValue"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn json_protobuf_and_gzip_logs_are_stored_and_served_by_trace_session_and_filters() {
    let server = TestServer::start(|_| {}).await;
    let now = now_ns() - 10_000_000;
    let trace = trace_id(40);
    let (status, body) = server
        .post_json(&export("web", trace_spans(&trace, 1, 2, now)))
        .await;
    assert_eq!(status, 200, "{body}");

    let json_body = logs_export(
        "web",
        vec![
            record(
                &trace,
                &span_id(2),
                now + 100,
                17,
                "TypeError: x is undefined",
                "s-1",
            ),
            record("", "", now + 200, 9, "app started", "s-1"),
        ],
    );
    let (status, answer) = post_logs(
        &server,
        serde_json::to_vec(&json_body).unwrap(),
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!((status, &answer[..]), (200, &b"{}"[..]));

    let protobuf = logs_protobuf(&logs_export(
        "web",
        vec![record(&trace, "", now + 300, 13, "slow image", "s-1")],
    ));
    let (status, _) = post_logs(
        &server,
        protobuf,
        &[("content-type", "application/x-protobuf")],
    )
    .await;
    assert_eq!(status, 200);

    let gzipped = gzip(
        &serde_json::to_vec(&logs_export(
            "api",
            vec![record(&trace, "", now + 400, 9, "GET /cart 200", "")],
        ))
        .unwrap(),
    );
    let (status, _) = post_logs(
        &server,
        gzipped,
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    // Sent again (an exporter's retry): kept once.
    let (status, _) = post_logs(
        &server,
        serde_json::to_vec(&json_body).unwrap(),
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(status, 200);

    let (status, by_trace) = server.get_json(&format!("/api/traces/{trace}")).await;
    assert_eq!(status, 200, "{by_trace}");
    assert_eq!(by_trace["resourceSpans"].as_array().unwrap().len(), 1);
    assert_eq!(
        bodies(&by_trace),
        ["TypeError: x is undefined", "slow image", "GET /cart 200"]
    );
    assert!(by_trace.get("logsTruncated").is_none(), "{by_trace}");
    let first = &by_trace["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
    assert_eq!(first["spanId"], span_id(2));
    assert_eq!(first["severityNumber"], 17);

    let (status, session) = server.get_json("/api/sessions/s-1").await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(
        bodies(&session),
        ["TypeError: x is undefined", "app started", "slow image"]
    );
    assert_eq!(session["logsTruncated"], false);
    // A session known only from its log records.
    let (status, only_logs) = server.get_json("/api/logs?sessionId=s-1&limit=1").await;
    assert_eq!(status, 200, "{only_logs}");
    assert_eq!(bodies(&only_logs), ["slow image"]);
    assert_eq!(
        (
            only_logs["returned"].clone(),
            only_logs["truncated"].clone()
        ),
        (json!(1), json!(true))
    );

    let (_, errors) = server
        .get_json("/api/logs?service=web&minSeverity=warn")
        .await;
    assert_eq!(bodies(&errors), ["TypeError: x is undefined", "slow image"]);
    let (_, text) = server.get_json("/api/logs?text=typeerror").await;
    assert_eq!(bodies(&text), ["TypeError: x is undefined"]);
    let (_, window) = server
        .get_json(&format!("/api/logs?start={}&end={}", now + 200, now + 400))
        .await;
    assert_eq!(bodies(&window), ["app started", "slow image"]);
    for bad in [
        "/api/logs?severity=error",
        "/api/logs?minSeverity=loud",
        "/api/logs?limit=5000",
    ] {
        let (status, body) = server.get_json(bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].is_string(), "{body}");
    }

    // A trace known only from its log records, and a session from none.
    let (status, lonely) = server
        .get_json(&format!("/api/traces/{}", trace_id(41)))
        .await;
    assert_eq!(status, 404, "{lonely}");
    let lone = logs_export("web", vec![record(&trace_id(41), "", now, 17, "lost", "")]);
    server
        .client
        .post(server.url("/v1/logs"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&lone).unwrap())
        .send()
        .await
        .unwrap();
    let (status, lonely) = server
        .get_json(&format!("/api/traces/{}", trace_id(41)))
        .await;
    assert_eq!(status, 200, "{lonely}");
    assert_eq!(bodies(&lonely), ["lost"]);
    assert!(lonely["resourceSpans"].as_array().unwrap().is_empty());
    let (status, _) = server.get_json("/api/sessions/nobody").await;
    assert_eq!(status, 404);

    let (_, status_body) = server.get_json("/api/status").await;
    assert_eq!(status_body["logs"], 5, "{status_body}");
}

#[tokio::test]
async fn a_bad_log_record_is_rejected_alone_with_partial_success() {
    let server = TestServer::start(|_| {}).await;
    let now = now_ns();
    let request = logs_export(
        "web",
        vec![
            record(&trace_id(50), "", now, 17, "kept", "s-2"),
            record("", &span_id(1), now, 17, "no trace", "s-2"),
            record(&trace_id(50), "", now, 30, "loud", "s-2"),
            record(&trace_id(50), "", 5, 9, "1970", "s-2"),
        ],
    );
    let (status, answer) = post_logs(
        &server,
        serde_json::to_vec(&request).unwrap(),
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    let partial = &answer["partialSuccess"];
    assert_eq!(partial["rejectedLogRecords"], 3, "{answer}");
    let message = partial["errorMessage"].as_str().unwrap();
    for expected in [
        "3 of 4 log records rejected",
        "log record 1 (no traceId): spanId is set but traceId is empty",
        "log record 2 (traceId",
        "severityNumber 30",
        "log record 3",
        "before 2000-01-01",
    ] {
        assert!(message.contains(expected), "{expected:?} in {message}");
    }

    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
    use prost::Message;
    let (status, answer) = post_logs(
        &server,
        logs_protobuf(&request),
        &[("content-type", "application/x-protobuf")],
    )
    .await;
    assert_eq!(status, 200);
    let answer = ExportLogsServiceResponse::decode(&answer[..]).unwrap();
    assert_eq!(answer.partial_success.unwrap().rejected_log_records, 3);

    let (_, session) = server.get_json("/api/sessions/s-2").await;
    assert_eq!(bodies(&session), ["kept"]);
    let (status, _) = post_logs(
        &server,
        b"{".to_vec(),
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = post_logs(&server, b"{}".to_vec(), &[("content-type", "text/plain")]).await;
    assert_eq!(status, 415);
}

#[tokio::test]
async fn preflight_for_logs_from_a_local_dev_server_is_allowed() {
    let server = TestServer::start(|_| {}).await;
    let response = server
        .client
        .request(Method::OPTIONS, server.url("/v1/logs"))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,content-encoding",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    let refused = server
        .client
        .request(Method::OPTIONS, server.url("/v1/logs"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn hostile_logs_bodies_are_refused_within_bounds() {
    let collector = Binary::start(&[], 4096);
    let client = reqwest::Client::new();
    let post = |body: Vec<u8>, kind: &'static str| {
        client
            .post(collector.url("/v1/logs"))
            .header("content-type", kind)
            .body(body)
            .send()
    };

    // A body nested 40 levels deep.
    let mut value = r#"{"intValue":"1"}"#.to_owned();
    for _ in 0..40 {
        value = format!(r#"{{"arrayValue":{{"values":[{value}]}}}}"#);
    }
    let mut request = logs_export(
        "hostile",
        vec![record(&trace_id(60), "", now_ns(), 9, "", "")],
    );
    request["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"] =
        serde_json::from_str(&value).unwrap();
    let response = post(serde_json::to_vec(&request).unwrap(), "application/json")
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("nested more than 16 levels"),
        "{answer}"
    );

    // 2,000,000 empty log records in protobuf: over the record limit, refused before
    // they are decoded.
    let mut scope_logs = Vec::with_capacity(4_000_000);
    for _ in 0..2_000_000 {
        scope_logs.extend_from_slice(&[0x12, 0x00]);
    }
    let body = length_delimited(1, &length_delimited(2, &scope_logs));
    let response = post(body, "application/x-protobuf").await.unwrap();
    assert_eq!(response.status(), 413);

    // A body over --max-attribute-value: that record alone is rejected.
    let big = logs_export(
        "hostile",
        vec![
            record(&trace_id(61), "", now_ns(), 9, &"x".repeat(70_000), ""),
            record(&trace_id(61), "", now_ns(), 9, "small", ""),
        ],
    );
    let response = post(serde_json::to_vec(&big).unwrap(), "application/json")
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["partialSuccess"]["rejectedLogRecords"], 1,
        "{answer}"
    );

    let peak = collector.status_kb("VmHWM");
    assert!(peak < MAX_RSS_KB, "peak RSS {peak} kB");
}
