//! Settings: every one is a command-line flag with a `WASM_OTLP_*` environment twin.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::Parser;

use crate::access::keys::KeySpec;
use crate::access::rate_limit::RateLimit;
use crate::cors::OriginPattern;

/// The origins allowed by default: any port of `localhost`, `127.0.0.1` and `[::1]`,
/// over http and https (what a developer's dev server uses).
pub const DEFAULT_CORS_ORIGINS: &[&str] = &[
    "http://localhost:*",
    "https://localhost:*",
    "http://127.0.0.1:*",
    "https://127.0.0.1:*",
    "http://[::1]:*",
    "https://[::1]:*",
];

/// The collector's settings (`collector --help` explains each).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "collector",
    version,
    about = "OTLP/HTTP trace and log receiver for browser apps, with storage and a query API.",
    long_about = "OTLP/HTTP trace and log receiver for browser apps, with storage and a query API.\n\n\
        Receives POST /v1/traces and POST /v1/logs (OTLP JSON or protobuf, optionally gzip), \
        validates every span and log record, stores the accepted ones durably (a write-ahead \
        log, then indexed segments) before answering, and serves them at GET /api/traces, \
        GET /api/traces/{traceId}, GET /api/sessions/{id}, GET /api/logs and a small viewer \
        at GET /.\n\n\
        Every flag has an environment twin (shown as [env: ...]). Sizes accept B, KiB, MiB \
        and GiB suffixes (4MiB); ages accept s, m, h and d suffixes (7d); 0 turns a \
        retention rule off. Logging follows RUST_LOG (default: info)."
)]
pub struct Config {
    /// Address to listen on (plain HTTP). The receiver has no authentication: keep it on
    /// loopback unless the network is trusted.
    #[arg(long, env = "WASM_OTLP_LISTEN", default_value = "127.0.0.1:4318")]
    pub listen: SocketAddr,

    /// Directory of the store (created if missing). Default: $XDG_DATA_HOME/wasm-otlp,
    /// else $HOME/.local/share/wasm-otlp, else ./wasm-otlp-data.
    #[arg(long, env = "WASM_OTLP_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Directory of source maps for exception stack traces. A frame of the script
    /// https://any.host/PATH is mapped with DIR/PATH.map; the `exception.stacktrace` of
    /// span events and log records then names the original files, lines, columns and
    /// functions, and the trace as received is kept in `exception.minified_stacktrace`.
    /// Unset: stack traces are stored as received.
    #[arg(long, env = "WASM_OTLP_SOURCE_MAPS", value_name = "DIR")]
    pub source_maps: Option<PathBuf>,

