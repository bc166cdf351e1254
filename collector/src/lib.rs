//! The wasm-otlp collector: an OTLP/HTTP trace and log receiver for browser apps, with
//! storage.
//!
//! Data path: [`server`] routes `POST /v1/traces` and `POST /v1/logs` to [`ingest`] (read
//! the body within its limits, decode with `collector-decode`, [`ingest::validate`],
//! answer with [`ingest::respond`]); the accepted spans or log records go as one
//! [`store::Batch`] per request to the store's writer thread, which appends them to its
//! write-ahead log and syncs it before the request is answered, and with `--forward`
//! [`forward`] queues them on disk for upstream receivers in the same wait. [`query`] serves them
//! back as JSON, and [`viewer`] the page that shows them; [`health`] answers `/healthz` and
//! `/readyz`, [`metrics`] counts requests and serves `/metrics`. [`connections`] accepts connections within their limits; [`config`] holds every setting, [`access`] the ingest keys and rate limits, [`cors`] the browser origin rules, [`host_check`]
//! the host names it answers to.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let config = collector::config::Config::with_data_dir("/tmp/wasm-otlp".into());
//! let running = collector::server::serve(config).await?;
//! println!("listening on {}", running.local_addr());
//! running.shutdown().await
//! # }
//! ```

pub mod access;
pub mod config;
pub mod connections;
pub mod cors;
pub mod forward;
pub mod health;
pub mod host_check;
pub mod ingest;
pub mod metrics;
pub mod query;
pub mod server;
pub mod store;
pub mod viewer;
