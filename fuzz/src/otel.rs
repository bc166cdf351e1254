//! `wasi:otel` attribute values (JSON text) into the component's reader
//! (`component/src/otel/value.rs`), checked against serde_json: a value read must be what
//! serde_json reads (strings, bytes, booleans, integers, doubles, typed and mixed arrays,
//! maps, nulls inside them, at any depth), valid JSON may be refused only for the reasons
//! the reader documents (null, nesting, numbers it cannot keep), and a body is the value
//! read or else the text. Every value and body read is then exported by the component's
//! tracer, and the payloads must decode in the collector ([`crate::host::check_payload`]): the reader never makes a
//! value, nested as deep as it may be, that a receiver refuses.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value as Json;
use wasm_otlp_component::ids::IdGenerator;
use wasm_otlp_component::model::{Decimal, KeyValue, SpanKind, Value};
use wasm_otlp_component::otel::value::{BYTES_PREFIX, MAX_DEPTH, read, read_body};
use wasm_otlp_component::tracer::{LogInput, StartOptions, Tracer};

use crate::host::FuzzHost;

/// JSON's white space, which the reader skips around a value.
const WHITE_SPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// Runs one input (as text, invalid UTF-8 replaced).
pub fn otel_value(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let value = read(&text);
    let body = read_body(&text);
    match &value {
        Some(value) => assert_eq!(&body, value, "a body is the value read"),
        None => assert_eq!(
            body,
            Value::String(text.trim_matches(WHITE_SPACE).into()),
            "else its text"
        ),
    }
    export(value.clone(), body);
    // serde_json refuses a lone surrogate escape, which the reader reads as U+FFFD: with
    // `\u` escapes, only the absence of a panic is checked (unit tests cover escapes).
    if text.contains("\\u") {
        return;
    }
    let oracle = serde_json::from_str::<Json>(&text);
    match (&value, &oracle) {
        (Some(value), Ok(json)) => assert!(
            agrees(value, json),
            "{text:?} read as {value:?}, serde_json reads {json:?}"
        ),
        (Some(value), Err(err)) => panic!("{text:?} read as {value:?}, but it is not JSON: {err}"),
        (None, Ok(json)) => assert!(may_be_refused(json), "{text:?} is JSON, refused"),
        (None, Err(_)) => {}
    }
}

/// Exports `value` (if any) as a span's attribute and `body` as a log record's; the host
/// checks the payloads.
pub fn export(value: Option<Value>, body: Value) {
    let mut tracer = Tracer::new(IdGenerator::from_seed_bytes(&[7; 32]));
    let mut host = FuzzHost {
        now: 1_700_000_000_000_000_000,
        busy: false,
    };
    let options = StartOptions {
        kind: SpanKind::Internal,
        attributes: value
            .into_iter()
            .map(|value| KeyValue {
                key: "value".into(),
                value,
            })
            .collect(),
        ..StartOptions::default()
    };
    let span = tracer
        .start_span(&mut host, "span".into(), options)
        .expect("started");
    tracer.end_span(&mut host, span, None).expect("ended");
    let log = LogInput {
        body,
        ..LogInput::default()
    };
    tracer.emit_log(&mut host, log).expect("emitted");
    tracer.force_flush(&mut host);
    let stats = tracer.stats();
    assert_eq!(
        (stats.spans_exported, stats.logs_exported),
        (1, 1),
        "the span and the log record were exported"
    );
}

