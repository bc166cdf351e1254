//! Settings: every one is a command-line flag with a `WASM_OTLP_*` environment twin.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::Parser;

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
    about = "OTLP/HTTP trace receiver for browser apps, with storage and a query API.",
    long_about = "OTLP/HTTP trace receiver for browser apps, with storage and a query API.\n\n\
        Receives POST /v1/traces (OTLP JSON or protobuf, optionally gzip), validates every \
        span, stores the accepted ones durably in SQLite before answering, and serves them \
        at GET /api/traces, GET /api/traces/{traceId} and a small viewer at GET /.\n\n\
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

    /// Largest request body accepted, as sent (compressed or not); larger ones get 413.
    #[arg(long, env = "WASM_OTLP_MAX_BODY", default_value_t = ByteSize(4 << 20))]
    pub max_body: ByteSize,

    /// Largest body after gzip decompression; inflating stops there with 413, so a small
    /// gzip bomb never expands in memory.
    #[arg(long, env = "WASM_OTLP_MAX_DECOMPRESSED", default_value_t = ByteSize(16 << 20))]
    pub max_decompressed: ByteSize,

    /// Most spans accepted in one request; a request with more gets 413 before it is
    /// fully decoded.
    #[arg(
        long,
        env = "WASM_OTLP_MAX_SPANS_PER_REQUEST",
        default_value_t = 10_000
    )]
    pub max_spans_per_request: usize,

    /// Largest attribute value (string or bytes; arrays and maps count the sum of their
    /// parts). A span with a larger value in its own, its events' or its links'
    /// attributes, or in its resource or scope, is rejected.
    #[arg(long, env = "WASM_OTLP_MAX_ATTRIBUTE_VALUE", default_value_t = ByteSize(64 << 10))]
    pub max_attribute_value: ByteSize,

    /// Spans that started longer ago than this are deleted (checked after every commit
    /// and every minute). 0 keeps them regardless of age.
    #[arg(long, env = "WASM_OTLP_RETENTION_MAX_AGE", default_value_t = Age(Some(Duration::from_secs(7 * 86_400))))]
    pub retention_max_age: Age,

    /// Most spans kept; beyond it the spans that arrived first are deleted after each
    /// commit. 0 means no limit.
    #[arg(
        long,
        env = "WASM_OTLP_RETENTION_MAX_SPANS",
        default_value_t = 1_000_000
    )]
    pub retention_max_spans: u64,

    /// Export requests read and decoded at once; more wait their turn before their body
    /// is read. Bounds memory: each holds at most max-body + max-decompressed bytes plus
    /// its decoded spans.
    #[arg(long, env = "WASM_OTLP_MAX_CONCURRENT_REQUESTS", default_value_t = 4)]
    pub max_concurrent_requests: usize,
}

impl Config {
    /// The default settings with a given data directory and an OS-assigned loopback port
    /// (127.0.0.1:0); for embedding and tests. Environment variables are not read.
    pub fn with_data_dir(data_dir: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: Some(data_dir),
            cors_origins: DEFAULT_CORS_ORIGINS
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
            allowed_hosts: Vec::new(),
            max_body: ByteSize(4 << 20),
            max_decompressed: ByteSize(16 << 20),
            max_spans_per_request: 10_000,
            max_attribute_value: ByteSize(64 << 10),
            retention_max_age: Age(Some(Duration::from_secs(7 * 86_400))),
            retention_max_spans: 1_000_000,
            max_concurrent_requests: 4,
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
}
