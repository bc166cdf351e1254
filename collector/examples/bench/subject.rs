//! The receivers under test, each its own process on a loopback port: the collector's
//! release binary with a fresh data directory, and rotel with its blackhole exporter.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How long a receiver may take to answer after it was started, and to exit after SIGTERM.
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(120);

/// A running receiver; killed if dropped without [`Subject::stop`].
pub struct Subject {
    name: &'static str,
    child: Child,
    base: String,
    log: PathBuf,
}

/// An unused loopback port (bound, then released for the receiver to take).
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `command` with none of the environment variables whose names start with `prefix`
/// (the receivers read their settings from them), its output going to `log`.
fn isolated(mut command: Command, prefix: &str, log: &Path) -> Result<Command> {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with(prefix) {
            command.env_remove(name);
        }
    }
    let file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    command
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file);
    Ok(command)
}

impl Subject {
    /// Starts the collector binary on a free port with `data_dir` and `flags`, logging to
    /// `log`, and waits until `GET /healthz` answers 200.
    pub async fn collector(
        binary: &Path,
        data_dir: &Path,
        flags: &[String],
        log: &Path,
    ) -> Result<Subject> {
        let port = free_port()?;
        let mut command = Command::new(binary);
        command
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(flags)
            .env("RUST_LOG", "info");
        let child = isolated(command, "WASM_OTLP_", log)?
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut subject = Subject {
            name: "collector",
            child,
            base: format!("http://127.0.0.1:{port}"),
            log: log.to_owned(),
        };
        let url = format!("{}/healthz", subject.base);
        subject
            .wait_until_ready(|client| client.get(&url).send())
            .await?;
        Ok(subject)
    }

    /// Starts rotel in the foreground with its OTLP/HTTP receiver on a free port (gRPC on
    /// another), the blackhole exporter, logging to `log`, and waits until an empty export
    /// is answered 200.
    pub async fn rotel(binary: &Path, log: &Path) -> Result<Subject> {
        let (http, grpc) = (free_port()?, free_port()?);
        let mut command = Command::new(binary);
        command
            .arg("start")
            .arg("--otlp-http-endpoint")
            .arg(format!("127.0.0.1:{http}"))
            .arg("--otlp-grpc-endpoint")
            .arg(format!("127.0.0.1:{grpc}"))
            .args(["--exporter", "blackhole"]);
        let child = isolated(command, "ROTEL_", log)?
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut subject = Subject {
            name: "rotel",
            child,
            base: format!("http://127.0.0.1:{http}"),
            log: log.to_owned(),
        };
        let url = format!("{}/v1/traces", subject.base);
        subject
            .wait_until_ready(|client| {
                client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(r#"{"resourceSpans":[]}"#)
                    .send()
            })
            .await?;
        Ok(subject)
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Polls with `probe` every 20 ms until it is answered 200.
    async fn wait_until_ready<F>(&mut self, probe: impl Fn(&reqwest::Client) -> F) -> Result<()>
    where
        F: Future<Output = reqwest::Result<reqwest::Response>>,
    {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited while starting ({status}); its log:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if let Ok(response) = probe(&client).await
                && response.status() == 200
            {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                bail!(
                    "{} did not answer at {} within {START_TIMEOUT:?}; its log:\n{}",
                    self.name,
                    self.base,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends SIGTERM and waits for the process to exit; fails if it does not exit in time
    /// (then it is killed) or exits with an error.
    pub async fn stop(mut self) -> Result<()> {
        // std can send only SIGKILL; kill(1) sends SIGTERM without unsafe code.
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .context("running kill -TERM")?;
        if !sent.success() {
            bail!("kill -TERM {} failed", self.child.id());
        }
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!(
                        "{} exited with {status} after SIGTERM; its log:\n{}",
                        self.name,
                        self.log_tail()
                    );
                }
                return Ok(());
            }
            if started.elapsed() > STOP_TIMEOUT {
                bail!(
                    "{} did not exit within {STOP_TIMEOUT:?} of SIGTERM",
                    self.name
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The last lines of the process's log, for error messages.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