/// Whether a value read is what serde_json read.
fn agrees(value: &Value, json: &Json) -> bool {
    let items = || json.as_array().into_iter().flatten();
    let same_len = |len: usize| json.as_array().is_some_and(|items| items.len() == len);
    match (value, json) {
        (Value::String(s), Json::String(t)) => s == t && bytes_of(t).is_none(),
        (Value::Bytes(b), Json::String(t)) => bytes_of(t).as_ref() == Some(b),
        (Value::Bool(a), Json::Bool(b)) => a == b,
        (Value::Int(i), Json::Number(n)) => same_int(*i, n),
        (Value::Double(d), Json::Number(n)) => same_double(d, n) && n.as_i64().is_none(),
        (Value::StringArray(xs), Json::Array(_)) => {
            same_len(xs.len())
                && items()
                    .zip(xs)
                    .all(|(j, x)| agrees(&Value::String(x.clone()), j))
        }
        (Value::BoolArray(xs), Json::Array(_)) => {
            items().cloned().eq(xs.iter().map(|x| Json::Bool(*x)))
        }
        (Value::IntArray(xs), Json::Array(_)) => {
            same_len(xs.len())
                && items()
                    .zip(xs)
                    .all(|(j, x)| j.as_number().is_some_and(|n| same_int(*x, n)))
        }
        (Value::DoubleArray(xs), Json::Array(_)) => {
            same_len(xs.len())
                && items()
                    .zip(xs)
                    .all(|(j, x)| j.as_number().is_some_and(|n| same_double(x, n)))
        }
        (Value::Array(xs), Json::Array(_)) => {
            same_len(xs.len())
                && !is_typed_array(json)
                && items().zip(xs).all(|(j, x)| agrees(x, j))
        }
        // serde_json keeps a repeated key's last value, as the reader does.
        (Value::Map(entries), Json::Object(map)) => {
            entries.len() == map.len()
                && entries
                    .iter()
                    .all(|kv| map.get(&kv.key).is_some_and(|j| agrees(&kv.value, j)))
        }
        (Value::Empty, Json::Null) => true,
        _ => false,
    }
}

/// The bytes a `data:application/octet-stream;base64,` string holds, if its base64 is valid.
fn bytes_of(string: &str) -> Option<Vec<u8>> {
    STANDARD.decode(string.strip_prefix(BYTES_PREFIX)?).ok()
}

/// serde_json reads `-0` as a double; the reader as the integer 0.
fn same_int(i: i64, n: &serde_json::Number) -> bool {
    n.as_i64() == Some(i) || (i == 0 && n.as_f64() == Some(0.0))
}

/// The kept text reads as serde_json's double (both round correctly: serde_json with
/// `float_roundtrip`, whose default parser was seen 3 units in the last place off).
fn same_double(d: &Decimal, n: &serde_json::Number) -> bool {
    d.as_str().parse::<f64>().ok() == n.as_f64()
}

/// Arrays of scalars of one kind (integers and other numbers together; strings apart from
/// bytes), which the reader must type.
fn is_typed_array(json: &Json) -> bool {
    let Some(items) = json.as_array() else {
        return false;
    };
    let kind = |j: &Json| match j {
        Json::String(s) if bytes_of(s).is_some() => None,
        Json::String(_) => Some(0),
        Json::Bool(_) => Some(1),
        Json::Number(_) => Some(2),
        _ => None,
    };
    let kinds: Vec<_> = items.iter().map(kind).collect();
    kinds.iter().all(Option::is_some) && kinds.windows(2).all(|w| w[0] == w[1])
}

/// What the reader may refuse though it is JSON: null, and, anywhere in a value, nesting
/// deeper than it reads and numbers it may not keep (beyond its length bound, or from 1e308).
fn may_be_refused(json: &Json) -> bool {
    json.is_null() || refused_inside(json, 0)
}

fn refused_inside(json: &Json, depth: usize) -> bool {
    match json {
        Json::Number(_) => true,
        Json::Array(items) => {
            depth >= MAX_DEPTH || items.iter().any(|j| refused_inside(j, depth + 1))
        }
        Json::Object(map) => {
            depth >= MAX_DEPTH || map.values().any(|j| refused_inside(j, depth + 1))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The deepest arrays and maps the reader reads, and a bit of every kind of value,
    /// decode in the collector.
    #[test]
    fn the_collector_decodes_the_deepest_values_read() {
        let arrays = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let maps = format!("{}1{}", r#"{"k":"#.repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        let mixed = format!(
            r#"{{"a":[1,"x",null,true,2.5,"{BYTES_PREFIX}AAEC/w==",{{"b":[]}}],"c":{{}}}}"#
        );
        for json in [arrays, maps, mixed] {
            otel_value(json.as_bytes());
            assert!(read(&json).is_some(), "{json}");
        }
    }
}