    /// Browser origins allowed to send and read (CORS), comma-separated. An entry is an
    /// exact origin (https://app.example.com), an origin with any port
    /// (http://localhost:*), or * for any origin; `none` allows no origin.
    #[arg(
        long,
        env = "WASM_OTLP_CORS_ORIGINS",
        value_delimiter = ',',
        default_values = DEFAULT_CORS_ORIGINS,
    )]
    pub cors_origins: Vec<OriginPattern>,

    /// More host names the collector answers to (the `Host` header), comma-separated,
    /// beside localhost, 127.0.0.1, [::1] and the --listen address; * answers to any name.
    /// Requests for other names get 421 (a defence against DNS rebinding).
    #[arg(long, env = "WASM_OTLP_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,

    /// A public ingest key and the browser origins it is accepted from (the same patterns
    /// as --cors-origins; * also accepts requests without an Origin header). Repeatable;
    /// in the environment, keys are separated by ';'. With any key set, an export without
    /// a valid key (in the x-wasm-otlp-key header, or the key query parameter) gets 401.
    /// A key is public (it is in the page): it stops other websites from sending with it,
    /// not clients that forge Origin.
    #[arg(
        long = "key",
        env = "WASM_OTLP_KEY",
        value_delimiter = ';',
        value_name = "NAME=ORIGIN[,ORIGIN...]"
    )]
    pub keys: Vec<KeySpec>,

    /// Export requests accepted per origin (Origin header; requests without one share a
    /// bucket), a token bucket: N/s or N/m, with ,burst=B the most at once (default: a
    /// second's worth). Counted from the request head, before the body is read; more get
    /// 429 with Retry-After. Off by default.
    #[arg(
        long,
        env = "WASM_OTLP_RATE_LIMIT_ORIGIN",
        value_name = "RATE[,burst=B]"
    )]
    pub rate_limit_origin: Option<RateLimit>,

    /// Export requests accepted per ingest key (from all its origins together), as
    /// --rate-limit-origin. Needs --key.
    #[arg(
        long,
        env = "WASM_OTLP_RATE_LIMIT_KEY",
        value_name = "RATE[,burst=B]",
        requires = "keys"
    )]
    pub rate_limit_key: Option<RateLimit>,

    /// Largest request body accepted, as sent (compressed or not); larger ones get 413.
    #[arg(long, env = "WASM_OTLP_MAX_BODY", default_value_t = ByteSize(4 << 20))]
    pub max_body: ByteSize,

    /// Largest body after gzip decompression; inflating stops there with 413, so a small
    /// gzip bomb never expands in memory.
    #[arg(long, env = "WASM_OTLP_MAX_DECOMPRESSED", default_value_t = ByteSize(16 << 20))]
    pub max_decompressed: ByteSize,

    /// Most spans (or log records, in a logs request) accepted in one request; a request
    /// with more gets 413 before it is fully decoded.
    #[arg(
        long,
        env = "WASM_OTLP_MAX_SPANS_PER_REQUEST",
        default_value_t = 10_000
    )]
    pub max_spans_per_request: usize,

    /// Largest attribute value (string or bytes; arrays and maps count the sum of their
    /// parts). A span with a larger value in its own, its events' or its links'
    /// attributes, or in its resource or scope, is rejected; so is a log record with such
    /// an attribute or a larger body.
    #[arg(long, env = "WASM_OTLP_MAX_ATTRIBUTE_VALUE", default_value_t = ByteSize(64 << 10))]
    pub max_attribute_value: ByteSize,

    /// Longest string other than an attribute value: span, event and scope names,
    /// attribute keys, status messages, trace states, scope versions, schema URLs. A span
    /// with a longer one (or whose resource or scope has one) is rejected.
    #[arg(long, env = "WASM_OTLP_MAX_FIELD_LENGTH", default_value_t = ByteSize(4 << 10))]
    pub max_field_length: ByteSize,

    /// How far past the collector's clock a span may start or end (client clocks are
    /// skewed); later spans are rejected.
    #[arg(long, env = "WASM_OTLP_MAX_FUTURE", default_value_t = Age(Some(Duration::from_secs(15 * 60))))]
    pub max_future: Age,

    /// Spans that started (log records that happened) longer ago than this are deleted (by
    /// whole segments, once everything in one is older; checked after every commit and
    /// every minute), and refused when they arrive. 0 keeps them regardless of age.
    #[arg(long, env = "WASM_OTLP_RETENTION_MAX_AGE", default_value_t = Age(Some(Duration::from_secs(7 * 86_400))))]
    pub retention_max_age: Age,

    /// Most spans and log records kept (counted together); beyond it those that arrived
    /// first are deleted, a segment at a time (so between this less a quarter and this
    /// many stay). 0 means no limit.
    #[arg(
        long,
        env = "WASM_OTLP_RETENTION_MAX_SPANS",
        default_value_t = 10_000_000
    )]
    pub retention_max_spans: u64,

    /// Most bytes of segments and logs kept on disk; beyond it the earliest segments are
    /// deleted. 0 means no limit.
    #[arg(long, env = "WASM_OTLP_RETENTION_MAX_BYTES", default_value_t = ByteSize(4 << 30))]
    pub retention_max_bytes: ByteSize,

    /// Spans and log records held in memory (and in one write-ahead log) before they are
    /// written out as a segment file: larger segments cost memory, smaller ones make more files. A quarter
    /// of --retention-max-spans when that is smaller.
    #[arg(long, env = "WASM_OTLP_SEGMENT_SPANS", default_value_t = 100_000)]
    pub segment_spans: u64,

    /// Most connections open at once; kept 128 below the open-file limit, which is raised
    /// to its hard limit at start. When all are open, a new connection closes the one that
    /// has waited longest for its next request (idle, or still sending its head).
    #[arg(long, env = "WASM_OTLP_MAX_CONNECTIONS", default_value_t = 2048)]
    pub max_connections: usize,

    /// Connections kept from export requests: exports in progress are limited to
    /// --max-connections less this (more get 503), so /healthz, the viewer and queries
    /// still answer when browsers fill the rest.
    #[arg(long, env = "WASM_OTLP_CONNECTION_RESERVE", default_value_t = 64)]
    pub connection_reserve: usize,

    /// A request head (request line and headers) must be complete this long after its
    /// first byte arrived; otherwise the connection is closed.
    #[arg(long, env = "WASM_OTLP_HEADER_TIMEOUT", default_value_t = Timeout(Duration::from_secs(10)))]
    pub header_timeout: Timeout,

    /// A connection that sends nothing for this long while no request is in progress (a
    /// new one before its first request, a kept-alive one between requests) is closed.
    #[arg(long, env = "WASM_OTLP_IDLE_TIMEOUT", default_value_t = Timeout(Duration::from_secs(30)))]
    pub idle_timeout: Timeout,

    /// Largest request head (request line and headers, at least 8KiB); a larger one gets
    /// 431 and the connection is closed. It is also the most a connection buffers.
    #[arg(long, env = "WASM_OTLP_MAX_HEADER_SIZE", default_value_t = ByteSize(16 << 10))]
    pub max_header_size: ByteSize,

    /// Slowest upload accepted, in bytes per second: once --body-timeout has passed, a
    /// body must have arrived at this rate on average, else 408.
    #[arg(long, env = "WASM_OTLP_MIN_UPLOAD_RATE", default_value_t = ByteSize(4 << 10))]
    pub min_upload_rate: ByteSize,

    /// Grace before --min-upload-rate applies: a body of N bytes has this long plus N over
    /// the rate to arrive.
    #[arg(long, env = "WASM_OTLP_BODY_TIMEOUT", default_value_t = Timeout(Duration::from_secs(10)))]
    pub body_timeout: Timeout,

    /// Bytes of export bodies held at once: a request reserves its Content-Length (or
    /// --max-body when chunked, then what arrived) before reading and keeps it until its
    /// spans are stored; one that finds no room waits --in-flight-wait, then gets 503.
    #[arg(long, env = "WASM_OTLP_MAX_BYTES_IN_FLIGHT", default_value_t = ByteSize(64 << 20))]
    pub max_bytes_in_flight: ByteSize,

    /// Memory for decoding export requests: a request reserves 8 times its inflated size
    /// (its length, or --max-decompressed when gzip) from here before decoding and keeps it
    /// until its spans are stored; it waits for room (decoding is brief).
    #[arg(long, env = "WASM_OTLP_MAX_DECODE_BYTES", default_value_t = ByteSize(64 << 20))]
    pub max_decode_bytes: ByteSize,

    /// How long an export waits for room in --max-bytes-in-flight before it gets 503 with
    /// Retry-After.
    #[arg(long, env = "WASM_OTLP_IN_FLIGHT_WAIT", default_value_t = Timeout(Duration::from_secs(5)))]
    pub in_flight_wait: Timeout,

    /// Forward what is accepted to an upstream OTLP/HTTP receiver (the OpenTelemetry
    /// Collector, Tempo, Jaeger, a vendor), given by its base URL: traces go to
    /// <URL>/v1/traces, logs to <URL>/v1/logs, as protobuf with gzip. Repeat (or separate
    /// with commas) for several upstreams; each receives everything. Requests are
    /// acknowledged once durably queued on disk (<data-dir>/forward).
    #[arg(
        long = "forward",
        env = "WASM_OTLP_FORWARD",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub forward: Vec<UpstreamUrl>,

    /// A header sent with every forwarded request, NAME=VALUE (an API key, a tenant);
    /// repeat for several.
    #[arg(
        long = "forward-header",
        env = "WASM_OTLP_FORWARD_HEADERS",
        value_delimiter = ',',
        value_name = "NAME=VALUE"
    )]
    pub forward_headers: Vec<ForwardHeader>,

    /// Bound of the forwarding queue on disk: beyond it the oldest records are dropped
    /// (and counted in wasm_otlp_collector_forward_items_total{outcome="dropped"}).
    #[arg(long, env = "WASM_OTLP_FORWARD_QUEUE_MAX_BYTES", default_value_t = ByteSize(1 << 30))]
    pub forward_queue_max_bytes: ByteSize,

    /// Keep nothing but the forwarding queue: an edge in front of another backend, with
    /// no query API and no viewer. Needs --forward.
    #[arg(long, env = "WASM_OTLP_NO_STORE", requires = "forward")]
    pub no_store: bool,
}

