//! The searchable terms of a span: its service, its name, an error status, and each
//! scalar attribute of the span and of its resource as `key=value`; of a log record: its
//! service, its trace and its `session.id`. A term is kept as a
//! 64-bit hash (XXH3, whose output is fixed by its specification, so stored hashes stay
//! valid across versions); a query hashes its conditions the same way. Two different
//! terms share a hash with a chance of about 2^-64 per pair, which the store accepts.

use std::cell::RefCell;

use collector_decode::model::{KeyValue, Value};
use xxhash_rust::xxh3::xxh3_64;

/// Attribute values longer than this (in bytes, as text) are not indexed: such values
/// (stack traces, bodies) are not what one searches by equality.
pub const MAX_INDEXED_VALUE: usize = 256;

/// What a term is about; the first byte hashed, so that equal texts of different kinds
/// differ.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Kind {
    Service = b's',
    Name = b'n',
    Error = b'e',
    Attribute = b'a',
    Trace = b't',
}

thread_local! {
    /// The bytes of the term being hashed: XXH3 in one call over a buffer is several
    /// times faster than its streaming state for inputs this short.
    static TERM: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// XXH3-64 of the kind and each part with its length before it.
fn hash(kind: Kind, parts: &[&[u8]]) -> u64 {
    TERM.with_borrow_mut(|term| {
        term.clear();
        term.push(kind as u8);
        for part in parts {
            term.extend_from_slice(&(part.len() as u64).to_le_bytes());
            term.extend_from_slice(part);
        }
        xxh3_64(term)
    })
}

/// The term of a service name.
pub fn service(name: &str) -> u64 {
    hash(Kind::Service, &[name.as_bytes()])
}

/// The term of a span name (the operation).
pub fn name(name: &str) -> u64 {
    hash(Kind::Name, &[name.as_bytes()])
}

/// The term every span with status code ERROR carries.
pub fn error() -> u64 {
    hash(Kind::Error, &[])
}

/// The term of a trace ID (log records are found by it).
pub fn trace(id: &[u8; 16]) -> u64 {
    hash(Kind::Trace, &[id])
}

/// The term of an attribute `key=value`, the value as text (integers in decimal,
/// booleans as `true`/`false`, doubles as Rust prints them).
pub fn attribute(key: &str, value: &str) -> u64 {
    hash(Kind::Attribute, &[key.as_bytes(), value.as_bytes()])
}

/// Appends the terms of scalar attributes (strings, integers, booleans, doubles; arrays,
/// maps, bytes and values over [`MAX_INDEXED_VALUE`] bytes are not indexed).
pub fn of_attributes(attributes: &[KeyValue<'_>], out: &mut Vec<u64>) {
    let mut text = String::new();
    for kv in attributes {
        let Some(value) = kv.value.as_ref().and_then(|v| v.value.as_ref()) else {
            continue;
        };
        text.clear();
        let value: &str = match value {
            Value::String(s) => s,
            Value::Bool(b) => {
                if *b {
                    "true"
                } else {
                    "false"
                }
            }
            Value::Int(i) => {
                use std::fmt::Write as _;
                let _ = write!(text, "{i}");
                &text
            }
            Value::Double(d) => {
                use std::fmt::Write as _;
                let _ = write!(text, "{d}");
                &text
            }
            Value::Array(_) | Value::Kvlist(_) | Value::Bytes(_) => continue,
        };
        if value.len() <= MAX_INDEXED_VALUE {
            out.push(attribute(&kv.key, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use collector_decode::model::AnyValue;

    fn kv(key: &'static str, value: Value<'static>) -> KeyValue<'static> {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
        }
    }

    #[test]
    fn scalar_values_are_terms_as_text() {
        let mut terms = Vec::new();
        of_attributes(
            &[
                kv("http.response.status_code", Value::Int(500)),
                kv("cached", Value::Bool(false)),
                kv("ratio", Value::Double(0.5)),
                kv("url", Value::String("https://a/".into())),
                kv("list", Value::Array(vec![])),
                kv(
                    "long",
                    Value::String("x".repeat(MAX_INDEXED_VALUE + 1).into()),
                ),
            ],
            &mut terms,
        );
        assert_eq!(
            terms,
            [
                attribute("http.response.status_code", "500"),
                attribute("cached", "false"),
                attribute("ratio", "0.5"),
                attribute("url", "https://a/"),
            ]
        );
    }

    /// `error()` and `attribute("a", "b")` as the first version of the store wrote them.
    const ERROR_TERM: u64 = 16566260736572803704;
    const ATTRIBUTE_A_B: u64 = 15858498179945070049;

    #[test]
    fn kinds_and_boundaries_do_not_collide() {
        assert_ne!(service("a"), name("a"));
        assert_ne!(attribute("a", "bc"), attribute("ab", "c"));
        // Fixed by the XXH3 specification: a change here would orphan stored indexes.
        assert_eq!(error(), ERROR_TERM);
        assert_eq!(attribute("a", "b"), ATTRIBUTE_A_B);
    }
}
