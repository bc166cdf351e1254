//! What an upstream's answer means for the records sent, and how long to wait before
//! sending again: pure, no I/O.

use std::time::{Duration, SystemTime};

/// The first wait after a failure.
const FIRST_WAIT: Duration = Duration::from_secs(1);

/// The longest wait between attempts (and the most a `Retry-After` is honoured).
const MAX_WAIT: Duration = Duration::from_secs(60);

/// What became of an attempt to deliver records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted (2xx); `rejected` of its items refused by the upstream's own validation
    /// (`partialSuccess`).
    Delivered { rejected: u64 },
    /// Not delivered for a reason that may pass (the upstream is down, overloaded,
    /// misconfigured): send the same records again after a wait, `Retry-After` if given.
    Retry {
        /// The upstream's `Retry-After`.
        after: Option<Duration>,
        /// What went wrong, for the log and `/readyz`.
        why: String,
    },
    /// Refused for good: the records themselves are the problem (400, 413), so sending
    /// them again can never succeed. They are dropped and counted.
    Refused { why: String },
}

/// The verdict on an HTTP answer with `status` (the OTLP/HTTP rules: 400 and 413 are
/// the data's fault; 429, 502, 503 and 504 are retryable). Unlike an SDK's exporter, an
/// edge that holds others' data also retries what a fix on the upstream's side cures
/// (401, 403, 404, 408, other 5xx): dropping a queue because a token expired or a URL
/// was wrong would lose what it was built to keep. The queue's bound still applies.
pub fn verdict(status: u16, retry_after: Option<Duration>, body: &str) -> Verdict {
    let why = || {
        let body: String = body.chars().take(200).collect();
        if body.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {body}")
        }
    };
    match status {
        200..=299 => Verdict::Delivered { rejected: 0 },
        400 | 413 => Verdict::Refused { why: why() },
        _ => Verdict::Retry {
            after: retry_after,
            why: why(),
        },
    }
}

/// A `Retry-After` value: seconds, or an HTTP date (a wait from `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Waits between attempts: doubling from 1 s to 60 s, with jitter, or the upstream's
/// `Retry-After` (at most 60 s). Each chunk of records starts a new one.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The wait after one more failure; `jitter` in [0, 1) spreads edges that failed
    /// together (up to a quarter of the wait).
    pub fn next(&mut self, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let doubled = FIRST_WAIT.saturating_mul(1 << self.failures.min(16));
        self.failures = self.failures.saturating_add(1);
        match retry_after {
            Some(after) => after.min(MAX_WAIT),
            None => {
                let wait = doubled.min(MAX_WAIT);
                wait + wait.mul_f64(jitter.clamp(0.0, 1.0) / 4.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(verdict(200, None, ""), Verdict::Delivered { rejected: 0 });
        assert!(
            matches!(verdict(400, None, "bad"), Verdict::Refused { why } if why == "HTTP 400: bad")
        );
        assert!(matches!(verdict(413, None, ""), Verdict::Refused { .. }));
        for status in [401, 404, 429, 500, 502, 503, 504] {
            assert!(
                matches!(verdict(status, None, ""), Verdict::Retry { .. }),
                "{status}"
            );
        }
        let after = Some(Duration::from_secs(7));
        assert!(matches!(verdict(429, after, ""), Verdict::Retry { after: a, .. } if a == after));
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = httpdate::parse_http_date("Wed, 02 Dec 2026 10:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after(" 5 ", now), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_retry_after("Wed, 02 Dec 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 02 Dec 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_doubles_to_a_minute_and_honours_retry_after() {
        let mut backoff = Backoff::default();
        let waits: Vec<u64> = (0..8).map(|_| backoff.next(None, 0.0).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(backoff.next(None, 0.999).as_millis(), 74_985);
        assert_eq!(
            backoff.next(Some(Duration::from_secs(3)), 0.5),
            Duration::from_secs(3)
        );
        assert_eq!(
            backoff.next(Some(Duration::from_secs(3600)), 0.5),
            Duration::from_secs(60)
        );
    }
}
