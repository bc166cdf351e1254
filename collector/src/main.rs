//! `cargo run -p collector`: parse the settings, start logging, serve until Ctrl-C or
//! SIGTERM, then shut down gracefully (a second signal exits at once; everything
//! already acknowledged is on disk either way).

use clap::Parser;
use collector::config::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let store = !config.no_store;
    let upstreams: Vec<String> = config.forward.iter().map(ToString::to_string).collect();
    let running = collector::server::serve(config).await?;
    let addr = running.local_addr();
    println!("wasm-otlp collector listening on http://{addr}");
    println!("  send OTLP/HTTP traces to  http://{addr}/v1/traces");
    println!("  and logs to               http://{addr}/v1/logs");
    if store {
        println!("  browse them at            http://{addr}/");
    }
    for upstream in &upstreams {
        println!("  forwarded to              {upstream}");
    }
    println!(
        "  data {} in            {}",
        if store { "stored" } else { "queued" },
        running.data_dir().display()
    );
    println!("Ctrl-C to stop.");

    tokio::select! {
        outcome = running.run_until(signal()) => outcome,
        () = async { signal().await; signal().await } => {
            tracing::warn!("second signal: exiting without waiting for in-flight requests");
            Ok(())
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
