//! The HTTP server: routes (exports, queries, the viewer, health and metrics), the CORS layer around everything, a periodic retention sweep,
//! and graceful shutdown (in-flight requests finish; what was acknowledged is on disk).
//! Connections are accepted and limited by [`crate::connections`].

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Router, middleware};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::access::{self, Access};
use crate::config::Config;
use crate::connections;
use crate::cors;
use crate::forward::{self, Forwarder};
use crate::health::{self, Health};
use crate::host_check::{self, AllowedHosts};
use crate::ingest::budget::{self, Budget};
use crate::ingest::source_maps::SourceMaps;
use crate::ingest::validate::Rules;
use crate::ingest::{self, Destinations, Ingest, Limits, Logs, Traces};
use crate::metrics::{self, Metrics};
use crate::query;
use crate::store::{Retention, Store};
use crate::viewer;

/// The forwarding queue's directory under the data directory.
pub const FORWARD_DIR: &str = "forward";

/// How often age retention runs when no data arrives (it also runs after every commit).
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// A running collector.
pub struct Running {
    local_addr: SocketAddr,
    data_dir: PathBuf,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// The address it listens on (with the actual port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The data directory (write-ahead logs and segments).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Stops accepting connections, lets in-flight requests finish, stops the store
    /// writer after its queued commits, and returns when all is done.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("the server task failed")?
    }

    /// Serves until `signal` completes, then shuts down gracefully; returns early if the
    /// server fails.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        let ended = tokio::select! {
            () = signal => None,
            ended = &mut self.task => Some(ended),
        };
        match ended {
            None => self.shutdown().await,
            Some(ended) => ended.context("the server task failed")?,
        }
    }
}

/// Opens the store (unless `--no-store`) and the forwarding queue (with `--forward`),
/// binds the listener and starts serving.
pub async fn serve(config: Config) -> anyhow::Result<Running> {
    if let Some(dir) = &config.source_maps {
        SourceMaps::check_dir(dir).map_err(anyhow::Error::msg)?;
        tracing::info!(dir = %dir.display(), "mapping exception stack traces with source maps");
    }
    let data_dir = config.resolved_data_dir();
    let store = if config.no_store {
        None
    } else {
        let retention = Retention {
            max_age: config.retention_max_age.0,
            max_spans: (config.retention_max_spans > 0).then_some(config.retention_max_spans),
            max_bytes: (config.retention_max_bytes.0 > 0).then_some(config.retention_max_bytes.0),
        };
        let store_dir = data_dir.clone();
        let segment_spans = config.segment_spans;
        let store =
            tokio::task::spawn_blocking(move || Store::open(&store_dir, retention, segment_spans))
                .await
                .context("opening the store panicked")??;
        Some(Arc::new(store))
    };
    let metrics = Arc::new(Metrics::new());
    let forward = if config.forward.is_empty() {
        None
    } else {
        let settings = forward::Settings {
            upstreams: config.forward.iter().map(|url| url.0.clone()).collect(),
            headers: config
                .forward_headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect(),
            max_queue_bytes: config.forward_queue_max_bytes.0,
        };
        let dir = data_dir.join(FORWARD_DIR);
        let metrics = Arc::clone(&metrics);
        let forwarder = Forwarder::start(&dir, settings, metrics)
            .with_context(|| format!("opening the forwarding queue in {}", dir.display()))?;
        Some(Arc::new(forwarder))
    };
    let listener = TcpListener::bind(config.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (is another collector running? choose another address with --listen)",
            config.listen
        )
    })?;
    let local_addr = listener.local_addr()?;
    let max_connections = connections::fit_to_open_files(config.max_connections);
    let limits = connections::Limits {
        max_connections,
        header_timeout: config.header_timeout.0,
        idle_timeout: config.idle_timeout.0,
        max_header_size: usize::try_from(config.max_header_size.0).unwrap_or(usize::MAX),
    };
    let destinations = Destinations {
        store: store.clone(),
        forward: forward.clone(),
    };
    let app = router(&config, max_connections, destinations, Arc::clone(&metrics));
    let (stop, stopped) = oneshot::channel::<()>();
    let sweeper = store
        .as_ref()
        .map(|store| tokio::spawn(sweep_periodically(Arc::clone(store))));
    let task = tokio::spawn(async move {
        connections::serve(listener, app, limits, metrics.connections(), async {
            let _ = stopped.await;
            tracing::info!("shutting down: finishing in-flight requests");
        })
        .await;
        if let Some(sweeper) = sweeper {
            sweeper.abort();
        }
        if let Some(store) = store {
            store.close().await;
        }
        if let Some(forward) = forward {
            forward.close().await;
        }
        tracing::info!("stopped");
        Ok(())
    });
    tracing::info!(%local_addr, data_dir = %data_dir.display(), "collector started");
    Ok(Running {
        local_addr,
        data_dir: data_dir.clone(),
        stop,
        task,
    })
}

