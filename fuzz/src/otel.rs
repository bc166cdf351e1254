//! `wasi:otel` attribute values (JSON text) into the component's reader
//! (`component/src/otel/value.rs`), checked against serde_json: what serde_json reads as a
//! string, a boolean or an `i64` must read as the same value, text that is not JSON must
//! read as no value, and a body is never lost.

use wasm_otlp_component::model::Value;
use wasm_otlp_component::otel::value::{read, read_body};

/// Runs one input (as text, invalid UTF-8 replaced).
pub fn otel_value(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let read = read(&text);
    let body = read_body(&text);
    let oracle = serde_json::from_str::<serde_json::Value>(&text);
    match (&read, &oracle) {
        (Some(Value::String(s)), Ok(serde_json::Value::String(t))) => {
            assert_eq!(s, t, "a JSON string reads as itself");
            assert_eq!(&body, t, "a string body is its text");
        }
        (Some(Value::Bool(b)), Ok(serde_json::Value::Bool(c))) => assert_eq!(b, c),
        // serde_json reads `-0` as a double; the reader as the integer 0.
        (Some(Value::Int(i)), Ok(serde_json::Value::Number(n))) => assert!(
            n.as_i64() == Some(*i) || (*i == 0 && n.as_f64() == Some(0.0)),
            "{text:?}: an integer reads as itself, not {i}"
        ),
        // serde_json reads a lone surrogate escape as an error; the reader as U+FFFD.
        (Some(_), Err(_)) => assert!(text.contains("\\u"), "{text:?} read, but it is not JSON"),
        _ => {}
    }
    if matches!(oracle, Ok(serde_json::Value::Null)) {
        assert_eq!(read, None, "null is no value");
    }
    if let Some(Value::Double(d)) = &read {
        assert!(d.is_finite());
        let x: f64 = d.as_str().parse().expect("a double's text parses");
        assert!(x.is_finite(), "{text:?} overflows");
    }
    if oracle.is_err() && !text.contains("\\u") {
        assert_eq!(read, None);
    }
    assert!(!body.is_empty() || text.trim().is_empty() || text.trim() == "\"\"");
}
