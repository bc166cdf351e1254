//! Rate limits (`--rate-limit-origin`, `--rate-limit-key`): a token bucket per origin or
//! per key, in a table of bounded size. Pure: the time is passed in.
//!
//! They count requests, not spans: a request is refused before its body is read, which
//! is the cheap defence (the body budgets already bound the bytes, and the items are not
//! known until the body is decoded).
//!
//! Written here rather than taken from a crate: `governor`, the usual one, keeps keyed
//! limiters in a map that grows with every new key until `retain_recent` is called; a
//! table that cannot grow past its size whatever the origins claimed is what an edge
//! needs, and a token bucket is a few lines.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// How often a full table may be swept for buckets that have refilled (a sweep visits
/// every bucket).
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// A rate limit as written in a flag: `N/s` or `N/m` requests, optionally with
/// `,burst=B` (the requests that may come at once; default: a second's worth, at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per [`RateLimit::per`].
    pub requests: u32,
    /// The period: a second or a minute.
    pub per: Duration,
    /// The bucket's size.
    pub burst: u32,
}

impl RateLimit {
    /// Tokens added per second.
    fn per_second(&self) -> f64 {
        f64::from(self.requests) / self.per.as_secs_f64()
    }

    /// The default burst: a second's worth, at least 1.
    fn default_burst(requests: u32, per: Duration) -> u32 {
        let per_second = u64::from(requests).div_ceil(per.as_secs().max(1));
        u32::try_from(per_second).unwrap_or(u32::MAX).max(1)
    }
}

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let usage = || format!("{s:?} is not a rate limit (examples: 20/s, 600/m, 20/s,burst=100)");
        let (rate, burst) = match s.split_once(',') {
            Some((rate, burst)) => (rate, Some(burst.trim())),
            None => (s, None),
        };
        let (requests, unit) = rate.split_once('/').ok_or_else(usage)?;
        let requests: u32 = requests.trim().parse().map_err(|_| usage())?;
        let per = match unit.trim() {
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            other => return Err(format!("unknown rate unit {other:?} (use /s or /m)")),
        };
        let burst = match burst {
            None => RateLimit::default_burst(requests, per),
            Some(burst) => burst
                .strip_prefix("burst=")
                .and_then(|b| b.trim().parse().ok())
                .ok_or_else(usage)?,
        };
        if requests == 0 || burst == 0 {
            return Err(format!(
                "{s:?}: a rate limit needs at least 1 request and a burst of at least 1 (leave the flag out for no limit)"
            ));
        }
        Ok(RateLimit {
            requests,
            per,
            burst,
        })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = if self.per.as_secs() == 60 { "m" } else { "s" };
        write!(f, "{}/{unit}", self.requests)?;
        if self.burst != RateLimit::default_burst(self.requests, self.per) {
            write!(f, ",burst={}", self.burst)?;
        }
        Ok(())
    }
}

/// One token bucket: full at `burst` tokens, refilled at the limit's rate; a request
/// takes one.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(limit: &RateLimit, now: Instant) -> Bucket {
        Bucket {
            tokens: f64::from(limit.burst),
            at: now,
        }
    }

    /// Refills for the time since it was last seen.
    fn refill(&mut self, limit: &RateLimit, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * limit.per_second()).min(f64::from(limit.burst));
        self.at = self.at.max(now);
    }

    /// Takes a token, or says how long until there is one.
    fn take(&mut self, limit: &RateLimit, now: Instant) -> Result<(), Duration> {
        self.refill(limit, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            // (Multiplied by the period rather than divided by the rate: 1/m waits 60 s, not
            // a rounding error more.)
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) * limit.per.as_secs_f64() / f64::from(limit.requests),
            ))
        }
    }

    /// Whether it would be full at `now` (then forgetting it changes nothing).
    fn is_full(&self, limit: &RateLimit, now: Instant) -> bool {
        let mut bucket = *self;
        bucket.refill(limit, now);
        bucket.tokens >= f64::from(limit.burst)
    }
}

/// Token buckets by a 64-bit key (a key's number, an origin's hash), at most `capacity`
/// of them. When the table is full, buckets that have refilled are forgotten (a full
/// bucket is what a new one would be, so nothing is lost), at most once per
/// [`SWEEP_INTERVAL`]; a new key that still finds no room shares one overflow bucket
/// with the others that found none. So the table never grows, and claiming many new
/// origins neither resets a limited one nor takes the buckets of the known ones.
#[derive(Debug)]
pub struct Buckets {
    limit: RateLimit,
    capacity: usize,
    table: HashMap<u64, Bucket>,
    overflow: Bucket,
    swept: Option<Instant>,
}

impl Buckets {
    /// Empty (every key's bucket full), holding at most `capacity` buckets beside the
    /// overflow one.
    pub fn new(limit: RateLimit, capacity: usize, now: Instant) -> Buckets {
        Buckets {
            limit,
            capacity,
            table: HashMap::new(),
            overflow: Bucket::full(&limit, now),
            swept: None,
        }
    }

