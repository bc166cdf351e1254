//! The real binary: acknowledged spans survive SIGKILL; SIGTERM shuts down cleanly; a
//! full disk gets 503 and the collector recovers once space returns.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::*;

/// Starts the collector binary on a free loopback port; returns it and its base URL.
fn start_binary(data_dir: &Path) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_collector"));
    command
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir);
    let mut child = spawn(command);
    let base = base_url(&mut child).unwrap();
    (child, base)
}

fn spawn(mut command: Command) -> Child {
    command
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// The base URL from the collector's first line; `None` if it exited without one.
fn base_url(child: &mut Child) -> Option<String> {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next()?.unwrap();
    let base = first
        .strip_prefix("wasm-otlp collector listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned();
    // Keep reading stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Some(base)
}

/// Size of the small filesystem of [`start_on_small_filesystem`].
const SMALL_FILESYSTEM: &str = "size=4m";

/// Starts the collector binary with its data directory on a 4 MiB tmpfs mounted in a
/// mount namespace of its own (through `unshare`, in a user namespace, so without
/// privileges where the system allows them). Returns it, its base URL, and the data
/// directory as this process reaches it (through `/proc/<pid>/root`); `None` after
/// printing why when this system cannot mount one.
fn start_on_small_filesystem(data_dir: &Path) -> Option<(Child, String, PathBuf)> {
    let script = format!(
        "mount -t tmpfs -o {SMALL_FILESYSTEM} tmpfs \"$0\" && \
         exec \"$1\" --listen 127.0.0.1:0 --data-dir \"$0\""
    );
    let mut attempts = Vec::new();
    // As an ordinary user a user namespace grants the mount; as root (CI) so may plain
    // privileges.
    for namespaces in [&["--user", "--map-root-user", "--mount"][..], &["--mount"]] {
        let mut command = Command::new("unshare");
        command
            .args(namespaces)
            .args(["sh", "-c", &script])
            .arg(data_dir)
            .arg(env!("CARGO_BIN_EXE_collector"));
        let Ok(mut child) = command
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        else {
            eprintln!("skipped: the unshare command is not available");
            return None;
        };
        if let Some(base) = base_url(&mut child) {
            let stderr = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                let mut stderr = stderr;
                std::io::copy(&mut stderr, &mut std::io::stderr())
            });
            let inside = PathBuf::from(format!("/proc/{}/root", child.id()))
                .join(data_dir.strip_prefix("/").unwrap());
            return Some((child, base, inside));
        }
        let output = child.wait_with_output().unwrap();
        attempts.push(format!(
            "unshare {}: {}",
            namespaces.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    eprintln!(
        "skipped: cannot mount a small tmpfs for the collector ({})",
        attempts.join("; ")
    );
    None
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

/// SIGKILL while 8 clients keep posting (through log seals and segment writes: the
/// binary writes segments of 250 spans): every span acknowledged before the kill is
/// served after a restart, and requests cut off by the kill are at most partly lost
/// (never acknowledged, so an exporter would retry them).
#[tokio::test]
async fn sigkill_under_load_loses_no_acknowledged_span() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut command = Command::new(env!("CARGO_BIN_EXE_collector"));
    command
        .args([
            "--listen",
            "127.0.0.1:0",
            "--segment-spans",
            "250",
            "--data-dir",
        ])
        .arg(dir.path());
    let mut child = spawn(command);
    let base = base_url(&mut child).unwrap();
    let now = now_ns();
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut clients = Vec::new();
    for c in 0..8u64 {
        let (client, base, acknowledged) = (client.clone(), base.clone(), acknowledged.clone());
        clients.push(tokio::spawn(async move {
            for r in 0.. {
                let n = c * 1_000_000 + r;
                let body = export(
                    "svc",
                    trace_spans(&trace_id(n), n * 100, 20, now - 1_000_000),
                );
                let sent = client
                    .post(format!("{base}/v1/traces"))
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(&body).unwrap())
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == 200 => {
                        acknowledged.lock().unwrap().push(n)
                    }
                    _ => break, // the collector is gone
                }
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    child.kill().unwrap(); // SIGKILL, mid-stream
    child.wait().unwrap();
    for task in clients {
        task.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 50,
        "only {} requests acknowledged",
        acknowledged.len()
    );

    let (mut child, base) = start_binary(dir.path());
    for n in &acknowledged {
        assert_eq!(
            span_count(&client, &base, &trace_id(*n)).await,
            20,
            "trace {n}"
        );
    }
    let status: serde_json::Value = client
        .get(format!("{base}/api/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(status["segments"].as_u64().unwrap() > 1, "{status}");
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

#[tokio::test]
async fn a_full_disk_gets_503_until_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let Some((mut child, base, data_dir)) = start_on_small_filesystem(dir.path()) else {
        return;
    };
    let client = reqwest::Client::new();
    let health = async |client: &reqwest::Client| {
        let response = client.get(format!("{base}/healthz")).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    let now = now_ns();
    let small = export("svc", trace_spans(&trace_id(1), 1, 10, now - 1_000_000));
    assert_eq!(post(&client, &base, &small).await, 200);
    assert_eq!(health(&client).await, (200, "ok".to_owned()));

    // Fill the filesystem.
    let ballast_path = data_dir.join("ballast");
    let mut ballast = std::fs::File::create(&ballast_path).unwrap();
    let full = loop {
        if let Err(e) = ballast.write_all(&[0; 64 * 1024]) {
            break e;
        }
    };
    assert_eq!(full.kind(), std::io::ErrorKind::StorageFull, "{full}");
    drop(ballast);

    // A batch larger than the free pages of the database and its journal.
    let large = export("svc", trace_spans(&trace_id(2), 100, 2000, now - 1_000_000));
    let response = client
        .post(format!("{base}/v1/traces"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&large).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "10");
    let status: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status["code"], 14, "{status}");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.contains("cannot store spans now: the disk is full")
            && message.contains("retry later"),
        "{message}"
    );
    let (code, body) = health(&client).await;
    assert_eq!(code, 503, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("the disk is full"),
        "{body}"
    );
    // Not ready either: a load balancer sends exports elsewhere meanwhile.
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["ready"], false, "{ready}");
    let reason = ready["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("store: ") && reason.contains("the disk is full"),
        "{reason}"
    );
    // What was stored before is still served.
    assert_eq!(span_count(&client, &base, &trace_id(1)).await, 10);

    // Space returns: the same request is stored, and the collector is healthy again.
    std::fs::remove_file(&ballast_path).unwrap();
    assert_eq!(post(&client, &base, &large).await, 200);
    assert_eq!(health(&client).await, (200, "ok".to_owned()));
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(span_count(&client, &base, &trace_id(2)).await, 2000);
    child.kill().unwrap();
    child.wait().unwrap();
}
