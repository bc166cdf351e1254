//! Public ingest keys (`--key NAME=ORIGIN[,ORIGIN...]`): which key an export request
//! names, and whether its origin may use it. Pure: no I/O.
//!
//! A key is public (it is in the page's source), so it names a site rather than proving
//! who sends. What it buys is the binding to origins: a browser sets `Origin` itself and
//! a page cannot change it, so another website cannot send with the key from its
//! visitors' browsers. A client outside a browser can claim any origin; rate limits
//! ([`super::rate_limit`]) bound what it can do with a key it copied.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use crate::cors::OriginPattern;

/// The longest key accepted in `--key`.
pub const MAX_KEY_LEN: usize = 128;

/// How much of an unknown key a refusal repeats (then `…`): enough to spot a typo, too
/// little to make the collector echo whatever it is sent.
const SHOWN_UNKNOWN_KEY_CHARS: usize = 4;

/// How much of an origin a refusal repeats (then `…`).
const SHOWN_ORIGIN_CHARS: usize = 100;

/// One `--key` entry: a key and the origins it is accepted from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    /// The key, as clients send it: 1 to [`MAX_KEY_LEN`] ASCII letters, digits, `-`,
    /// `.`, `_` or `~` (so that it needs no escaping in a header or a URL).
    pub name: String,
    /// The origins it is accepted from (`*`: any origin, and requests without one).
    pub origins: Vec<OriginPattern>,
}

impl FromStr for KeySpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((name, origins)) = s.trim().split_once('=') else {
            return Err(format!(
                "{s:?} is not a key: expected NAME=ORIGIN[,ORIGIN...] (shop-web=https://shop.example.com)"
            ));
        };
        let name = name.trim();
        if name.is_empty()
            || name.len() > MAX_KEY_LEN
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return Err(format!(
                "key {name:?}: use 1 to {MAX_KEY_LEN} ASCII letters, digits, '-', '.', '_' or '~'"
            ));
        }
        let origins = origins
            .split(',')
            .map(str::parse::<OriginPattern>)
            .filter(|origin| origin != &Ok(OriginPattern::Nothing))
            .collect::<Result<Vec<_>, _>>()?;
        if origins.is_empty() {
            return Err(format!(
                "key {name:?} names no origin: list the origins it is accepted from (or * for any)"
            ));
        }
        Ok(KeySpec {
            name: name.to_owned(),
            origins,
        })
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}=", self.name)?;
        for (i, origin) in self.origins.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{origin}")?;
        }
        Ok(())
    }
}

/// A configured key's number (from 0, in the order the keys were first given), for its
/// rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub usize);

/// The configured keys.
#[derive(Debug)]
pub struct Keys {
    by_name: HashMap<String, (KeyId, Vec<OriginPattern>)>,
}

impl Keys {
    /// The keys of `specs`; a key given twice is accepted from the origins of both.
    pub fn new(specs: &[KeySpec]) -> Keys {
        let mut by_name: HashMap<String, (KeyId, Vec<OriginPattern>)> = HashMap::new();
        for spec in specs {
            let next = KeyId(by_name.len());
            let (_, origins) = by_name
                .entry(spec.name.clone())
                .or_insert_with(|| (next, Vec::new()));
            origins.extend(spec.origins.iter().cloned());
        }
        Keys { by_name }
    }

    /// How many distinct keys there are.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The key a request presented (`key`), checked against the `Origin` it came from
    /// (`origin`, none without the header).
    pub fn check(&self, key: Option<&str>, origin: Option<&str>) -> Result<KeyId, Refusal> {
        let Some(key) = key else {
            return Err(Refusal::Missing);
        };
        let Some((name, (id, origins))) = self.by_name.get_key_value(key) else {
            return Err(Refusal::Unknown {
                shown: shown(key, SHOWN_UNKNOWN_KEY_CHARS),
            });
        };
        let allowed = match origin {
            Some(origin) => origins.iter().any(|pattern| pattern.matches(origin)),
            None => origins.contains(&OriginPattern::Any),
        };
        if allowed {
            Ok(*id)
        } else {
            Err(Refusal::WrongOrigin {
                key: name.clone(),
                origin: origin.map(|origin| shown(origin, SHOWN_ORIGIN_CHARS)),
            })
        }
    }
}

