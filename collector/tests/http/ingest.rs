//! POST /v1/traces: encodings, validation, partial success, error bodies.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use serde_json::{Value, json};

use crate::common::*;

/// `google.rpc.Status` as the collector sends it.
#[derive(Clone, PartialEq, Message)]
struct Status {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

#[tokio::test]
async fn json_is_stored_and_served_back_as_otlp_json() {
    let server = TestServer::start(|_| {}).await;
    let now = now_ns();
    let trace = trace_id(1);
    let mut request = export("shop-web", trace_spans(&trace, 1, 3, now - 1_000_000));
    // Unknown fields anywhere are ignored.
    request["futureTopLevel"] = json!({"x": 1});
    request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["futureField"] = json!([1, 2]);
    let (status, body) = server.post_json(&request).await;
    assert_eq!((status, body), (200, json!({})));

    let traces = server.traces("").await;
    assert_eq!(traces.len(), 1);
    let item = &traces[0];
    assert_eq!(item["traceId"], trace);
    assert_eq!(item["rootSpanName"], "op 0");
    assert_eq!(item["service"], "shop-web");
    assert_eq!(item["spanCount"], 3);
    assert_eq!(item["error"], false);
    assert_eq!(item["startTimeUnixNano"], (now - 1_000_000).to_string());
    assert_eq!(item["durationNanos"], 2500);

    let (status, body) = server.get_json(&format!("/api/traces/{trace}")).await;
    assert_eq!(status, 200);
    let rs = &body["resourceSpans"][0];
    assert_eq!(rs["resource"]["attributes"][0]["key"], "service.name");
    assert_eq!(rs["scopeSpans"][0]["scope"]["name"], "test");
    let spans = rs["scopeSpans"][0]["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 3);
    assert_eq!(spans[0]["traceId"], trace);
    assert_eq!(spans[0]["spanId"], span_id(1));
    assert_eq!(spans[1]["parentSpanId"], span_id(1));
    assert_eq!(spans[0]["kind"], 3);
    assert_eq!(spans[0]["attributes"][1]["value"]["intValue"], "200");
}

#[tokio::test]
async fn protobuf_and_gzip_are_accepted() {
    let server = TestServer::start(|_| {}).await;
    let now = now_ns();
    let cases: [(&str, bool, &str); 4] = [
        ("application/x-protobuf", false, "identity"),
        ("application/x-protobuf", true, "gzip"),
        ("application/json", true, "gzip"),
        ("application/json; charset=utf-8", false, ""),
    ];
    for (n, (content_type, gzipped, encoding)) in cases.into_iter().enumerate() {
        let trace = trace_id(100 + n as u64);
        let request = export("svc", trace_spans(&trace, 10 * n as u64 + 1, 2, now - 5000));
        let mut body = if content_type.contains("protobuf") {
            to_protobuf(&request)
        } else {
            serde_json::to_vec(&request).unwrap()
        };
        if gzipped {
            body = gzip(&body);
        }
        let mut headers = vec![("content-type", content_type)];
        if !encoding.is_empty() {
            headers.push(("content-encoding", encoding));
        }
        let response = server.post(body, &headers).await;
        assert_eq!(response.status(), 200, "{content_type} {encoding}");
        let returned_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = response.bytes().await.unwrap();
        if content_type.contains("protobuf") {
            assert_eq!(returned_type, "application/x-protobuf");
            let decoded = ExportTraceServiceResponse::decode(&bytes[..]).unwrap();
            assert_eq!(decoded.partial_success, None);
        } else {
            assert_eq!(returned_type, "application/json");
            assert_eq!(&bytes[..], b"{}");
        }
        assert_eq!(server.spans_of(&trace).await.unwrap().len(), 2);
    }
}

/// Each rule, sent as the second span of a request whose first span is valid.
#[tokio::test]
async fn every_validation_rule_rejects_only_the_offending_span() {
    let server =
        TestServer::start(|c| c.max_attribute_value = collector::config::ByteSize(1024)).await;
    let now = now_ns();
    let day = 86_400_000_000_000u64;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("traceId", json!("0123"), "traceId must be 16 bytes"),
        (
            "traceId",
            json!("00000000000000000000000000000000"),
            "all zero",
        ),
        ("spanId", json!("01020304"), "spanId must be 8 bytes"),
        ("spanId", json!("0000000000000000"), "all zero"),
        (
            "parentSpanId",
            json!("0102"),
            "parentSpanId must be empty or 8 bytes",
        ),
        ("name", json!(""), "name is empty"),
        ("kind", json!(6), "kind 6 is not a SpanKind"),
        ("status", json!({"code": 7}), "status.code 7"),
        (
            "startTimeUnixNano",
            json!("1700000000000"),
            "before 2000-01-01",
        ),
        (
            "startTimeUnixNano",
            json!((now + 20 * 60 * 1_000_000_000).to_string()),
            "more than 900 s past the collector's clock (--max-future",
        ),
        (
            "startTimeUnixNano",
            json!((now - 8 * day).to_string()),
            "older than the retention age of 604800 s (--retention-max-age)",
        ),
        (
            "name",
            json!("n".repeat(5000)),
            "span name is 5000 bytes; the limit is 4096 (--max-field-length)",
        ),
        (
            "attributes",
            json!([{"key": "k".repeat(4097), "value": {"intValue": 1}}]),
            "span attribute key is 4097 bytes",
        ),
        (
            "status",
            json!({"code": 2, "message": "m".repeat(4097)}),
            "span status.message is 4097 bytes",
        ),
        (
            "endTimeUnixNano",
            json!((now - 10_000_000).to_string()),
            "is before startTimeUnixNano",
        ),
        (
            "attributes",
            json!([{"key": "big", "value": {"stringValue": "x".repeat(1025)}}]),
            "span attribute \"big\" value is 1025 bytes; the limit is 1024",
        ),
        (
            "events",
            json!([{"timeUnixNano": now.to_string(), "name": "e",
                    "attributes": [{"key": "stack", "value": {"stringValue": "y".repeat(2000)}}]}]),
            "event attribute \"stack\"",
        ),
    ];
    for (n, (field, value, expected)) in cases.into_iter().enumerate() {
        let trace = trace_id(200 + n as u64);
        let good = span(&trace, &span_id(1), "", "good", now - 1_000_000, now - 1000);
        let mut bad = span(&trace, &span_id(2), "", "bad", now - 1_000_000, now - 1000);
        bad[field] = value;
        let (status, body) = server.post_json(&export("svc", vec![good, bad])).await;
        assert_eq!(status, 200, "{field}: {body}");
        let partial = &body["partialSuccess"];
        assert_eq!(partial["rejectedSpans"], 1, "{field}: {body}");
        let message = partial["errorMessage"].as_str().unwrap();
        assert!(message.contains("span 1 ("), "{field}: {message}");
        assert!(
            message.contains(expected),
            "{field}: {message} lacks {expected}"
        );
        if field != "spanId" {
            assert!(message.contains(&span_id(2)), "{message}");
        }
        let kept = server.spans_of(&trace).await.unwrap();
        assert_eq!(kept.len(), 1, "{field}");
        assert_eq!(kept[0]["name"], "good");
    }
}

#[tokio::test]
async fn partial_success_in_protobuf_names_the_span() {
    let server = TestServer::start(|_| {}).await;
    let now = now_ns();
    let trace = trace_id(300);
    let mut spans = trace_spans(&trace, 1, 3, now - 10_000);
    spans[2]["name"] = json!("");
    let body = to_protobuf(&export("svc", spans));
    let response = server
        .post(body, &[("content-type", "application/x-protobuf")])
        .await;
    assert_eq!(response.status(), 200);
    let decoded = ExportTraceServiceResponse::decode(&response.bytes().await.unwrap()[..]).unwrap();
    let partial = decoded.partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial
            .error_message
            .contains(&format!("span 2 (spanId {}): name is empty", span_id(3))),
        "{}",
        partial.error_message
    );
    assert_eq!(server.spans_of(&trace).await.unwrap().len(), 2);
}

