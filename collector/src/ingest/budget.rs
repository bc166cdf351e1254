//! What an export request may hold while it is read, decoded and stored, and how fast its
//! body must arrive.
//!
//! Memory is counted in bytes, in two pools:
//!
//! - **Bodies** (`--max-bytes-in-flight`): before reading, a request reserves its
//!   `Content-Length` (or `--max-body` when it is chunked, cut to what arrived once it has
//!   arrived) and keeps it until the store has acknowledged its spans. A request that
//!   finds no room waits at most `--in-flight-wait`, then gets 503 with `Retry-After`.
//!   Reservations are by size, so clients trickling a few bodies hold only those bodies'
//!   sizes and a small request still fits beside them.
//! - **Decoding** (`--max-decode-bytes`): once its body has arrived, a gzip request
//!   reserves `--max-decompressed` to inflate it, then keeps what it inflated to; every
//!   request then reserves what decoding it may take (the format's
//!   `decoded_bytes_for` its inflated size, which the decoder enforces)
//!   and the batch handed to the store (its inflated size again), and keeps all of it
//!   until the store has acknowledged. It waits as long as needed: holders of decoding
//!   bytes only decode and wait for the store, never for a pool, so the wait ends.
//!
//! Two pools rather than one so that requests holding body bytes while waiting for
//! decoding bytes can never hold everything between them. A reservation larger than its
//! whole pool takes the whole pool.
//!
//! Exports in progress are also counted (at most the connection cap less its reserve,
//! see [`crate::connections`]); one more gets 503 at once.

use std::time::Duration;

use axum::body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// The settings of [`Budget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Export requests in progress at once.
    pub max_exports: usize,
    /// Bytes of bodies held at once.
    pub max_bytes_in_flight: usize,
    /// Bytes reserved for decoding at once.
    pub max_decode_bytes: usize,
    /// How long a request waits for body bytes before 503.
    pub in_flight_wait: Duration,
    /// Slowest accepted upload, in bytes per second (at least 1).
    pub min_upload_rate: u64,
    /// Grace before the upload rate applies.
    pub body_timeout: Duration,
}

/// The pools export requests reserve from.
#[derive(Debug)]
pub struct Budget {
    settings: Settings,
    exports: Semaphore,
    bodies: Semaphore,
    decoding: Semaphore,
}

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// As many exports as allowed are in progress.
    TooManyExports(usize),
    /// No room for the body within the wait.
    Busy {
        /// The size of the pool.
        in_flight: usize,
        /// How long the request waited.
        waited: Duration,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::TooManyExports(n) => write!(
                f,
                "{n} export requests are in progress (--max-connections less --connection-reserve); retry later"
            ),
            Refusal::Busy { in_flight, waited } => write!(
                f,
                "the collector is busy: {in_flight} bytes of request bodies are in flight \
                 (--max-bytes-in-flight) and none freed up within {} ms; retry later",
                waited.as_millis()
            ),
        }
    }
}

/// What the pools hold now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlight {
    /// Bytes of bodies.
    pub body_bytes: usize,
    /// Bytes reserved for inflating and decoding.
    pub decode_bytes: usize,
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// It grew past the limit.
    TooLarge,
    /// It arrived slower than the minimum rate.
    TooSlow {
        /// Bytes received.
        received: usize,
        /// Since reading began.
        elapsed: Duration,
    },
    /// The connection failed.
    Failed(String),
}

fn clamp_permits(n: usize) -> usize {
    n.min(Semaphore::MAX_PERMITS).min(u32::MAX as usize).max(1)
}

impl Budget {
    /// Empty pools of the given sizes.
    pub fn new(settings: Settings) -> Self {
        Budget {
            exports: Semaphore::new(clamp_permits(settings.max_exports)),
            bodies: Semaphore::new(clamp_permits(settings.max_bytes_in_flight)),
            decoding: Semaphore::new(clamp_permits(settings.max_decode_bytes)),
            settings,
        }
    }

