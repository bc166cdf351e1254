//! Ingest keys and rate limits: a key is accepted from its origins only (401 with a
//! message otherwise, before the body is read), in a header or the query; rate-limited
//! origins and keys get 429 with `Retry-After` while others are served; without keys
//! nothing changes; the CORS preflight allows the key's header; refusals are counted.

use std::time::Duration;

use collector::config::Config;
use prost::Message;
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

const SHOP: &str = "https://shop.example.com";
const EVIL: &str = "https://evil.example";

/// A collector that takes exports with the key `shop` from [`SHOP`] and any port of
/// `http://localhost`, and `server-side` from anywhere (also without an origin).
fn with_keys(config: &mut Config) {
    config.keys = vec![
        format!("shop={SHOP},http://localhost:*").parse().unwrap(),
        "server-side=*".parse().unwrap(),
    ];
    config.cors_origins.push(SHOP.parse().unwrap());
}

/// The answer to a request.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

/// POSTs one valid OTLP JSON request of a new trace (`n`) to `path`, from `origin`, with
/// `key` in the key header.
async fn send(
    server: &TestServer,
    path: &str,
    n: u64,
    origin: Option<&str>,
    key: Option<&str>,
) -> Answer {
    let body = if path.starts_with("/v1/logs") {
        serde_json::json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
            {"timeUnixNano": now_ns().to_string(), "body": {"stringValue": format!("log {n}")}}
        ]}]}]})
    } else {
        export("keyed", trace_spans(&trace_id(n), n * 10, 2, now_ns()))
    };
    let mut request = server
        .client
        .post(server.url(path))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap());
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    if let Some(key) = key {
        request = request.header("x-wasm-otlp-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

/// The `google.rpc.Status` message of a refusal, after checking its code.
fn message(answer: &Answer, code: i64) -> &str {
    assert_eq!(answer.body["code"], code, "{}", answer.body);
    answer.body["message"].as_str().unwrap()
}

#[tokio::test]
async fn a_key_is_accepted_from_its_origins_and_refused_from_others() {
    let server = TestServer::start(with_keys).await;
    let ok = send(&server, "/v1/traces", 1, Some(SHOP), Some("shop")).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(server.spans_of(&trace_id(1)).await.unwrap().len(), 2);
    let local = send(
        &server,
        "/v1/logs",
        2,
        Some("http://localhost:5173"),
        Some("shop"),
    )
    .await;
    assert_eq!(local.status, 200, "{}", local.body);

    let refused = send(&server, "/v1/traces", 3, Some(EVIL), Some("shop")).await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        message(&refused, 16),
        r#"ingest key "shop" is not valid for origin "https://evil.example""#
    );
    assert_eq!(server.spans_of(&trace_id(3)).await, None);
    let no_origin = send(&server, "/v1/traces", 4, None, Some("shop")).await;
    assert_eq!(no_origin.status, 401);
    assert!(
        message(&no_origin, 16).contains("no Origin header"),
        "{}",
        no_origin.body
    );
    // A key for `*` is accepted from anywhere, and without an origin (a server's exporter).
    for origin in [None, Some(EVIL)] {
        let anywhere = send(&server, "/v1/traces", 5, origin, Some("server-side")).await;
        assert_eq!(anywhere.status, 200, "{}", anywhere.body);
    }
}

#[tokio::test]
async fn no_key_or_an_unknown_key_gets_401_with_a_message() {
    let server = TestServer::start(with_keys).await;
    for path in ["/v1/traces", "/v1/logs"] {
        let missing = send(&server, path, 1, Some(SHOP), None).await;
        assert_eq!(missing.status, 401);
        let text = message(&missing, 16);
        assert!(
            text.starts_with("no ingest key") && text.contains("x-wasm-otlp-key"),
            "{text}"
        );
        let unknown = send(&server, path, 2, Some(SHOP), Some("shop-old-2f9a1c")).await;
        assert_eq!(unknown.status, 401);
        // Only the first characters of what was sent come back.
        assert_eq!(message(&unknown, 16), "unknown ingest key \"shop…\"");
    }
    assert_eq!(server.spans_of(&trace_id(1)).await, None);
    assert_eq!(server.spans_of(&trace_id(2)).await, None);

    // Protobuf requests get a protobuf google.rpc.Status.
    let response = server
        .client
        .post(server.url("/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .header("origin", EVIL)
        .header("x-wasm-otlp-key", "shop")
        .body(to_protobuf(&export(
            "keyed",
            trace_spans(&trace_id(3), 30, 1, now_ns()),
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["content-type"], "application/x-protobuf");
    let status =
        collector::ingest::respond::Status::decode(&response.bytes().await.unwrap()[..]).unwrap();
    assert_eq!(status.code, 16);
    assert!(
        status.message.contains("evil.example"),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn a_refusal_comes_before_the_body_is_read() {
    let server = TestServer::start(with_keys).await;
    let addr = server.running.as_ref().unwrap().local_addr();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A head announcing a large body that never comes.
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nhost: {addr}\r\norigin: {EVIL}\r\nx-wasm-otlp-key: shop\r\n\
         content-type: application/json\r\ncontent-length: 3000000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 401 "), "{answer}");
    assert!(answer.contains("not valid for origin"), "{answer}");
}

#[tokio::test]
async fn the_key_may_come_as_a_query_parameter() {
    let server = TestServer::start(with_keys).await;
    for (path, n) in [("/v1/traces?key=shop", 1), ("/v1/logs?key=shop", 2)] {
        let ok = send(&server, path, n, Some(SHOP), None).await;
        assert_eq!(ok.status, 200, "{path}: {}", ok.body);
    }
    assert_eq!(server.spans_of(&trace_id(1)).await.unwrap().len(), 2);
    let wrong = send(&server, "/v1/traces?key=shop", 3, Some(EVIL), None).await;
    assert_eq!(wrong.status, 401);
    let unknown = send(&server, "/v1/traces?key=nope", 4, Some(SHOP), None).await;
    assert_eq!(message(&unknown, 16), "unknown ingest key \"nope\"");
}

#[tokio::test]
async fn without_keys_exports_need_none() {
    let server = TestServer::start(|_| {}).await;
    for (n, key) in [(1, None), (2, Some("anything"))] {
        let ok = send(&server, "/v1/traces", n, Some(EVIL), key).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert!(ok.headers.get("retry-after").is_none());
    }
    assert_eq!(server.spans_of(&trace_id(2)).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_rate_limited_origin_gets_429_while_other_origins_are_served() {
    let server = TestServer::start(|c| {
        c.rate_limit_origin = Some("1/m,burst=3".parse().unwrap());
        c.cors_origins.push(SHOP.parse().unwrap());
    })
    .await;
    // Both signals draw on the origin's one bucket.
    for (n, path) in [(1, "/v1/traces"), (2, "/v1/logs"), (3, "/v1/traces")] {
        let ok = send(&server, path, n, Some(SHOP), None).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
    }
    let limited = send(&server, "/v1/traces", 4, Some(SHOP), None).await;
    assert_eq!(limited.status, 429);
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let text = message(&limited, 8);
    assert!(
        text.contains("this origin") && text.contains("--rate-limit-origin"),
        "{text}"
    );
    // The browser may read why, and when to come back.
    assert_eq!(limited.headers["access-control-allow-origin"], SHOP);
    let exposed = limited.headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");
    assert_eq!(server.spans_of(&trace_id(4)).await, None);

    // Other origins, and requests without one, have buckets of their own.
    let other = send(
        &server,
        "/v1/traces",
        5,
        Some("https://other.example"),
        None,
    )
    .await;
    assert_eq!(other.status, 200, "{}", other.body);
    let none = send(&server, "/v1/traces", 6, None, None).await;
    assert_eq!(none.status, 200, "{}", none.body);
    assert_eq!(
        send(&server, "/v1/logs", 7, Some(SHOP), None).await.status,
        429
    );

    assert_rejected(
        &server,
        &[("traces", "rate_limited"), ("logs", "rate_limited")],
    )
    .await;
}

#[tokio::test]
async fn a_key_over_its_limit_gets_429_from_all_its_origins() {
    let server = TestServer::start(|c| {
        with_keys(c);
        c.rate_limit_key = Some("1/m,burst=2".parse().unwrap());
    })
    .await;
    assert_eq!(
        send(&server, "/v1/traces", 1, Some(SHOP), Some("shop"))
            .await
            .status,
        200
    );
    let local = Some("http://localhost:3000");
    assert_eq!(
        send(&server, "/v1/traces", 2, local, Some("shop"))
            .await
            .status,
        200
    );
    let limited = send(&server, "/v1/traces", 3, local, Some("shop")).await;
    assert_eq!(limited.status, 429);
    assert!(limited.headers.contains_key("retry-after"));
    assert!(
        message(&limited, 8).contains("--rate-limit-key"),
        "{}",
        limited.body
    );
    // Another key is served; a refused key is refused for the key, not counted.
    let other = send(&server, "/v1/traces", 4, Some(SHOP), Some("server-side")).await;
    assert_eq!(other.status, 200, "{}", other.body);
    assert_eq!(
        send(&server, "/v1/traces", 5, Some(EVIL), Some("shop"))
            .await
            .status,
        401
    );

    assert_rejected(
        &server,
        &[("traces", "rate_limited"), ("traces", "unauthorized")],
    )
    .await;
}

/// Checks that the metrics count one rejected request of each `(signal, reason)`.
async fn assert_rejected(server: &TestServer, expected: &[(&str, &str)]) {
    let metrics = metrics_at(&server.client, &server.base).await;
    for (signal, reason) in expected {
        let series = format!(
            "wasm_otlp_collector_requests_total{{outcome=\"rejected\",reason={reason:?},signal={signal:?}}}"
        );
        assert_eq!(metrics.get(&series), Some(&1.0), "{series} in {metrics:?}");
    }
}

#[tokio::test]
async fn the_preflight_allows_the_key_header_and_refusals_carry_cors_headers() {
    let server = TestServer::start(with_keys).await;
    let response = server
        .client
        .request(Method::OPTIONS, server.url("/v1/traces"))
        .header("origin", SHOP)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,content-encoding,x-wasm-otlp-key",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], SHOP);
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("x-wasm-otlp-key"), "{allowed}");

    let refused = send(&server, "/v1/traces", 1, Some(SHOP), Some("wrong")).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.headers["access-control-allow-origin"], SHOP);
    // Queries are not behind keys.
    let (status, _) = server.get_json("/api/traces").await;
    assert_eq!(status, 200);
}
