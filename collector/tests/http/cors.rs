//! CORS: preflights, allowed and refused origins, headers on error responses.

use collector::config::ByteSize;
use reqwest::Method;
use serde_json::json;

use crate::common::*;

async fn preflight(server: &TestServer, origin: &str) -> reqwest::Response {
    server
        .client
        .request(Method::OPTIONS, server.url("/v1/traces"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,content-encoding",
        )
        .send()
        .await
        .unwrap()
}

fn allow_origin(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn preflight_from_a_local_dev_server_is_allowed() {
    let server = TestServer::start(|_| {}).await;
    for origin in [
        "http://localhost:5173",
        "https://127.0.0.1:8443",
        "http://[::1]:3000",
        "http://localhost",
    ] {
        let response = preflight(&server, origin).await;
        assert!(response.status().is_success(), "{origin}");
        assert_eq!(allow_origin(&response).as_deref(), Some(origin));
        let headers = response.headers();
        let methods = headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .to_ascii_uppercase();
        for method in ["POST", "GET", "OPTIONS"] {
            assert!(methods.contains(method), "{methods}");
        }
        let allowed = headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        for header in ["content-type", "content-encoding", "accept"] {
            assert!(allowed.contains(header), "{allowed}");
        }
        assert_eq!(headers["access-control-max-age"], "7200");
    }
}

#[tokio::test]
async fn other_origins_get_no_allow_origin() {
    let server = TestServer::start(|_| {}).await;
    for origin in [
        "https://evil.example",
        "http://localhost.evil.example",
        "null",
    ] {
        let response = preflight(&server, origin).await;
        assert_eq!(allow_origin(&response), None, "{origin}");
    }
    let response = server
        .client
        .get(server.url("/api/traces"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(allow_origin(&response), None);
}

#[tokio::test]
async fn configured_origins_replace_the_defaults() {
    let server = TestServer::start(|c| {
        c.cors_origins = vec!["https://app.example.com".parse().unwrap()];
    })
    .await;
    let allowed = preflight(&server, "https://app.example.com").await;
    assert_eq!(
        allow_origin(&allowed).as_deref(),
        Some("https://app.example.com")
    );
    assert_eq!(
        allow_origin(&preflight(&server, "http://localhost:5173").await),
        None
    );

    let any = TestServer::start(|c| c.cors_origins = vec!["*".parse().unwrap()]).await;
    let response = preflight(&any, "https://anything.example").await;
    assert_eq!(
        allow_origin(&response).as_deref(),
        Some("https://anything.example")
    );
}

#[tokio::test]
async fn error_and_partial_success_responses_carry_cors_headers() {
    let server = TestServer::start(|c| c.max_body = ByteSize(64 << 10)).await;
    let origin = "http://localhost:5173";
    let now = now_ns();
    let post = |body: Vec<u8>, content_type: &'static str| {
        server
            .client
            .post(server.url("/v1/traces"))
            .header("origin", origin)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let too_large = post(vec![b' '; 100 << 10], "application/json")
        .await
        .unwrap();
    let unsupported = post(b"x".to_vec(), "text/plain").await.unwrap();
    let malformed = post(b"{".to_vec(), "application/json").await.unwrap();
    let mut spans = trace_spans(&trace_id(1), 1, 2, now - 10_000);
    spans[1]["name"] = json!("");
    let partial = post(
        serde_json::to_vec(&export("svc", spans)).unwrap(),
        "application/json",
    )
    .await
    .unwrap();
    for (response, status) in [
        (too_large, 413),
        (unsupported, 415),
        (malformed, 400),
        (partial, 200),
    ] {
        assert_eq!(response.status(), status);
        assert_eq!(allow_origin(&response).as_deref(), Some(origin), "{status}");
    }
}