    /// The limit.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Takes a token from `key`'s bucket at `now`, or says how long until it has one.
    pub fn take(&mut self, key: u64, now: Instant) -> Result<(), Duration> {
        let limit = self.limit;
        if let Some(bucket) = self.table.get_mut(&key) {
            return bucket.take(&limit, now);
        }
        if self.table.len() >= self.capacity {
            self.sweep(now);
        }
        if self.table.len() < self.capacity {
            let mut bucket = Bucket::full(&limit, now);
            let taken = bucket.take(&limit, now);
            self.table.insert(key, bucket);
            taken
        } else {
            self.overflow.take(&limit, now)
        }
    }

    fn sweep(&mut self, now: Instant) {
        if self
            .swept
            .is_some_and(|swept| now.saturating_duration_since(swept) < SWEEP_INTERVAL)
        {
            return;
        }
        self.swept = Some(now);
        let limit = self.limit;
        self.table.retain(|_, bucket| !bucket.is_full(&limit, now));
    }
}

/// `Retry-After` for a wait: whole seconds, rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(s: &str) -> RateLimit {
        s.parse().unwrap()
    }

    #[test]
    fn limits_parse_and_print() {
        assert_eq!(
            limit("20/s"),
            RateLimit {
                requests: 20,
                per: Duration::from_secs(1),
                burst: 20
            }
        );
        assert_eq!(limit("600/m").burst, 10);
        assert_eq!(limit("30/m").burst, 1);
        assert_eq!(limit("5/s,burst=50").burst, 50);
        assert_eq!(limit(" 5 / s , burst=50 ").burst, 50);
        for s in ["20/s", "600/m", "5/s,burst=50", "30/m,burst=3"] {
            assert_eq!(limit(s).to_string(), s);
        }
        for bad in [
            "20",
            "20/h",
            "0/s",
            "-1/s",
            "x/s",
            "5/s,burst=0",
            "5/s,50",
            "5/s,burst=",
        ] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let mut buckets = Buckets::new(limit("2/s,burst=3"), 10, t0);
        for _ in 0..3 {
            assert_eq!(buckets.take(1, t0), Ok(()));
        }
        let wait = buckets.take(1, t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Another key has its own bucket.
        assert_eq!(buckets.take(2, t0), Ok(()));
        // Half a second later one token has come back, and only one.
        let later = t0 + Duration::from_millis(500);
        assert_eq!(buckets.take(1, later), Ok(()));
        assert!(buckets.take(1, later).is_err());
        // A long pause refills to the burst, no further.
        let much_later = later + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(buckets.take(1, much_later), Ok(()));
        }
        assert!(buckets.take(1, much_later).is_err());
    }

    #[test]
    fn retry_after_is_whole_seconds_at_least_one() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(60)), 60);
        let mut buckets = Buckets::new(limit("1/m"), 1, Instant::now());
        let now = Instant::now();
        buckets.take(7, now).unwrap();
        assert_eq!(retry_after_secs(buckets.take(7, now).unwrap_err()), 60);
    }

    #[test]
    fn the_table_never_grows_past_its_capacity() {
        let t0 = Instant::now();
        let mut buckets = Buckets::new(limit("1/s,burst=2"), 3, t0);
        for key in 0..3 {
            buckets.take(key, t0).unwrap();
            buckets.take(key, t0).unwrap();
        }
        // Full of limited buckets: new keys share the overflow bucket...
        assert_eq!(buckets.take(100, t0), Ok(()));
        assert_eq!(buckets.take(101, t0), Ok(()));
        assert!(buckets.take(102, t0).is_err());
        assert_eq!(buckets.table.len(), 3);
        // ...and a limited key stays limited, whatever the new keys did.
        assert!(buckets.take(0, t0).is_err());
        // Once buckets have refilled, a sweep forgets them and new keys get their own.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(buckets.take(200, later), Ok(()));
        assert_eq!(buckets.take(200, later), Ok(()));
        assert!(buckets.take(200, later).is_err());
        assert_eq!(buckets.table.len(), 1);
        for key in 0..10_000 {
            let _ = buckets.take(key, later);
        }
        assert_eq!(buckets.table.len(), 3);
    }

    #[test]
    fn a_full_table_is_swept_at_most_once_a_second() {
        let t0 = Instant::now();
        let mut buckets = Buckets::new(limit("1/s,burst=1"), 1, t0);
        buckets.take(1, t0).unwrap();
        // Full: the sweep finds nothing to forget; key 2 overflows.
        assert_eq!(buckets.take(2, t0), Ok(()));
        // Key 1 has refilled 600 ms later, but no sweep runs again so soon.
        let soon = t0 + Duration::from_millis(600);
        assert!(buckets.take(3, soon).is_err());
        let later = t0 + Duration::from_millis(1100);
        assert_eq!(buckets.take(3, later), Ok(()));
        assert_eq!(buckets.table.len(), 1);
    }
}
