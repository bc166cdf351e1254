//! The host check (DNS rebinding): requests for host names the collector does not answer
//! to get 421 with a message and change nothing; loopback names, the listen address and
//! added names are served; allowed origins' preflights may ask for private-network access.

use reqwest::Method;
use serde_json::Value;

use crate::common::*;

async fn get_with_host(server: &TestServer, path: &str, host: &str) -> (u16, Value) {
    let response = server
        .client
        .get(server.url(path))
        .header("host", host)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_foreign_host_name_gets_421_and_writes_nothing() {
    let server = TestServer::start(|_| {}).await;
    let trace = trace_id(1);
    let body = serde_json::to_vec(&export("rebound", trace_spans(&trace, 1, 2, now_ns()))).unwrap();
    let port = server.running.as_ref().unwrap().local_addr().port();
    let foreign = format!("attacker.example:{port}");
    let response = server
        .post(
            body.clone(),
            &[("content-type", "application/json"), ("host", &foreign)],
        )
        .await;
    assert_eq!(response.status().as_u16(), 421);
    let error: Value = response.json().await.unwrap();
    let message = error["error"].as_str().unwrap();
    assert!(
        message.contains("\"attacker.example\"") && message.contains("--allowed-hosts"),
        "{message}"
    );
    for path in ["/api/traces", "/", "/healthz"] {
        assert_eq!(
            get_with_host(&server, path, &foreign).await.0,
            421,
            "{path}"
        );
    }
    assert!(
        server.spans_of(&trace).await.is_none(),
        "nothing was stored"
    );
    // The same request for a loopback name is served and stored.
    let local = format!("localhost:{port}");
    let response = server
        .post(
            body,
            &[("content-type", "application/json"), ("host", &local)],
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(server.spans_of(&trace).await.unwrap().len(), 2);
    for host in [
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "localhost".into(),
    ] {
        assert_eq!(
            get_with_host(&server, "/healthz", &host).await.0,
            200,
            "{host}"
        );
    }
}

#[tokio::test]
async fn added_names_are_served_and_a_star_serves_any() {
    let server = TestServer::start(|c| c.allowed_hosts = vec!["traces.internal".into()]).await;
    assert_eq!(
        get_with_host(&server, "/healthz", "traces.internal:4318")
            .await
            .0,
        200
    );
    assert_eq!(
        get_with_host(&server, "/healthz", "other.internal").await.0,
        421
    );
    let open = TestServer::start(|c| c.allowed_hosts = vec!["*".into()]).await;
    assert_eq!(
        get_with_host(&open, "/healthz", "anything.example").await.0,
        200
    );
}

#[tokio::test]
async fn allowed_origins_may_reach_a_loopback_collector_from_a_public_page() {
    let server = TestServer::start(|_| {}).await;
    let preflight = |origin: &'static str| {
        server
            .client
            .request(Method::OPTIONS, server.url("/v1/traces"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .header("access-control-request-private-network", "true")
            .send()
    };
    let allowed = preflight("http://localhost:5173").await.unwrap();
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-private-network")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    let refused = preflight("https://elsewhere.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-private-network")
            .is_none()
    );
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
