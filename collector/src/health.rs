//! `GET /healthz` (the collector is alive) and `GET /readyz` (it can take exports now),
//! for load balancers and orchestrators.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::forward::Forwarder;
use crate::query::{error, with_retry_after};
use crate::store::{Store, StoreError};

/// What `/healthz` and `/readyz` look at: where accepted items go.
pub struct Health {
    store: Option<Arc<Store>>,
    forward: Option<Arc<Forwarder>>,
}

impl Health {
    /// The health of a collector that keeps what it accepts in `store` and/or queues it
    /// for `forward`.
    pub fn new(store: Option<Arc<Store>>, forward: Option<Arc<Forwarder>>) -> Self {
        Health { store, forward }
    }

    /// Whether the store and the forwarding queue can write.
    fn alive(&self) -> Result<(), StoreError> {
        if let Some(store) = &self.store {
            store.health()?;
        }
        if let Some(forward) = &self.forward {
            forward.health()?;
        }
        Ok(())
    }

    /// Every readiness check with its name: `Ok(None)` passes, `Ok(Some(note))` passes
    /// with something to say, `Err` fails saying why.
    fn checks(&self) -> Vec<(String, Result<Option<String>, String>)> {
        let mut checks = Vec::new();
        if let Some(store) = &self.store {
            let ready = store.readiness().map(|()| None).map_err(|e| e.to_string());
            checks.push(("store".to_owned(), ready));
        }
        if let Some(forward) = &self.forward {
            let ready = forward.health().map(|()| None).map_err(|e| e.to_string());
            checks.push(("forward queue".to_owned(), ready));
            checks.extend(forward.upstream_checks());
        }
        checks
    }
}

/// `GET /healthz`: 200 `ok` while the store and the forwarding queue can write; 503
/// with `{"error": "..."}` (why) once a writer thread has stopped, or while its latest
/// write failed (until one succeeds).
pub async fn healthz(State(health): State<Arc<Health>>) -> Response {
    match health.alive() {
        Ok(()) => "ok".into_response(),
        Err(e) => with_retry_after(error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()), &e),
    }
}

/// `GET /readyz`: 200 `{"ready": true, "checks": {"store": "ok", ...}}` when every check
/// passes (the store takes writes now: not shutting down, its writer running, its latest
/// commit did not fail, not behind writing segments; the forwarding queue takes appends;
/// no upstream has been failing with the queue nearly full); else 503 with
/// `"ready": false`, `"reason"` (the first failing check, `name: why`) and each check's
/// answer. A failing upstream whose queue still has room is named but keeps the
/// collector ready: it keeps what arrives for later.
pub async fn readyz(State(health): State<Arc<Health>>) -> Response {
    let mut checks = Map::new();
    let mut reason = None;
    for (name, result) in health.checks() {
        let answer = match result {
            Ok(None) => "ok".to_owned(),
            Ok(Some(note)) => note,
            Err(why) => {
                reason.get_or_insert_with(|| format!("{name}: {why}"));
                why
            }
        };
        checks.insert(name, Value::String(answer));
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

    async fn answer(readiness: &Arc<Health>) -> (StatusCode, Value) {
        let response = readyz(State(Arc::clone(readiness))).await;
        let status = response.status();
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn ready_until_the_store_closes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path(), Retention::default(), 1000).unwrap());
        let readiness = Arc::new(Health::new(Some(Arc::clone(&store)), None));
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
