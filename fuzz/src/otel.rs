//! `wasi:otel` attribute values (JSON text) into the component's reader
//! (`component/src/otel/value.rs`), checked against serde_json: a value read must be what
//! serde_json reads (strings, booleans, integers, doubles, typed arrays item by item; maps
//! and mixed arrays as their own text), valid JSON may be refused only for the reasons the
//! reader documents (null, nesting, numbers it cannot keep), and a body is never lost.

use serde_json::Value as Json;
use wasm_otlp_component::model::{Decimal, Value};
use wasm_otlp_component::otel::value::{MAX_DEPTH, read, read_body};

/// JSON's white space, which the reader skips around a value.
const WHITE_SPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// Runs one input (as text, invalid UTF-8 replaced).
pub fn otel_value(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let value = read(&text);
    let body = read_body(&text);
    // serde_json refuses a lone surrogate escape, which the reader reads as U+FFFD: with
    // `\u` escapes, only the absence of a panic is checked (unit tests cover escapes).
    if text.contains("\\u") {
        return;
    }
    let oracle = serde_json::from_str::<Json>(&text);
    match (&value, &oracle) {
        (Some(value), Ok(json)) => assert_agrees(value, json, &text),
        // serde_json refuses a number beyond a double anywhere; the reader keeps a map or
        // nested array holding one as text.
        (Some(Value::String(kept)), Err(err)) if err.to_string().contains("out of range") => {
            assert_eq!(kept, text.trim_matches(WHITE_SPACE));
        }
        (Some(value), Err(err)) => panic!("{text:?} read as {value:?}, but it is not JSON: {err}"),
        (None, Ok(json)) => assert!(may_be_refused(json, 0), "{text:?} is JSON, refused"),
        (None, Err(_)) => {}
    }
    match &oracle {
        Ok(Json::String(string)) => assert_eq!(&body, string, "a string body is its text"),
        _ => assert_eq!(
            body,
            text.trim_matches(WHITE_SPACE),
            "any other body is its text"
        ),
    }
}

/// Whether a value read from `text` is what serde_json read.
#[track_caller]
fn assert_agrees(value: &Value, json: &Json, text: &str) {
    let items = || json.as_array().expect("an array").iter();
    let agrees = match (value, json) {
        (Value::String(s), Json::String(t)) => s == t,
        (Value::String(s), Json::Object(_) | Json::Array(_)) => {
            s == text.trim_matches(WHITE_SPACE) && !is_typed_array(json)
        }
        (Value::Bool(a), Json::Bool(b)) => a == b,
        (Value::Int(i), Json::Number(n)) => same_int(*i, n),
        (Value::Double(d), Json::Number(n)) => same_double(d, n),
        (Value::StringArray(xs), Json::Array(_)) => items()
            .cloned()
            .eq(xs.iter().map(|x| Json::String(x.clone()))),
        (Value::BoolArray(xs), Json::Array(_)) => {
            items().cloned().eq(xs.iter().map(|x| Json::Bool(*x)))
        }
        (Value::IntArray(xs), Json::Array(_)) => {
            items().len() == xs.len()
                && items()
                    .zip(xs)
                    .all(|(j, x)| j.as_number().is_some_and(|n| same_int(*x, n)))
        }
        (Value::DoubleArray(xs), Json::Array(_)) => {
            items().len() == xs.len()
                && items()
                    .zip(xs)
                    .all(|(j, x)| j.as_number().is_some_and(|n| same_double(x, n)))
        }
        _ => false,
    };
    assert!(
        agrees,
        "{text:?} read as {value:?}, serde_json reads {json:?}"
    );
}

/// serde_json reads `-0` as a double; the reader as the integer 0.
fn same_int(i: i64, n: &serde_json::Number) -> bool {
    n.as_i64() == Some(i) || (i == 0 && n.as_f64() == Some(0.0))
}

/// The kept text reads as serde_json's double (within a unit in the last place: serde_json's
/// default float parser may round the last bit differently).
fn same_double(d: &Decimal, n: &serde_json::Number) -> bool {
    let (Ok(x), Some(y)) = (d.as_str().parse::<f64>(), n.as_f64()) else {
        return false;
    };
    x == y || (x.to_bits().abs_diff(y.to_bits()) <= 1 && x.signum() == y.signum())
}

/// Arrays of scalars of one kind (integers and other numbers together), which the reader
/// must type.
fn is_typed_array(json: &Json) -> bool {
    let Some(items) = json.as_array() else {
        return false;
    };
    let kind = |j: &Json| match j {
        Json::String(_) => Some(0),
        Json::Bool(_) => Some(1),
        Json::Number(_) => Some(2),
        _ => None,
    };
    let kinds: Vec<_> = items.iter().map(kind).collect();
    kinds.iter().all(Option::is_some) && kinds.windows(2).all(|w| w[0] == w[1])
}

/// What the reader may refuse though it is JSON: null, nesting deeper than it reads, and
/// numbers it cannot keep (beyond its length bound, or from 1e308), alone or in an array.
fn may_be_refused(json: &Json, depth: usize) -> bool {
    match json {
        Json::Null | Json::Number(_) => true,
        Json::String(_) | Json::Bool(_) => false,
        Json::Array(items) if depth == 0 && items.iter().any(Json::is_number) => true,
        Json::Array(items) => {
            depth >= MAX_DEPTH || items.iter().any(|j| nested_refusal(j, depth + 1))
        }
        Json::Object(map) => {
            depth >= MAX_DEPTH || map.values().any(|j| nested_refusal(j, depth + 1))
        }
    }
}

/// Inside a map or array, only nesting is refused.
fn nested_refusal(json: &Json, depth: usize) -> bool {
    match json {
        Json::Array(items) => {
            depth >= MAX_DEPTH || items.iter().any(|j| nested_refusal(j, depth + 1))
        }
        Json::Object(map) => {
            depth >= MAX_DEPTH || map.values().any(|j| nested_refusal(j, depth + 1))
        }
        _ => false,
    }
}
