//! `GET /metrics` after exports of each outcome: it parses as the Prometheus text format
//! and its counters say exactly what happened; `GET /readyz`; both behind the host check
//! (421 for a foreign host name) and the CORS layer like the other GET routes.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::common::*;

/// Samples by series (`name{label="value",...}`, labels sorted), from the Prometheus text
/// format; panics on a line that is not a comment, a `# HELP`/`# TYPE`, or a sample of a
/// family whose `# TYPE` came first.
pub fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut samples = BTreeMap::new();
    let mut typed: Vec<String> = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect(line);
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            typed.push(name.to_owned());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect(line);
        let value: f64 = value.parse().expect(line);
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.strip_suffix('}').expect(line)),
            None => (series, ""),
        };
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':'),
            "{line}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .filter(|family| typed.iter().any(|t| t == family))
            .unwrap_or(name);
        assert!(typed.iter().any(|t| t == family), "no # TYPE for {line}");
        let mut pairs = parse_labels(labels, line);
        pairs.sort();
        let labels: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let key = if labels.is_empty() {
            name.to_owned()
        } else {
            format!("{name}{{{}}}", labels.join(","))
        };
        assert!(samples.insert(key, value).is_none(), "repeated: {line}");
    }
    samples
}

/// `k="v",k2="v2"` (values with `\\`, `\"` and `\n` escapes).
fn parse_labels(mut text: &str, line: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    while !text.is_empty() {
        let (key, rest) = text.split_once("=\"").expect(line);
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next().expect(line) {
                (i, '"') => break i,
                (_, '\\') => match chars.next().expect(line).1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (_, c) => value.push(c),
            }
        };
        pairs.push((key.to_owned(), value));
        text = rest[end + 1..]
            .strip_prefix(',')
            .unwrap_or(&rest[end + 1..]);
    }
    pairs
}

/// The metrics now.
async fn metrics(server: &TestServer) -> BTreeMap<String, f64> {
    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    parse(&response.text().await.unwrap())
}

/// POSTs OTLP JSON to `path`; returns the status.
async fn post(server: &TestServer, path: &str, content_type: &str, body: Vec<u8>) -> u16 {
    server
        .client
        .post(server.url(path))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn metrics_count_each_outcome_exactly() {
    let server = TestServer::start(|_| {}).await;
    let now = now_ns();
    let json = "application/json";

    // Traces: a valid request (3 spans), a malformed one, one with a span rejected, and
    // one of a type the collector does not read.
    let valid = export("svc", trace_spans(&trace_id(1), 1, 3, now - 10_000));
    assert_eq!(
        post(
            &server,
            "/v1/traces",
            json,
            serde_json::to_vec(&valid).unwrap()
        )
        .await,
        200
    );
    assert_eq!(post(&server, "/v1/traces", json, b"{".to_vec()).await, 400);
    let mut spans = trace_spans(&trace_id(2), 10, 2, now - 10_000);
    spans[1]["name"] = json!("");
    let partial = export("svc", spans);
    assert_eq!(
        post(
            &server,
            "/v1/traces",
            json,
            serde_json::to_vec(&partial).unwrap()
        )
        .await,
        200
    );
    assert_eq!(
        post(&server, "/v1/traces", "text/plain", b"x".to_vec()).await,
        415
    );
    // Logs: a valid record and one with a spanId but no traceId.
    let record = |trace: &str| {
        json!({
            "timeUnixNano": now.to_string(),
            "severityNumber": 17,
            "body": {"stringValue": "boom"},
            "traceId": trace,
            "spanId": span_id(1),
        })
    };
    let logs = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        record(&trace_id(1)),
        record(""),
    ]}]}]});
    assert_eq!(
        post(
            &server,
            "/v1/logs",
            json,
            serde_json::to_vec(&logs).unwrap()
        )
        .await,
        200
    );

    let samples = metrics(&server).await;
    let counters: BTreeMap<&str, f64> = samples
        .iter()
        .filter(|(k, _)| k.contains("_total"))
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    let p = "wasm_otlp_collector";
    let expected: BTreeMap<String, f64> = [
        (
            format!(r#"{p}_requests_total{{outcome="accepted",signal="traces"}}"#),
            1.0,
        ),
        (
            format!(r#"{p}_requests_total{{outcome="partially_accepted",signal="traces"}}"#),
            1.0,
        ),
        (
            format!(r#"{p}_requests_total{{outcome="rejected",reason="malformed",signal="traces"}}"#),
            1.0,
        ),
        (
            format!(
                r#"{p}_requests_total{{outcome="rejected",reason="unsupported_media_type",signal="traces"}}"#
            ),
            1.0,
        ),
        (
            format!(r#"{p}_requests_total{{outcome="accepted",signal="logs"}}"#),
            0.0,
        ),
        (
            format!(r#"{p}_requests_total{{outcome="partially_accepted",signal="logs"}}"#),
            1.0,
        ),
        (format!(r#"{p}_spans_total{{outcome="accepted"}}"#), 4.0),
        (
            format!(r#"{p}_spans_total{{outcome="rejected",reason="empty_name"}}"#),
            1.0,
        ),
        (format!(r#"{p}_log_records_total{{outcome="accepted"}}"#), 1.0),
        (
            format!(r#"{p}_log_records_total{{outcome="rejected",reason="span_id_without_trace_id"}}"#),
            1.0,
        ),
    ]
    .into_iter()
    .collect();
    let expected: BTreeMap<&str, f64> = expected.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(counters, expected);

    let get = |key: &str| {
        *samples
            .get(&format!("{p}_{key}"))
            .unwrap_or_else(|| panic!("{key} not in {samples:#?}"))
    };
    assert_eq!(
        get(r#"request_duration_seconds_count{signal="traces"}"#),
        4.0
    );
    assert_eq!(get(r#"request_duration_seconds_count{signal="logs"}"#), 1.0);
    assert_eq!(
        get(r#"request_duration_seconds_bucket{le="+Inf",signal="traces"}"#),
        4.0
    );
    assert!(get(r#"request_duration_seconds_sum{signal="traces"}"#) > 0.0);
    assert_eq!(get("store_spans"), 4.0);
    assert_eq!(get("store_log_records"), 1.0);
    assert_eq!(get("store_segments"), 0.0);
    assert!(get("store_size_bytes") > 0.0);
    let fill = get("store_head_fill_ratio");
    assert!(fill > 0.0 && fill <= 1.0, "{fill}");
    assert_eq!(get("store_sealed_heads"), 0.0);
    assert_eq!(get("in_flight_bytes"), 0.0);
    assert_eq!(get("decode_reserved_bytes"), 0.0);
    // This scrape's own connection, at least.
    assert!(get("connections_open") >= 1.0);
}

#[tokio::test]
async fn readyz_and_metrics_answer_under_host_check_and_cors() {
    let server = TestServer::start(|_| {}).await;
    let port = server.running.as_ref().unwrap().local_addr().port();
    let origin = "http://localhost:5173";
    for (host, status) in [
        (format!("localhost:{port}"), 200),
        ("attacker.example".to_owned(), 421),
    ] {
        for path in ["/readyz", "/metrics"] {
            let response = server
                .client
                .get(server.url(path))
                .header("host", &host)
                .header("origin", origin)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), status, "{path} for {host}");
            if status != 200 {
                continue;
            }
            assert_eq!(
                response.headers()["access-control-allow-origin"],
                origin,
                "{path}"
            );
            if path == "/readyz" {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body, json!({"ready": true, "checks": {"store": "ok"}}));
            }
        }
    }
}
