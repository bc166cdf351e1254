//! Who may export, and how often: ingest keys bound to origins ([`keys`]) and rate limits
//! per origin and per key ([`rate_limit`]), checked on `POST /v1/traces` and
//! `POST /v1/logs` from the request's head, before anything of the body is read. A
//! refused request gets 401 or 429 (with `Retry-After`) and a `google.rpc.Status` in its
//! encoding, and is counted in the metrics as rejected (`unauthorized`, `rate_limited`).
//! With no key and no limit configured there is no check at all.

pub mod keys;
pub mod rate_limit;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, ORIGIN, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::MethodRouter;

use collector_decode::Format;

use crate::config::Config;
use crate::ingest::{Signal, respond};
use crate::metrics::{Metrics, Outcome, Reason};
use keys::{KeyId, Keys};
use rate_limit::{Buckets, RateLimit, retry_after_secs};

/// The request header that carries an ingest key.
pub const KEY_HEADER: HeaderName = HeaderName::from_static("x-wasm-otlp-key");

/// The query parameter that carries an ingest key, for senders that cannot set a header
/// (exporters without header options); the header wins when both are sent.
pub const KEY_PARAMETER: &str = "key";

/// Most origins with a bucket of their own (about 50 bytes each); beyond, new origins
/// share one until buckets have refilled and are forgotten.
pub const MAX_TRACKED_ORIGINS: usize = 10_000;

/// The checks in force.
#[derive(Debug)]
pub struct Access {
    keys: Option<Keys>,
    per_origin: Option<Mutex<Buckets>>,
    per_key: Option<Mutex<Buckets>>,
    /// Origins are kept by a keyed hash, so a bucket costs the same whatever the length of
    /// the `Origin` claimed, and nobody can aim collisions at a chosen origin.
    origin_hasher: RandomState,
    metrics: Arc<Metrics>,
}

impl Access {
    /// The checks `config` asks for (`--key`, `--rate-limit-origin`,
    /// `--rate-limit-key`), refusals counted in `metrics`; `None` when it asks for none.
    /// `--rate-limit-key` without keys limits nothing (the flag requires `--key`).
    pub fn new(config: &Config, metrics: Arc<Metrics>) -> Option<Access> {
        let keys = Some(Keys::new(&config.keys)).filter(|keys| !keys.is_empty());
        let now = Instant::now();
        let per_origin = config
            .rate_limit_origin
            .map(|limit| Mutex::new(Buckets::new(limit, MAX_TRACKED_ORIGINS, now)));
        let per_key = keys.as_ref().and_then(|keys| {
            let limit = config.rate_limit_key?;
            Some(Mutex::new(Buckets::new(limit, keys.len(), now)))
        });
        (keys.is_some() || per_origin.is_some() || per_key.is_some()).then(|| Access {
            keys,
            per_origin,
            per_key,
            origin_hasher: RandomState::new(),
            metrics,
        })
    }

    /// Whether a request with these headers and query string may go on at `now`: its key
    /// first (a refused key spends no tokens), then its origin's bucket, then its key's.
    fn admit(&self, headers: &HeaderMap, query: Option<&str>, now: Instant) -> Result<(), Refusal> {
        let origin = headers
            .get(ORIGIN)
            .map(|v| String::from_utf8_lossy(v.as_bytes()));
        let key = match &self.keys {
            Some(keys) => {
                let presented = presented_key(headers, query);
                Some(
                    keys.check(presented.as_deref(), origin.as_deref())
                        .map_err(Refusal::Key)?,
                )
            }
            None => None,
        };
        if let Some(buckets) = &self.per_origin {
            let hash = self.origin_hash(origin.as_deref().unwrap_or(""));
            let mut buckets = buckets.lock().unwrap_or_else(|e| e.into_inner());
            buckets.take(hash, now).map_err(|wait| Refusal::Limited {
                what: Limited::Origin,
                limit: buckets.limit(),
                wait,
            })?;
        }
        if let (Some(buckets), Some(KeyId(key))) = (&self.per_key, key) {
            let mut buckets = buckets.lock().unwrap_or_else(|e| e.into_inner());
            buckets
                .take(key as u64, now)
                .map_err(|wait| Refusal::Limited {
                    what: Limited::Key,
                    limit: buckets.limit(),
                    wait,
                })?;
        }
        Ok(())
    }

    /// The bucket of an origin (ASCII case ignored; requests without one share the empty
    /// origin's).
    fn origin_hash(&self, origin: &str) -> u64 {
        let mut hasher = self.origin_hasher.build_hasher();
        for byte in origin.bytes() {
            hasher.write_u8(byte.to_ascii_lowercase());
        }
        hasher.finish()
    }
}

/// The key a request presents: its [`KEY_HEADER`], else its first [`KEY_PARAMETER`].
fn presented_key(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(value) = headers.get(&KEY_HEADER) {
        return Some(String::from_utf8_lossy(value.as_bytes()).trim().to_owned());
    }
    form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == KEY_PARAMETER)
        .map(|(_, value)| value.into_owned())
}