impl Config {
    /// The default settings with a given data directory and an OS-assigned loopback port
    /// (127.0.0.1:0); for embedding and tests. Environment variables are not read.
    pub fn with_data_dir(data_dir: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: Some(data_dir),
            source_maps: None,
            cors_origins: DEFAULT_CORS_ORIGINS
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
            allowed_hosts: Vec::new(),
            keys: Vec::new(),
            rate_limit_origin: None,
            rate_limit_key: None,
            max_body: ByteSize(4 << 20),
            max_decompressed: ByteSize(16 << 20),
            max_spans_per_request: 10_000,
            max_attribute_value: ByteSize(64 << 10),
            max_field_length: ByteSize(4 << 10),
            max_future: Age(Some(Duration::from_secs(15 * 60))),
            retention_max_age: Age(Some(Duration::from_secs(7 * 86_400))),
            retention_max_spans: 10_000_000,
            retention_max_bytes: ByteSize(4 << 30),
            segment_spans: 100_000,
            max_connections: 2048,
            connection_reserve: 64,
            header_timeout: Timeout(Duration::from_secs(10)),
            idle_timeout: Timeout(Duration::from_secs(30)),
            max_header_size: ByteSize(16 << 10),
            min_upload_rate: ByteSize(4 << 10),
            body_timeout: Timeout(Duration::from_secs(10)),
            max_bytes_in_flight: ByteSize(64 << 20),
            max_decode_bytes: ByteSize(64 << 20),
            in_flight_wait: Timeout(Duration::from_secs(5)),
            forward: Vec::new(),
            forward_headers: Vec::new(),
            forward_queue_max_bytes: ByteSize(1 << 30),
            no_store: false,
        }
    }

    /// The data directory: the configured one, else the default.
    ///
    /// The default is the per-user data directory of the XDG base-directory spec
    /// (`$XDG_DATA_HOME/wasm-otlp`, else `$HOME/.local/share/wasm-otlp`): `cargo run -p
    /// collector` from any checkout or worktree then finds the same traces, and nothing is
    /// written into the repository (no ignore rule needed). Without `$HOME` it falls back
    /// to `./wasm-otlp-data`.
    pub fn resolved_data_dir(&self) -> PathBuf {
        if let Some(dir) = &self.data_dir {
            return dir.clone();
        }
        let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(xdg) = non_empty("XDG_DATA_HOME") {
            return PathBuf::from(xdg).join("wasm-otlp");
        }
        if let Some(home) = non_empty("HOME") {
            return PathBuf::from(home).join(".local/share/wasm-otlp");
        }
        PathBuf::from("wasm-otlp-data")
    }
}

