//! Which browser origins may call the collector, and the CORS layer that enforces it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use axum::http::{HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, AllowPrivateNetwork, CorsLayer};

/// How long a browser may cache a preflight answer.
pub const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(7200);

/// One entry of the allowed-origins list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPattern {
    /// `*`: any origin.
    Any,
    /// An exact origin such as `https://app.example.com` (compared case-insensitively).
    Exact(String),
    /// `scheme://host:*`: that scheme and host on any port, or without a port.
    AnyPort(String),
    /// `none` (or an empty entry): matches nothing, so `--cors-origins none` allows no
    /// origin.
    Nothing,
}

impl OriginPattern {
    /// Whether the `Origin` header value `origin` matches this entry.
    pub fn matches(&self, origin: &str) -> bool {
        match self {
            OriginPattern::Any => true,
            OriginPattern::Exact(exact) => origin.eq_ignore_ascii_case(exact),
            OriginPattern::AnyPort(base) => {
                let Some(head) = origin.get(..base.len()) else {
                    return false;
                };
                if !head.eq_ignore_ascii_case(base) {
                    return false;
                }
                match &origin[base.len()..] {
                    "" => true,
                    rest => rest.strip_prefix(':').is_some_and(|port| {
                        !port.is_empty()
                            && port.len() <= 5
                            && port.bytes().all(|b| b.is_ascii_digit())
                    }),
                }
            }
            OriginPattern::Nothing => false,
        }
    }
}

impl FromStr for OriginPattern {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().trim_end_matches('/');
        if s.is_empty() || s.eq_ignore_ascii_case("none") {
            return Ok(OriginPattern::Nothing);
        }
        if s == "*" {
            return Ok(OriginPattern::Any);
        }
        let Some((scheme, rest)) = s.split_once("://") else {
            return Err(format!(
                "{s:?} is not an origin (examples: https://app.example.com, http://localhost:*, *)"
            ));
        };
        if scheme.is_empty() || rest.is_empty() || rest.contains('/') {
            return Err(format!(
                "{s:?} is not an origin: expected scheme://host[:port] without a path"
            ));
        }
        match s.strip_suffix(":*") {
            Some(base) => Ok(OriginPattern::AnyPort(base.to_ascii_lowercase())),
            None if s.contains('*') => Err(format!(
                "{s:?}: a * is allowed only alone or as the port (http://localhost:*)"
            )),
            None => Ok(OriginPattern::Exact(s.to_ascii_lowercase())),
        }
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OriginPattern::Any => f.write_str("*"),
            OriginPattern::Exact(origin) => f.write_str(origin),
            OriginPattern::AnyPort(base) => write!(f, "{base}:*"),
            OriginPattern::Nothing => f.write_str("none"),
        }
    }
}

/// The CORS layer: preflights from allowed origins are answered for POST, GET and OPTIONS
/// with the headers content-type, content-encoding, accept and the ingest key's
/// ([`crate::access::KEY_HEADER`]), cacheable for
/// [`PREFLIGHT_MAX_AGE`]; responses to an allowed origin carry
/// `Access-Control-Allow-Origin` with that origin and expose `Date` (the browser SDK
/// corrects a wrong client clock from it) and `Retry-After` (which it honours), and their
/// preflights that ask for it `Access-Control-Allow-Private-Network: true`; other origins
/// get no CORS headers.
pub fn layer(patterns: &[OriginPattern]) -> CorsLayer {
    let patterns: std::sync::Arc<[OriginPattern]> = patterns.into();
    let allowed = move |origin: &HeaderValue| {
        origin
            .to_str()
            .is_ok_and(|origin| patterns.iter().any(|p| p.matches(origin)))
    };
    let for_origin = allowed.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| for_origin(origin)))
        // Chromium's Private Network Access: a page on a public origin that the list
        // allows may reach a collector on loopback only if the preflight says so.
        .allow_private_network(AllowPrivateNetwork::predicate(move |origin, _| {
            allowed(origin)
        }))
        .allow_methods([Method::POST, Method::GET, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::CONTENT_ENCODING,
            header::ACCEPT,
            crate::access::KEY_HEADER,
        ])
        .expose_headers([header::DATE, header::RETRY_AFTER])
        .max_age(PREFLIGHT_MAX_AGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(s: &str) -> OriginPattern {
        s.parse().unwrap()
    }

    #[test]
    fn any_port_matches_the_host_on_every_port_only() {
        let p = pattern("http://localhost:*");
        assert!(p.matches("http://localhost:5173"));
        assert!(p.matches("http://localhost"));
        assert!(p.matches("HTTP://LOCALHOST:80"));
        assert!(!p.matches("https://localhost:5173"));
        assert!(!p.matches("http://localhost.evil.example"));
        assert!(!p.matches("http://localhost:"));
        assert!(!p.matches("http://localhost:12a"));
        assert!(!p.matches("http://localhost:5173/"));
        assert!(pattern("http://[::1]:*").matches("http://[::1]:3000"));
    }

    #[test]
    fn exact_any_and_empty() {
        assert!(pattern("https://App.example.com/").matches("https://app.example.com"));
        assert!(!pattern("https://app.example.com").matches("https://app.example.com:8443"));
        assert!(pattern("*").matches("https://anything.example"));
        assert!(!pattern("").matches("http://localhost"));
        assert!(!pattern("none").matches("http://localhost"));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for bad in [
            "localhost",
            "http://",
            "http://a/b",
            "http://*.example.com",
            "://x",
        ] {
            assert!(bad.parse::<OriginPattern>().is_err(), "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["*", "http://localhost:*", "https://app.example.com", "none"] {
            assert_eq!(pattern(s).to_string(), s);
        }
    }
}
