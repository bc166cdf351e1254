//! `GET /healthz` (the collector is alive) and `GET /readyz` (it can take exports now),
//! for load balancers and orchestrators.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::query::{error, with_retry_after};
use crate::store::Store;

/// The name of the store's readiness check.
const STORE_CHECK: &str = "store";

/// `GET /healthz`: 200 `ok` while the store can write; 503 with `{"error": "..."}` (why)
/// once its writer thread has stopped, or while its latest commit failed (until one
/// succeeds).
pub async fn healthz(State(store): State<Arc<Store>>) -> Response {
    match store.health() {
        Ok(()) => "ok".into_response(),
        Err(e) => with_retry_after(error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()), &e),
    }
}

/// What `GET /readyz` checks: each check is named and says why it fails.
pub struct Readiness {
    store: Arc<Store>,
    // Forwarding adds its upstreams here, each a check named after it.
}

impl Readiness {
    /// The checks of a collector that stores into `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Readiness { store }
    }

    /// Every check with its name, `Err` saying why it fails.
    fn checks(&self) -> Vec<(&'static str, Result<(), String>)> {
        vec![(
            STORE_CHECK,
            self.store.readiness().map_err(|e| e.to_string()),
        )]
    }
}

/// `GET /readyz`: 200 `{"ready": true, "checks": {"store": "ok"}}` when every check
/// passes (the store takes writes now: not shutting down, its writer running, its latest
/// commit did not fail, not behind writing segments); else 503 with `"ready": false`,
/// `"reason"` (the first failing check, `name: why`) and each check's answer.
pub async fn readyz(State(readiness): State<Arc<Readiness>>) -> Response {
    let mut checks = Map::new();
    let mut reason = None;
    for (name, result) in readiness.checks() {
        let answer = match result {
            Ok(()) => "ok".to_owned(),
            Err(why) => {
                reason.get_or_insert_with(|| format!("{name}: {why}"));
                why
            }
        };
        checks.insert(name.to_owned(), Value::String(answer));
    }
    let (status, body) = match reason {
        None => (
            StatusCode::OK,
            serde_json::json!({ "ready": true, "checks": checks }),
        ),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({ "ready": false, "reason": reason, "checks": checks }),
        ),
    };
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Retention;
    use axum::body::to_bytes;

    async fn answer(readiness: &Arc<Readiness>) -> (StatusCode, Value) {
        let response = readyz(State(Arc::clone(readiness))).await;
        let status = response.status();
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn ready_until_the_store_closes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), Retention::default(), 1000).unwrap());
        let readiness = Arc::new(Readiness::new(Arc::clone(&store)));
        assert_eq!(
            answer(&readiness).await,
            (
                StatusCode::OK,
                serde_json::json!({"ready": true, "checks": {"store": "ok"}})
            )
        );
        store.close().await;
        let (status, body) = answer(&readiness).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["ready"], false);
        assert_eq!(body["reason"], "store: the collector is shutting down");
        assert_eq!(body["checks"]["store"], "the collector is shutting down");
    }
}