/// An upstream's base URL (`--forward`): http or https, with a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUrl(pub String);

impl FromStr for UpstreamUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let url = reqwest::Url::parse(s).map_err(|e| format!("{s:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(format!(
                "{s:?}: an upstream is an http or https URL with a host (http://otel-collector:4318)"
            ));
        }
        if url.path().ends_with("/v1/traces") || url.path().ends_with("/v1/logs") {
            return Err(format!(
                "{s:?}: give the base URL; /v1/traces and /v1/logs are added"
            ));
        }
        Ok(UpstreamUrl(s.to_owned()))
    }
}

impl fmt::Display for UpstreamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A header for forwarded requests (`--forward-header NAME=VALUE`); its value, often a
/// secret, is not shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ForwardHeader {
    /// Its name.
    pub name: axum::http::HeaderName,
    /// Its value.
    pub value: axum::http::HeaderValue,
}

impl fmt::Debug for ForwardHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}=(hidden)", self.name)
    }
}

impl FromStr for ForwardHeader {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, value) = s
            .split_once('=')
            .ok_or_else(|| "a header is NAME=VALUE (authorization=Bearer ...)".to_owned())?;
        Ok(ForwardHeader {
            name: name
                .trim()
                .parse()
                .map_err(|_| format!("{:?} is not a header name", name.trim()))?,
            value: value
                .trim()
                .parse()
                .map_err(|_| format!("the value of header {:?} is not valid", name.trim()))?,
        })
    }
}