/// Why a request's key was refused; its `Display` is the message sent back, which
/// repeats at most a short, printable part of what the request sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No key in the request.
    Missing,
    /// A key that is not configured (`shown`: its first characters).
    Unknown {
        /// The first characters of the key sent, then `…` if there were more.
        shown: String,
    },
    /// A configured key sent from an origin it is not accepted from.
    WrongOrigin {
        /// The key.
        key: String,
        /// The request's origin (cut short), none without an `Origin` header.
        origin: Option<String>,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Missing => write!(
                f,
                "no ingest key: this collector accepts exports only with a key, sent in the {} header or the {} query parameter",
                super::KEY_HEADER,
                super::KEY_PARAMETER
            ),
            Refusal::Unknown { shown } => write!(f, "unknown ingest key \"{shown}\""),
            Refusal::WrongOrigin {
                key,
                origin: Some(origin),
            } => write!(
                f,
                "ingest key \"{key}\" is not valid for origin \"{origin}\""
            ),
            Refusal::WrongOrigin { key, origin: None } => write!(
                f,
                "ingest key \"{key}\" is valid only from its browser origins, and the request has no Origin header"
            ),
        }
    }
}

/// The first `max` characters of `text`, anything but printable ASCII as `?`, then `…`
/// if it was longer.
fn shown(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(specs: &[&str]) -> Keys {
        let specs: Vec<KeySpec> = specs.iter().map(|s| s.parse().unwrap()).collect();
        Keys::new(&specs)
    }

    #[test]
    fn specs_parse_and_print() {
        let spec: KeySpec = "shop-web=https://shop.example.com, http://localhost:*"
            .parse()
            .unwrap();
        assert_eq!(spec.name, "shop-web");
        assert_eq!(spec.origins.len(), 2);
        assert_eq!(
            spec.to_string(),
            "shop-web=https://shop.example.com,http://localhost:*"
        );
        assert_eq!(
            "k=*".parse::<KeySpec>().unwrap().origins,
            [OriginPattern::Any]
        );
        for bad in [
            "shop",
            "=https://a.example",
            "sh op=https://a.example",
            "shop/1=https://a.example",
            "shop=",
            "shop=none",
            "shop=a.example",
            &format!("{}=*", "k".repeat(MAX_KEY_LEN + 1)),
        ] {
            assert!(bad.parse::<KeySpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_key_is_accepted_from_its_origins_only() {
        let keys = keys(&["shop=https://shop.example.com,http://localhost:*", "any=*"]);
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys.check(Some("shop"), Some("https://shop.example.com")),
            Ok(KeyId(0))
        );
        assert_eq!(
            keys.check(Some("shop"), Some("http://localhost:5173")),
            Ok(KeyId(0))
        );
        assert_eq!(
            keys.check(Some("shop"), Some("https://evil.example")),
            Err(Refusal::WrongOrigin {
                key: "shop".into(),
                origin: Some("https://evil.example".into())
            })
        );
        assert!(matches!(
            keys.check(Some("shop"), None),
            Err(Refusal::WrongOrigin { origin: None, .. })
        ));
        assert_eq!(keys.check(Some("any"), Some("null")), Ok(KeyId(1)));
        assert_eq!(keys.check(Some("any"), None), Ok(KeyId(1)));
        // Keys are compared exactly.
        assert!(matches!(
            keys.check(Some("SHOP"), Some("https://shop.example.com")),
            Err(Refusal::Unknown { .. })
        ));
        assert_eq!(keys.check(None, None), Err(Refusal::Missing));
    }

    #[test]
    fn a_key_given_twice_has_the_origins_of_both() {
        let keys = keys(&["k=https://a.example", "other=*", "k=https://b.example"]);
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys.check(Some("k"), Some("https://a.example")),
            Ok(KeyId(0))
        );
        assert_eq!(
            keys.check(Some("k"), Some("https://b.example")),
            Ok(KeyId(0))
        );
        assert_eq!(keys.check(Some("other"), None), Ok(KeyId(1)));
    }

    #[test]
    fn refusals_repeat_little_of_what_was_sent() {
        let keys = keys(&["shop=https://shop.example.com"]);
        let unknown = keys
            .check(Some("secret-looking-value\n"), None)
            .unwrap_err();
        assert_eq!(unknown.to_string(), "unknown ingest key \"secr…\"");
        assert_eq!(
            keys.check(Some("ab\u{7f}"), None).unwrap_err().to_string(),
            "unknown ingest key \"ab?\""
        );
        let origin = format!("https://{}.example", "x".repeat(500));
        let message = keys
            .check(Some("shop"), Some(&origin))
            .unwrap_err()
            .to_string();
        assert!(message.len() < 160, "{message}");
        assert!(
            message.starts_with("ingest key \"shop\" is not valid for origin \"https://xxx"),
            "{message}"
        );
        assert!(
            Refusal::Missing.to_string().contains("x-wasm-otlp-key"),
            "{}",
            Refusal::Missing
        );
    }
}