#[tokio::test]
async fn undecodable_bodies_get_400_with_a_status_in_the_request_encoding() {
    let server = TestServer::start(|_| {}).await;
    let response = server
        .post(
            b"{\"resourceSpans\": [".to_vec(),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 3);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid OTLP JSON"),
        "{body}"
    );

    let response = server
        .post(
            vec![0x0a, 0xff, 0x01],
            &[("content-type", "application/x-protobuf")],
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["content-type"], "application/x-protobuf");
    let status = Status::decode(&response.bytes().await.unwrap()[..]).unwrap();
    assert_eq!(status.code, 3);
    assert!(
        status.message.starts_with("invalid OTLP protobuf"),
        "{}",
        status.message
    );

    let response = server
        .post(
            b"not gzip".to_vec(),
            &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
        )
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("gzip"), "{body}");
}

#[tokio::test]
async fn unsupported_types_and_encodings_get_415() {
    let server = TestServer::start(|_| {}).await;
    let response = server
        .post(b"hello".to_vec(), &[("content-type", "text/plain")])
        .await;
    assert_eq!(response.status(), 415);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 3);
    assert!(
        body["message"].as_str().unwrap().contains("text/plain"),
        "{body}"
    );

    let response = server.post(b"{}".to_vec(), &[]).await;
    assert_eq!(response.status(), 415);

    let response = server
        .post(
            b"x".to_vec(),
            &[
                ("content-type", "application/x-protobuf"),
                ("content-encoding", "br"),
            ],
        )
        .await;
    assert_eq!(response.status(), 415);
    assert_eq!(response.headers()["content-type"], "application/x-protobuf");
    let status = Status::decode(&response.bytes().await.unwrap()[..]).unwrap();
    assert!(status.message.contains("\"br\""), "{}", status.message);
}

#[tokio::test]
async fn concurrent_requests_are_all_stored() {
    let server = TestServer::start(|_| {}).await;
    let now = now_ns();
    let mut tasks = Vec::new();
    for n in 0..16u64 {
        let client = server.client.clone();
        let url = server.url("/v1/traces");
        let body = serde_json::to_vec(&export(
            "svc",
            trace_spans(&trace_id(400 + n), n * 100 + 1, 50, now - 100_000),
        ))
        .unwrap();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    for n in 0..16u64 {
        assert_eq!(server.spans_of(&trace_id(400 + n)).await.unwrap().len(), 50);
    }
}

#[tokio::test]
async fn a_resent_request_is_stored_once() {
    let server = TestServer::start(|c| c.retention_max_spans = 5).await;
    let request = export("svc", trace_spans(&trace_id(500), 1, 4, now_ns() - 10_000));
    assert_eq!(server.post_json(&request).await.0, 200);
    assert_eq!(server.post_json(&request).await.0, 200);
    assert_eq!(server.spans_of(&trace_id(500)).await.unwrap().len(), 4);
    // The count that retention keeps did not grow either: one more span fits.
    let more = export("svc", trace_spans(&trace_id(501), 10, 1, now_ns() - 5_000));
    assert_eq!(server.post_json(&more).await.0, 200);
    assert_eq!(server.spans_of(&trace_id(500)).await.unwrap().len(), 4);
}