/// Splits `"64KiB"` into `(64, "KiB")`: leading decimal digits, then the rest (trimmed).
fn number_and_unit(s: &str) -> Option<(u64, &str)> {
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(digits_end);
    Some((number.parse().ok()?, unit.trim()))
}

/// A size in bytes, written as a number with an optional B, KiB, MiB or GiB suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (number, unit) = number_and_unit(s)
            .ok_or_else(|| format!("{s:?} is not a size (examples: 65536, 64KiB, 4MiB)"))?;
        let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kib" | "k" => 1 << 10,
            "mib" | "m" => 1 << 20,
            "gib" | "g" => 1 << 30,
            other => {
                return Err(format!(
                    "unknown size unit {other:?} (use B, KiB, MiB or GiB)"
                ));
            }
        };
        number
            .checked_mul(multiplier)
            .map(ByteSize)
            .ok_or_else(|| format!("{s:?} is too large"))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
        for (size, name) in UNITS {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{}{name}", self.0 / size);
            }
        }
        write!(f, "{}", self.0)
    }
}

/// A retention age, written as a number with an s, m, h or d suffix; `0` means none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age(pub Option<Duration>);

impl FromStr for Age {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (number, unit) = number_and_unit(s)
            .ok_or_else(|| format!("{s:?} is not an age (examples: 90m, 24h, 7d, 0)"))?;
        let seconds: u64 = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "" if number == 0 => 0,
            other => return Err(format!("unknown age unit {other:?} (use s, m, h or d)")),
        };
        let total = number
            .checked_mul(seconds)
            .ok_or_else(|| format!("{s:?} is too long"))?;
        Ok(Age((total > 0).then(|| Duration::from_secs(total))))
    }
}

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(age) = self.0 else {
            return f.write_str("0");
        };
        let secs = age.as_secs();
        for (size, name) in [(86_400, "d"), (3600, "h"), (60, "m")] {
            if secs.is_multiple_of(size) {
                return write!(f, "{}{name}", secs / size);
            }
        }
        write!(f, "{secs}s")
    }
}

/// A timeout, written as a number with an ms, s or m suffix (500ms, 10s, 2m); never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout(pub Duration);

