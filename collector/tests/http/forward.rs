//! Forwarding to real upstreams: a second collector, and rotel (its PyPI wheel's binary,
//! `WASM_OTLP_ROTEL`, which `just test-rust` installs and sets) relaying to one. Nothing
//! acknowledged is lost while the upstream is down, or when the edge is killed with
//! SIGKILL and restarted; beyond its bound the queue drops the oldest and counts them;
//! the metrics say what happened.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::logs::{logs_export, record};

/// A loopback port free now (for an upstream started later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The value of `series` (`name{labels}` with labels sorted), 0 when absent.
fn value(metrics: &BTreeMap<String, f64>, series: &str) -> f64 {
    metrics.get(series).copied().unwrap_or(0.0)
}

/// The `forward_items_total` series of `upstream`, `signal` and `outcome`.
fn items(upstream: &str, signal: &str, outcome: &str) -> String {
    format!(
        "wasm_otlp_collector_forward_items_total{{outcome={outcome:?},signal={signal:?},upstream={upstream:?}}}"
    )
}

/// POSTs request `n` (a trace of 5 spans) as protobuf to `base`; returns the status.
async fn post_trace(client: &reqwest::Client, base: &str, n: u64) -> u16 {
    let body = to_protobuf(&export(
        "edge-test",
        trace_spans(&trace_id(n), 1, 5, now_ns() - 1_000_000),
    ));
    client
        .post(format!("{base}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// POSTs a logs request of `count` records in trace `n` to `base`; returns the status.
async fn post_logs(client: &reqwest::Client, base: &str, n: u64, count: u64) -> u16 {
    let records = (0..count)
        .map(|i| {
            record(
                &trace_id(n),
                &span_id(1),
                now_ns() - 1_000_000 + i,
                17,
                &format!("edge log {i}"),
                "session-edge",
            )
        })
        .collect();
    client
        .post(format!("{base}/v1/logs"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&logs_export("edge-test", records)).unwrap())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Waits up to `within` until `done` says so; panics with `what` otherwise.
async fn eventually<F: Future<Output = bool>>(
    within: Duration,
    what: &str,
    mut done: impl FnMut() -> F,
) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < within, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many of traces `1..=n` the collector at `server` holds all 5 spans of, and its
/// log records in trace `log_trace`.
async fn held(server: &TestServer, n: u64, log_trace: u64) -> (u64, usize) {
    let mut complete = 0;
    for i in 1..=n {
        if server
            .spans_of(&trace_id(i))
            .await
            .is_some_and(|s| s.len() == 5)
        {
            complete += 1;
        }
    }
    let (_, logs) = server
        .get_json(&format!("/api/traces/{}", trace_id(log_trace)))
        .await;
    let records = logs["resourceLogs"].as_array().map_or(0, |r| {
        r.iter()
            .flat_map(|r| r["scopeLogs"].as_array().unwrap())
            .map(|s| s["logRecords"].as_array().unwrap().len())
            .sum()
    });
    (complete, records)
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_acknowledged_is_lost_while_the_upstream_is_down_and_the_edge_is_killed() {
    let port = free_port();
    let upstream_url = format!("http://127.0.0.1:{port}");
    let edge_dir = tempfile::tempdir().unwrap();
    let flags = ["--no-store", "--forward", &upstream_url];
    let client = reqwest::Client::new();

    // The edge acknowledges while its upstream is down.
    let edge = Binary::start_in(edge_dir.path(), &flags, 4096);
    let base = edge.url("");
    for n in 1..=20 {
        assert_eq!(post_trace(&client, &base, n).await, 200);
    }
    assert_eq!(post_logs(&client, &base, 1, 3).await, 200);
    eventually(Duration::from_secs(10), "a failed attempt counted", || async {
        let metrics = metrics_at(&client, &base).await;
        value(&metrics, &format!("wasm_otlp_collector_forward_attempts_total{{result=\"retried\",upstream={upstream_url:?}}}")) >= 1.0
    })
    .await;
    let metrics = metrics_at(&client, &base).await;
    assert_eq!(
        value(
            &metrics,
            &format!("wasm_otlp_collector_forward_up{{upstream={upstream_url:?}}}")
        ),
        0.0
    );
    assert!(value(&metrics, "wasm_otlp_collector_forward_queue_bytes") > 0.0);
    assert!(
        value(
            &metrics,
            &format!("wasm_otlp_collector_forward_pending_bytes{{upstream={upstream_url:?}}}")
        ) > 0.0
    );
    // Still ready (it keeps what arrives), naming the failing upstream.
    let ready = get_json_from(&client, &format!("{base}/readyz")).await;
    assert_eq!(ready["ready"], true, "{ready}");
    let check = ready["checks"][format!("upstream {upstream_url}")]
        .as_str()
        .unwrap();
    assert!(check.starts_with("failing for"), "{check}");
    // No store: no query API.
    let response = client
        .get(format!("{base}/api/traces"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    // Killed with everything still queued; the upstream comes up; the edge restarts.
    drop(edge);
    let upstream = TestServer::start(|c| c.listen = SocketAddr::from(([127, 0, 0, 1], port))).await;
    let edge = Binary::start_in(edge_dir.path(), &flags, 4096);
    eventually(
        Duration::from_secs(30),
        "every span and record upstream",
        || async { held(&upstream, 20, 1).await == (20, 3) },
    )
    .await;
    let base = edge.url("");
    eventually(Duration::from_secs(5), "the delivery counted", || async {
        let metrics = metrics_at(&client, &base).await;
        value(&metrics, &items(&upstream_url, "traces", "delivered")) == 100.0
            && value(&metrics, &items(&upstream_url, "logs", "delivered")) == 3.0
    })
    .await;
    let metrics = metrics_at(&client, &base).await;
    assert_eq!(
        value(
            &metrics,
            &format!("wasm_otlp_collector_forward_up{{upstream={upstream_url:?}}}")
        ),
        1.0
    );
    assert_eq!(
        value(
            &metrics,
            &format!("wasm_otlp_collector_forward_lag_seconds{{upstream={upstream_url:?}}}")
        ),
        0.0
    );

    // More, with the upstream up: delivered at once, and only once.
    for n in 21..=25 {
        assert_eq!(post_trace(&client, &base, n).await, 200);
    }
    eventually(
        Duration::from_secs(10),
        "the later spans upstream",
        || async { held(&upstream, 25, 1).await == (25, 3) },
    )
    .await;
    let status = upstream.get_json("/api/status").await.1;
    assert_eq!(status["spans"], 125, "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn beyond_its_bound_the_queue_drops_the_oldest_and_counts_them() {
    let port = free_port();
    let upstream_url = format!("http://127.0.0.1:{port}");
    let edge = TestServer::start(|c| {
        c.forward = vec![upstream_url.parse().unwrap()];
        c.forward_queue_max_bytes = "128KiB".parse().unwrap();
    })
    .await;
    let sent = 250;
    for n in 1..=sent {
        assert_eq!(post_trace(&edge.client, &edge.base, n).await, 200);
    }
    let metrics = metrics_at(&edge.client, &edge.base).await;
    let dropped = value(&metrics, &items(&upstream_url, "traces", "dropped"));
    assert!(dropped > 0.0, "nothing dropped: {metrics:?}");
    assert!(value(&metrics, "wasm_otlp_collector_forward_queue_bytes") <= f64::from(128 << 10));
    // The edge's own store kept everything.
    assert_eq!(edge.get_json("/api/status").await.1["spans"], sent * 5);

    let upstream = TestServer::start(|c| c.listen = SocketAddr::from(([127, 0, 0, 1], port))).await;
    eventually(
        Duration::from_secs(30),
        "what was kept delivered",
        || async {
            let metrics = metrics_at(&edge.client, &edge.base).await;
            value(&metrics, &items(&upstream_url, "traces", "delivered")) + dropped
                == (sent * 5) as f64
        },
    )
    .await;
    // The newest survived; the oldest went first.
    assert!(upstream.spans_of(&trace_id(sent)).await.is_some());
    assert!(upstream.spans_of(&trace_id(1)).await.is_none());
    let status = upstream.get_json("/api/status").await.1;
    assert_eq!(
        status["spans"].as_f64().unwrap() + dropped,
        (sent * 5) as f64
    );
}

/// rotel's binary, from `WASM_OTLP_ROTEL`.
fn rotel() -> String {
    std::env::var("WASM_OTLP_ROTEL").expect(
        "WASM_OTLP_ROTEL names rotel's binary (`just test-rust` installs rotel's PyPI wheel and sets it)",
    )
}

/// rotel relaying OTLP/HTTP from `port` to the collector at `to`, killed on drop.
struct Rotel(Child);

impl Rotel {
    fn start(port: u16, to: &str) -> Rotel {
        let child = Command::new(rotel())
            .args(["start", "--otlp-http-endpoint"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--otlp-grpc-endpoint")
            .arg(format!("127.0.0.1:{}", free_port()))
            .args(["--exporter", "otlp", "--otlp-exporter-protocol", "http"])
            .arg("--otlp-exporter-endpoint")
            .arg(to)
            .args(["--batch-timeout", "100ms"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rotel starts");
        Rotel(child)
    }
}

impl Drop for Rotel {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn rotel_as_the_upstream_relays_everything_to_a_collector() {
    let store = TestServer::start(|_| {}).await;
    let rotel_port = free_port();
    let rotel_url = format!("http://127.0.0.1:{rotel_port}");
    let edge = TestServer::start(|c| c.forward = vec![rotel_url.parse().unwrap()]).await;
    // rotel starts after the first requests: the edge waits for it.
    for n in 1..=10 {
        assert_eq!(post_trace(&edge.client, &edge.base, n).await, 200);
    }
    let _rotel = Rotel::start(rotel_port, &store.base);
    for n in 11..=20 {
        assert_eq!(post_trace(&edge.client, &edge.base, n).await, 200);
    }
    assert_eq!(post_logs(&edge.client, &edge.base, 3, 4).await, 200);
    eventually(
        Duration::from_secs(30),
        "everything through rotel",
        || async { held(&store, 20, 3).await == (20, 4) },
    )
    .await;
    let metrics = metrics_at(&edge.client, &edge.base).await;
    assert_eq!(
        value(&metrics, &items(&rotel_url, "traces", "delivered")),
        100.0
    );
    assert_eq!(
        value(&metrics, &items(&rotel_url, "logs", "delivered")),
        4.0
    );
    // The span arrived as sent: its resource and attributes intact.
    let trace: Value = store
        .get_json(&format!("/api/traces/{}", trace_id(7)))
        .await
        .1;
    let resource = &trace["resourceSpans"][0]["resource"]["attributes"];
    assert!(resource.to_string().contains("edge-test"), "{resource}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upstream_that_answers_429_is_retried_after_its_retry_after() {
    // The upstream takes one request per 2 s from the edge's key (Retry-After: 2); the
    // edge's own backoff would retry after 1 s and meet a second 429.
    let upstream = TestServer::start(|c| {
        c.keys = vec!["edge=*".parse().unwrap()];
        c.rate_limit_key = Some("30/m".parse().unwrap());
    })
    .await;
    let edge = TestServer::start(|c| {
        c.forward = vec![upstream.base.parse().unwrap()];
        c.forward_headers = vec!["x-wasm-otlp-key=edge".parse().unwrap()];
    })
    .await;
    assert_eq!(post_trace(&edge.client, &edge.base, 1).await, 200);
    eventually(
        Duration::from_secs(10),
        "the first trace upstream",
        || async { held(&upstream, 1, 1).await.0 == 1 },
    )
    .await;
    let started = Instant::now();
    assert_eq!(post_trace(&edge.client, &edge.base, 2).await, 200);
    eventually(
        Duration::from_secs(10),
        "the second trace upstream",
        || async { held(&upstream, 2, 1).await.0 == 2 },
    )
    .await;
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    let edge_metrics = metrics_at(&edge.client, &edge.base).await;
    let upstream_url = &upstream.base;
    assert_eq!(
        value(
            &edge_metrics,
            &format!(
                "wasm_otlp_collector_forward_attempts_total{{result=\"retried\",upstream={upstream_url:?}}}"
            )
        ),
        1.0
    );
    assert_eq!(
        value(&edge_metrics, &items(upstream_url, "traces", "delivered")),
        10.0
    );
    let upstream_metrics = metrics_at(&upstream.client, &upstream.base).await;
    assert_eq!(
        value(
            &upstream_metrics,
            "wasm_otlp_collector_requests_total{outcome=\"rejected\",reason=\"rate_limited\",signal=\"traces\"}"
        ),
        1.0
    );
}