/// What a refused request was refused for.
#[derive(Debug)]
enum Refusal {
    Key(keys::Refusal),
    Limited {
        what: Limited,
        limit: RateLimit,
        wait: Duration,
    },
}

/// Which limit a request met.
#[derive(Debug, Clone, Copy)]
enum Limited {
    Origin,
    Key,
}

impl Refusal {
    fn answer(&self, format: Format) -> (Reason, Response) {
        match self {
            Refusal::Key(refusal) => (
                Reason::Unauthorized,
                respond::failure(format, StatusCode::UNAUTHORIZED, refusal.to_string()),
            ),
            Refusal::Limited { what, limit, wait } => {
                let secs = retry_after_secs(*wait);
                let (whose, flag) = match what {
                    Limited::Origin => ("this origin", "--rate-limit-origin"),
                    Limited::Key => ("this ingest key", "--rate-limit-key"),
                };
                let message = format!(
                    "too many export requests from {whose} (at most {limit}, {flag}): retry in {secs} s"
                );
                let mut response = respond::failure(format, StatusCode::TOO_MANY_REQUESTS, message);
                response.headers_mut().insert(RETRY_AFTER, secs.into());
                (Reason::RateLimited, response)
            }
        }
    }
}

/// `route` (an export route of signal `S`) behind the checks in force, if any.
pub fn guard<S: Signal, T: Clone + Send + Sync + 'static>(
    access: Option<&Arc<Access>>,
    route: MethodRouter<T>,
) -> MethodRouter<T> {
    match access {
        Some(access) => route.route_layer(middleware::from_fn_with_state(
            Arc::clone(access),
            check::<S>,
        )),
        None => route,
    }
}

/// The middleware: passes an admitted export on; answers a refused one at once.
async fn check<S: Signal>(
    State(access): State<Arc<Access>>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let started = Instant::now();
    let Err(refusal) = access.admit(request.headers(), request.uri().query(), started) else {
        return next.run(request).await;
    };
    let format = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(Format::from_content_type)
        .unwrap_or(Format::Json);
    let (reason, response) = refusal.answer(format);
    tracing::debug!(status = %response.status(), "export refused: {refusal:?}");
    access
        .metrics
        .request(S::NAME, Outcome::Rejected(reason), started.elapsed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn access(adjust: impl FnOnce(&mut Config)) -> Option<Access> {
        let mut config = Config::with_data_dir("unused".into());
        adjust(&mut config);
        Access::new(&config, Arc::new(Metrics::new()))
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn nothing_configured_means_no_check() {
        assert!(access(|_| {}).is_none());
        // A key limit without keys has nothing to count.
        assert!(access(|c| c.rate_limit_key = Some("1/s".parse().unwrap())).is_none());
        assert!(access(|c| c.rate_limit_origin = Some("1/s".parse().unwrap())).is_some());
    }

    #[test]
    fn the_key_comes_from_the_header_else_the_query() {
        let from = |pairs: &[(&str, &str)], query| presented_key(&headers(pairs), query);
        assert_eq!(
            from(&[("x-wasm-otlp-key", " k1 ")], None).as_deref(),
            Some("k1")
        );
        assert_eq!(
            from(&[], Some("a=1&key=k%2D2&key=k3")).as_deref(),
            Some("k-2")
        );
        assert_eq!(
            from(&[("x-wasm-otlp-key", "k1")], Some("key=k2")).as_deref(),
            Some("k1")
        );
        assert_eq!(from(&[], Some("keys=k")), None);
        assert_eq!(from(&[], None), None);
    }

    #[test]
    fn a_refused_key_spends_no_tokens() {
        let access = access(|c| {
            c.keys = vec!["k=https://a.example".parse().unwrap()];
            c.rate_limit_origin = Some("1/m".parse().unwrap());
        })
        .unwrap();
        let now = Instant::now();
        let origin = ("origin", "https://a.example");
        for _ in 0..3 {
            let refusal = access.admit(&headers(&[origin]), None, now).unwrap_err();
            assert!(matches!(refusal, Refusal::Key(keys::Refusal::Missing)));
        }
        let keyed = headers(&[origin, ("x-wasm-otlp-key", "k")]);
        assert!(access.admit(&keyed, None, now).is_ok());
        let refusal = access.admit(&keyed, None, now).unwrap_err();
        assert!(matches!(
            refusal,
            Refusal::Limited {
                what: Limited::Origin,
                ..
            }
        ));
        let (reason, response) = refusal.answer(Format::Json);
        assert_eq!(reason, Reason::RateLimited);
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "60");
    }

    #[test]
    fn origins_differing_in_case_share_a_bucket() {
        let access = access(|c| c.rate_limit_origin = Some("1/m".parse().unwrap())).unwrap();
        let now = Instant::now();
        let admit = |origin: &str| access.admit(&headers(&[("origin", origin)]), None, now);
        assert!(admit("https://a.example").is_ok());
        assert!(admit("HTTPS://A.example").is_err());
        assert!(admit("https://b.example").is_ok());
        // Requests without an Origin share one bucket.
        assert!(access.admit(&HeaderMap::new(), None, now).is_ok());
        assert!(access.admit(&HeaderMap::new(), None, now).is_err());
    }
}