/// The routes, inside the CORS layer (so that every response, errors included, carries
/// the CORS headers an allowed origin needs), inside the host check (a request for a
/// host name the collector does not answer to gets 421 before anything else).
/// `max_connections` is the connection cap in force, of which exports may use all but
/// `--connection-reserve`. Exports are counted in `metrics`, and pass [`access`]'s checks
/// (ingest keys, rate limits) first when any is configured. Without a store (an edge
/// that only forwards) there is no query API and no viewer.
pub fn router(
    config: &Config,
    max_connections: usize,
    destinations: Destinations,
    metrics: Arc<Metrics>,
) -> Router {
    let limits = Limits {
        max_body: usize::try_from(config.max_body.0).unwrap_or(usize::MAX),
        max_decompressed: usize::try_from(config.max_decompressed.0).unwrap_or(usize::MAX),
        max_spans: config.max_spans_per_request,
        rules: Rules {
            max_attribute_value: usize::try_from(config.max_attribute_value.0)
                .unwrap_or(usize::MAX),
            max_field: usize::try_from(config.max_field_length.0).unwrap_or(usize::MAX),
            max_future_nanos: nanos(config.max_future.0),
            max_age_nanos: config.retention_max_age.0.map(|age| nanos(Some(age))),
        },
    };
    let size = |bytes: crate::config::ByteSize| usize::try_from(bytes.0).unwrap_or(usize::MAX);
    let budget = Budget::new(budget::Settings {
        max_exports: max_connections
            .saturating_sub(config.connection_reserve)
            .max(1),
        max_bytes_in_flight: size(config.max_bytes_in_flight),
        max_decode_bytes: size(config.max_decode_bytes),
        in_flight_wait: config.in_flight_wait.0,
        min_upload_rate: config.min_upload_rate.0,
        body_timeout: config.body_timeout.0,
    });
    let store = destinations.store.clone();
    let forward = destinations.forward.clone();
    let ingest = Arc::new(
        Ingest::new(limits, budget, destinations, Arc::clone(&metrics))
            .with_source_maps(config.source_maps.clone().map(SourceMaps::new)),
    );
    let access = Access::new(config, Arc::clone(&metrics)).map(Arc::new);
    let guard = access.as_ref();
    let receiver = Router::new()
        .route(
            "/v1/traces",
            access::guard::<Traces, _>(guard, post(ingest::export::<Traces>)),
        )
        .route(
            "/v1/logs",
            access::guard::<Logs, _>(guard, post(ingest::export::<Logs>)),
        )
        .with_state(Arc::clone(&ingest));
    let operations = Router::new()
        .route("/metrics", get(metrics::scrape))
        .with_state(Arc::new(metrics::Sources {
            metrics,
            ingest,
            store: store.clone(),
            forward: forward.clone(),
        }))
        .route("/readyz", get(health::readyz))
        .route("/healthz", get(health::healthz))
        .with_state(Arc::new(Health::new(store.clone(), forward)));
    let mut app = receiver.merge(operations);
    if let Some(store) = store {
        let queries = Router::new()
            .route("/api/traces", get(query::list))
            .route("/api/traces/{trace_id}", get(query::trace))
            .route("/api/sessions/{session_id}", get(query::session))
            .route("/api/logs", get(query::list_logs))
            .route("/api/services", get(query::services))
            .route("/api/services/{service}/operations", get(query::operations))
            .route("/api/status", get(query::status))
            .with_state(store);
        app = app.merge(queries).merge(viewer::routes());
    }
    let hosts = Arc::new(AllowedHosts::new(config.listen, &config.allowed_hosts));
    app.fallback(not_found)
        .layer(cors::layer(&config.cors_origins))
        .layer(middleware::from_fn_with_state(hosts, host_check::check))
}

/// A duration in nanoseconds (0 for none), saturating.
fn nanos(duration: Option<Duration>) -> u64 {
    duration.map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

async fn not_found(uri: Uri) -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        axum::Json(
            serde_json::json!({ "error": format!("no route for {} (a collector run with --no-store has no query API and no viewer)", uri.path()) }),
        ),
    )
}

async fn sweep_periodically(store: Arc<Store>) {
    let mut interval = tokio::time::interval(SWEEP_INTERVAL);
    interval.tick().await; // the first tick is immediate; the store swept at open
    loop {
        interval.tick().await;
        store.request_sweep();
    }
}