impl FromStr for Timeout {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (number, unit) = number_and_unit(s)
            .ok_or_else(|| format!("{s:?} is not a timeout (examples: 500ms, 10s, 2m)"))?;
        let millis: u64 = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            other => return Err(format!("unknown time unit {other:?} (use ms, s or m)")),
        };
        match number.checked_mul(millis) {
            Some(0) => Err("a timeout cannot be 0".to_owned()),
            Some(total) => Ok(Timeout(Duration::from_millis(total))),
            None => Err(format!("{s:?} is too long")),
        }
    }
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        for (size, name) in [(60_000, "m"), (1000, "s")] {
            if millis.is_multiple_of(size) {
                return write!(f, "{}{name}", millis / size);
            }
        }
        write!(f, "{millis}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!("65536".parse(), Ok(ByteSize(65536)));
        assert_eq!("64KiB".parse(), Ok(ByteSize(64 << 10)));
        assert_eq!("4 MiB".parse(), Ok(ByteSize(4 << 20)));
        assert_eq!("1g".parse(), Ok(ByteSize(1 << 30)));
        assert!("4XB".parse::<ByteSize>().is_err());
        assert!("MiB".parse::<ByteSize>().is_err());
        assert!("99999999999GiB".parse::<ByteSize>().is_err());
        assert_eq!(ByteSize(16 << 20).to_string(), "16MiB");
        assert_eq!(ByteSize(1000).to_string(), "1000");
    }

    #[test]
    fn ages_parse_and_print() {
        assert_eq!("7d".parse(), Ok(Age(Some(Duration::from_secs(7 * 86_400)))));
        assert_eq!("90m".parse(), Ok(Age(Some(Duration::from_secs(5400)))));
        assert_eq!("0".parse(), Ok(Age(None)));
        assert_eq!("0h".parse(), Ok(Age(None)));
        assert!("12".parse::<Age>().is_err());
        assert!("3w".parse::<Age>().is_err());
        assert_eq!(Age(Some(Duration::from_secs(5400))).to_string(), "90m");
        assert_eq!(Age(Some(Duration::from_secs(61))).to_string(), "61s");
        assert_eq!(Age(None).to_string(), "0");
    }

    #[test]
    fn timeouts_parse_and_print() {
        assert_eq!("500ms".parse(), Ok(Timeout(Duration::from_millis(500))));
        assert_eq!("10s".parse(), Ok(Timeout(Duration::from_secs(10))));
        assert_eq!("2m".parse(), Ok(Timeout(Duration::from_secs(120))));
        assert!("0s".parse::<Timeout>().is_err());
        assert!("10".parse::<Timeout>().is_err());
        assert!("1h".parse::<Timeout>().is_err());
        assert_eq!(Timeout(Duration::from_secs(120)).to_string(), "2m");
        assert_eq!(Timeout(Duration::from_millis(1500)).to_string(), "1500ms");
        assert_eq!(Timeout(Duration::from_secs(5)).to_string(), "5s");
    }

    #[test]
    fn forwarding_flags() {
        let config = Config::try_parse_from([
            "collector",
            "--forward",
            "http://otel:4318,https://vendor.example/otlp",
            "--forward-header",
            "authorization=Bearer secret",
            "--no-store",
        ])
        .unwrap();
        assert_eq!(config.forward.len(), 2);
        assert!(config.no_store);
        assert_eq!(
            format!("{:?}", config.forward_headers),
            "[authorization=(hidden)]"
        );
        assert!(Config::try_parse_from(["collector", "--no-store"]).is_err());
        for bad in ["otel:4318", "ftp://otel", "http://otel:4318/v1/traces"] {
            assert!(bad.parse::<UpstreamUrl>().is_err(), "{bad}");
        }
        assert!("no-equals".parse::<ForwardHeader>().is_err());
    }

    #[test]
    fn flags_and_defaults() {
        let config = Config::try_parse_from([
            "collector",
            "--listen",
            "127.0.0.1:9999",
            "--cors-origins",
            "https://a.example,*",
            "--max-body",
            "1MiB",
            "--retention-max-age",
            "0",
        ])
        .unwrap();
        assert_eq!(config.listen.port(), 9999);
        assert_eq!(config.cors_origins.len(), 2);
        assert_eq!(config.max_body, ByteSize(1 << 20));
        assert_eq!(config.retention_max_age, Age(None));
        let none = Config::try_parse_from(["collector", "--cors-origins", "none"]).unwrap();
        assert_eq!(none.cors_origins, [OriginPattern::Nothing]);
        assert_eq!(
            Config::with_data_dir("x".into()).cors_origins.len(),
            DEFAULT_CORS_ORIGINS.len()
        );
    }

    #[test]
    fn keys_and_rate_limits() {
        let config = Config::try_parse_from([
            "collector",
            "--key",
            "shop=https://shop.example.com,http://localhost:*",
            "--key",
            "blog=https://blog.example;any=*",
            "--rate-limit-origin",
            "20/s",
            "--rate-limit-key",
            "600/m,burst=50",
        ])
        .unwrap();
        let names: Vec<&str> = config.keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["shop", "blog", "any"]);
        assert_eq!(config.keys[0].origins.len(), 2);
        assert_eq!(config.rate_limit_origin.unwrap().burst, 20);
        assert_eq!(config.rate_limit_key.unwrap().to_string(), "600/m,burst=50");
        let error = Config::try_parse_from(["collector", "--rate-limit-key", "1/s"]).unwrap_err();
        assert!(error.to_string().contains("--key"), "{error}");
        assert!(Config::try_parse_from(["collector", "--key", "shop"]).is_err());
        let none = Config::try_parse_from(["collector"]).unwrap();
        assert!(none.keys.is_empty() && none.rate_limit_origin.is_none());
    }

    #[test]
    fn connection_limits_default_alike_from_flags_and_for_embedding() {
        let parsed = Config::try_parse_from(["collector"]).unwrap();
        let embedded = Config::with_data_dir("x".into());
        let limits = |c: &Config| {
            (
                (c.max_connections, c.connection_reserve),
                (c.header_timeout, c.idle_timeout, c.body_timeout),
                (c.in_flight_wait, c.max_header_size, c.min_upload_rate),
                (c.max_bytes_in_flight, c.max_decode_bytes),
            )
        };
        assert_eq!(limits(&parsed), limits(&embedded));
        let set = Config::try_parse_from(["collector", "--header-timeout", "500ms"]).unwrap();
        assert_eq!(set.header_timeout, Timeout(Duration::from_millis(500)));
    }
}
