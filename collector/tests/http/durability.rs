//! The real binary: acknowledged spans survive SIGKILL; SIGTERM shuts down cleanly.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::common::*;

/// Starts the collector binary on a free loopback port; returns it and its base URL.
fn start_binary(data_dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_collector"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("wasm-otlp collector listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned();
    // Keep reading stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

async fn post(client: &reqwest::Client, base: &str, body: &serde_json::Value) -> u16 {
    client
        .post(format!("{base}/v1/traces"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn span_count(client: &reqwest::Client, base: &str, trace: &str) -> usize {
    let response = client
        .get(format!("{base}/api/traces/{trace}"))
        .send()
        .await
        .unwrap();
    if response.status() == 404 {
        return 0;
    }
    let body: serde_json::Value = response.json().await.unwrap();
    body["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rs| rs["scopeSpans"].as_array().unwrap())
        .map(|ss| ss["spans"].as_array().unwrap().len())
        .sum()
}

#[tokio::test]
async fn acknowledged_spans_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (mut child, base) = start_binary(dir.path());
    let now = now_ns();
    // 8 concurrent requests of 100 spans each, then SIGKILL the moment the last 200 lands.
    let mut tasks = Vec::new();
    for n in 0..8u64 {
        let body = export(
            "svc",
            trace_spans(&trace_id(n), n * 1000 + 1, 100, now - 1_000_000_000),
        );
        let (client, base) = (client.clone(), base.clone());
        tasks.push(tokio::spawn(
            async move { post(&client, &base, &body).await },
        ));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let (mut child, base) = start_binary(dir.path());
    for n in 0..8u64 {
        assert_eq!(
            span_count(&client, &base, &trace_id(n)).await,
            100,
            "trace {n}"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (mut child, base) = start_binary(dir.path());
    let body = export(
        "svc",
        trace_spans(&trace_id(1), 1, 10, now_ns() - 1_000_000),
    );
    assert_eq!(post(&client, &base, &body).await, 200);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "{exit:?}");

    let (mut child, base) = start_binary(dir.path());
    assert_eq!(span_count(&client, &base, &trace_id(1)).await, 10);
    child.kill().unwrap();
    child.wait().unwrap();
}