    /// A place among the exports in progress, or a refusal at once.
    pub fn enter(&self) -> Result<SemaphorePermit<'_>, Refusal> {
        self.exports
            .try_acquire()
            .map_err(|_| Refusal::TooManyExports(self.settings.max_exports))
    }

    /// Reserves `bytes` of body, waiting at most the configured wait.
    pub async fn reserve_body(&self, bytes: usize) -> Result<SemaphorePermit<'_>, Refusal> {
        let wait = self.settings.in_flight_wait;
        let busy = Refusal::Busy {
            in_flight: self.settings.max_bytes_in_flight,
            waited: wait,
        };
        match tokio::time::timeout(
            wait,
            reserve(&self.bodies, self.settings.max_bytes_in_flight, bytes),
        )
        .await
        {
            Ok(Some(permit)) => Ok(permit),
            Ok(None) | Err(_) => Err(busy),
        }
    }

    /// Reserves `bytes` of the decoding pool (all of it if `bytes` is more), waiting for
    /// room (`None` only if the pool were closed, which it never is).
    pub async fn reserve_decoding(&self, bytes: usize) -> Option<SemaphorePermit<'_>> {
        reserve(&self.decoding, self.settings.max_decode_bytes, bytes).await
    }

    /// What the pools hold now.
    pub fn in_flight(&self) -> InFlight {
        let held = |pool: &Semaphore, size: usize| {
            clamp_permits(size).saturating_sub(pool.available_permits())
        };
        InFlight {
            body_bytes: held(&self.bodies, self.settings.max_bytes_in_flight),
            decode_bytes: held(&self.decoding, self.settings.max_decode_bytes),
        }
    }

    /// Reads a body of at most `max` bytes (`expected` when known) at the minimum upload
    /// rate: by `t` after reading began, at least `(t - body_timeout) × rate` bytes must
    /// have arrived.
    pub async fn read_body(
        &self,
        body: Body,
        max: usize,
        expected: Option<usize>,
    ) -> Result<Vec<u8>, ReadError> {
        let rate = self.settings.min_upload_rate.max(1);
        let started = Instant::now();
        let mut body = Limited::new(body, max);
        let mut bytes = Vec::with_capacity(expected.unwrap_or(0).min(max));
        loop {
            let allowed = self.settings.body_timeout
                + Duration::from_secs_f64(bytes.len() as f64 / rate as f64);
            match tokio::time::timeout_at(started + allowed, body.frame()).await {
                Err(_) => {
                    return Err(ReadError::TooSlow {
                        received: bytes.len(),
                        elapsed: started.elapsed(),
                    });
                }
                Ok(None) => return Ok(bytes),
                Ok(Some(Err(error))) if error.is::<LengthLimitError>() => {
                    return Err(ReadError::TooLarge);
                }
                Ok(Some(Err(error))) => return Err(ReadError::Failed(error.to_string())),
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        bytes.extend_from_slice(&data);
                    }
                }
            }
        }
    }

    /// The message of a 408 for a body that arrived too slowly.
    pub fn too_slow_message(&self, received: usize, elapsed: Duration) -> String {
        format!(
            "the body arrived slower than {} bytes/s (--min-upload-rate) after the first {} ms \
             (--body-timeout): {received} bytes in {} ms",
            self.settings.min_upload_rate,
            self.settings.body_timeout.as_millis(),
            elapsed.as_millis()
        )
    }
}

/// Reserves `bytes` from `pool` of `size` bytes (the whole pool at most); `None` if it is
/// closed.
async fn reserve(pool: &Semaphore, size: usize, bytes: usize) -> Option<SemaphorePermit<'_>> {
    let n = u32::try_from(clamp_permits(bytes.min(size))).unwrap_or(u32::MAX);
    pool.acquire_many(n).await.ok()
}

/// Gives back what a body reservation holds beyond `kept` bytes.
pub fn keep(permit: &mut SemaphorePermit<'_>, kept: usize) {
    let excess = permit.num_permits().saturating_sub(kept.max(1));
    drop(permit.split(excess));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            max_exports: 2,
            max_bytes_in_flight: 1000,
            max_decode_bytes: 800,
            in_flight_wait: Duration::from_millis(50),
            min_upload_rate: 1000,
            body_timeout: Duration::from_millis(100),
        }
    }

    #[tokio::test]
    async fn exports_are_counted() {
        let budget = Budget::new(settings());
        let _a = budget.enter().unwrap();
        let b = budget.enter().unwrap();
        assert_eq!(budget.enter().unwrap_err(), Refusal::TooManyExports(2));
        drop(b);
        assert!(budget.enter().is_ok());
    }

    #[tokio::test]
    async fn bodies_reserve_bytes_and_wait_a_bounded_time() {
        let budget = Budget::new(settings());
        let mut big = budget.reserve_body(900).await.unwrap();
        assert_eq!(budget.in_flight().body_bytes, 900);
        // A small one still fits; a large one waits, then is refused.
        let small = budget.reserve_body(100).await.unwrap();
        assert!(matches!(
            budget.reserve_body(500).await,
            Err(Refusal::Busy {
                in_flight: 1000,
                ..
            })
        ));
        // Cut to what arrived, the rest is free again.
        keep(&mut big, 400);
        assert_eq!(big.num_permits(), 400);
        assert!(budget.reserve_body(500).await.is_ok());
        drop(small);
        // Larger than the pool: the whole pool, once free.
        drop(big);
        assert_eq!(budget.reserve_body(5000).await.unwrap().num_permits(), 1000);
    }

    #[tokio::test]
    async fn decoding_reserves_what_it_is_asked() {
        let budget = Budget::new(settings());
        let permit = budget.reserve_decoding(80).await.unwrap();
        assert_eq!(permit.num_permits(), 80);
        assert_eq!(
            budget.in_flight(),
            InFlight {
                body_bytes: 0,
                decode_bytes: 80
            }
        );
        // Larger than the pool: it waits for the whole pool.
        let whole = budget.reserve_decoding(1 << 20);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), whole)
                .await
                .is_err()
        );
        drop(permit);
        assert_eq!(
            budget
                .reserve_decoding(1 << 20)
                .await
                .unwrap()
                .num_permits(),
            800
        );
    }
}
