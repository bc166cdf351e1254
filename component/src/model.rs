//! The span model: what a span is made of, independent of how it arrived
//! (direct API or recorded ops) and of how it is encoded.

use alloc::{string::String, vec::Vec};

/// A 16-byte trace ID, big-endian halves (`hi` = bytes 0-7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TraceId {
    /// Bytes 0-7.
    pub hi: u64,
    /// Bytes 8-15.
    pub lo: u64,
}

impl TraceId {
    /// All-zero trace IDs are invalid in W3C trace context and OTLP.
    pub fn is_valid(self) -> bool {
        self.hi != 0 || self.lo != 0
    }
}

/// W3C trace flag bit: the trace is sampled.
pub const SAMPLED: u8 = 0x01;

/// A span's identity across processes (W3C trace context).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanContext {
    /// The trace this span belongs to.
    pub trace_id: TraceId,
    /// The span's own ID (non-zero).
    pub span_id: u64,
    /// W3C trace flags (bit 0: sampled).
    pub trace_flags: u8,
    /// Validated `tracestate`, empty when absent.
    pub trace_state: String,
    /// Came from another process.
    pub is_remote: bool,
}

impl SpanContext {
    /// Valid when both IDs are non-zero.
    pub fn is_valid(&self) -> bool {
        self.trace_id.is_valid() && self.span_id != 0
    }

    /// Whether the `sampled` flag is set.
    pub fn is_sampled(&self) -> bool {
        self.trace_flags & SAMPLED != 0
    }
}

/// OTLP span kinds; the discriminant is the OTLP enum integer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpanKind {
    /// `SPAN_KIND_INTERNAL`
    #[default]
    Internal = 1,
    /// `SPAN_KIND_SERVER`
    Server = 2,
    /// `SPAN_KIND_CLIENT`
    Client = 3,
    /// `SPAN_KIND_PRODUCER`
    Producer = 4,
    /// `SPAN_KIND_CONSUMER`
    Consumer = 5,
}

/// An attribute value (OTLP `AnyValue`).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `stringValue`
    String(String),
    /// `boolValue`
    Bool(bool),
    /// `intValue`
    Int(i64),
    /// `doubleValue` (finite only: see [`Value::is_encodable`])
    Double(Decimal),
    /// `arrayValue` of strings
    StringArray(Vec<String>),
    /// `arrayValue` of booleans
    BoolArray(Vec<bool>),
    /// `arrayValue` of integers
    IntArray(Vec<i64>),
    /// `arrayValue` of doubles
    DoubleArray(Vec<Decimal>),
    // The values below come only from `wasi:otel`'s JSON values, so world `browser`
    // (without the feature) has none: its encoder and limits carry no code for them.
    /// `arrayValue` of values of mixed kinds, or nested
    #[cfg(feature = "direct-api")]
    Array(Vec<Value>),
    /// `kvlistValue`: a map's entries, keys unique, in the order given
    #[cfg(feature = "direct-api")]
    Map(Vec<KeyValue>),
    /// `bytesValue`
    #[cfg(feature = "direct-api")]
    Bytes(Vec<u8>),
    /// An `AnyValue` with no value: a JSON `null` inside an array or a map
    #[cfg(feature = "direct-api")]
    Empty,
}

/// A double as the text of a JSON number, which is how OTLP/JSON carries it; empty when
/// the double is not finite (NaN, infinities) or the text is not a JSON number.
///
/// Doubles are kept as text because a browser hands them over already formatted
/// (JavaScript's `String(x)`, the shortest text that reads back as the same double): the
/// browser build then needs no float formatter (ryu, about 1.5 KB gzip of the download).
/// Only the direct API, given an `f64`, formats one ([`Decimal::from_f64`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decimal(String);

impl Decimal {
    /// `x` in its shortest round-trip form (empty if `x` is not finite).
    pub fn from_f64(x: f64) -> Self {
        Decimal(if x.is_finite() {
            ryu::Buffer::new().format_finite(x).into()
        } else {
            String::new()
        })
    }

    /// `text` if it is a JSON number (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`), else
    /// empty: `NaN`, `Infinity` and anything else are not.
    pub fn parse(text: &str) -> Self {
        Decimal(if is_json_number(text.as_bytes()) {
            text.into()
        } else {
            String::new()
        })
    }

    /// Whether this holds a finite double.
    pub fn is_finite(&self) -> bool {
        !self.0.is_empty()
    }

    /// The JSON number text (empty if not finite).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `text` follows JSON's number grammar.
fn is_json_number(text: &[u8]) -> bool {
    /// Skips ASCII digits; returns how many. (By pattern, not by slicing: no bounds
    /// checks, whose panic messages would ship in the download.)
    fn digits(text: &mut &[u8]) -> usize {
        let mut count = 0;
        while let [b'0'..=b'9', rest @ ..] = *text {
            *text = rest;
            count += 1;
        }
        count
    }
    let mut rest = text.strip_prefix(b"-").unwrap_or(text);
    let first = rest.first().copied();
    let integer = digits(&mut rest);
    if integer == 0 || (first == Some(b'0') && integer > 1) {
        return false;
    }
    if let Some(fraction) = rest.strip_prefix(b".") {
        rest = fraction;
        if digits(&mut rest) == 0 {
            return false;
        }
    }
    if let [b'e' | b'E', exponent @ ..] = rest {
        rest = exponent;
        if let [b'+' | b'-', unsigned @ ..] = rest {
            rest = unsigned;
        }
        if digits(&mut rest) == 0 {
            return false;
        }
    }
    rest.is_empty()
}

/// The empty string (a log record's body when none is given).
impl Default for Value {
    fn default() -> Self {
        Value::String(String::new())
    }
}

impl Value {
    /// NaN and infinities have no OTLP/JSON form that common receivers accept
    /// (`JSON.stringify` turns them into `null`); values holding them are dropped.
    pub fn is_encodable(&self) -> bool {
        match self {
            Value::Double(d) => d.is_finite(),
            Value::DoubleArray(ds) => ds.iter().all(Decimal::is_finite),
            #[cfg(feature = "direct-api")]
            Value::Array(items) => items.iter().all(Value::is_encodable),
            #[cfg(feature = "direct-api")]
            Value::Map(entries) => entries.iter().all(|kv| kv.value.is_encodable()),
            _ => true,
        }
    }
}

/// One attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyValue {
    /// Attribute key (non-empty).
    pub key: String,
    /// Attribute value.
    pub value: Value,
}

/// Span status; the discriminant is OTLP's `StatusCode`.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Status {
    /// `STATUS_CODE_UNSET`
    #[default]
    Unset,
    /// `STATUS_CODE_OK`
    Ok,
    /// `STATUS_CODE_ERROR` with its description.
    Error(String),
}

/// A list of attributes with the count of those dropped by limits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attributes {
    /// The kept attributes, unique by key, in insertion order.
    pub items: Vec<KeyValue>,
    /// How many were dropped (limit reached, invalid key or value).
    pub dropped: u32,
}

/// A timestamped event on a span.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Event name.
    pub name: String,
    /// Unix nanoseconds.
    pub time: u64,
    /// Event attributes.
    pub attributes: Attributes,
}

/// A link from a span to another span's context.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The linked span.
    pub context: SpanContext,
    /// Link attributes.
    pub attributes: Attributes,
}

/// An instrumentation scope (OTLP `InstrumentationScope`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scope {
    /// Library name.
    pub name: String,
    /// Library version.
    pub version: String,
    /// Scope attributes.
    pub attributes: Attributes,
}

/// A span being recorded or finished: everything OTLP carries for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// The span's own context.
    pub context: SpanContext,
    /// Parent span ID, 0 for a root span.
    pub parent_span_id: u64,
    /// The parent came from another process (OTLP flags bit 9).
    pub parent_is_remote: bool,
    /// Span name.
    pub name: String,
    /// Span kind.
    pub kind: SpanKind,
    /// Index of the span's instrumentation scope.
    pub scope: u32,
    /// Unix nanoseconds.
    pub start_time: u64,
    /// Unix nanoseconds; 0 while open.
    pub end_time: u64,
    /// Span attributes.
    pub attributes: Attributes,
    /// Events, oldest first.
    pub events: Vec<Event>,
    /// Events dropped by the limit.
    pub dropped_events: u32,
    /// Links.
    pub links: Vec<Link>,
    /// Links dropped by the limit.
    pub dropped_links: u32,
    /// Status.
    pub status: Status,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn json_numbers_are_kept_and_anything_else_is_not_finite() {
        for text in [
            "0",
            "-0",
            "1",
            "-1.5",
            "0.25",
            "1e21",
            "1e+21",
            "1.5e-7",
            "12E3",
            "123456789.125",
        ] {
            assert_eq!(Decimal::parse(text).as_str(), text);
        }
        for text in [
            "",
            "-",
            "NaN",
            "Infinity",
            "-Infinity",
            "inf",
            "01",
            "+1",
            "1.",
            ".5",
            "1e",
            "1e+",
            "--1",
            "1 ",
            " 1",
            "0x10",
            "1_000",
            "1.5.5",
            "1e5e5",
        ] {
            assert!(!Decimal::parse(text).is_finite(), "{text:?}");
        }
        assert!(!Decimal::from_f64(f64::NAN).is_finite());
        assert!(!Decimal::from_f64(f64::NEG_INFINITY).is_finite());
        assert_eq!(Decimal::from_f64(0.1).as_str(), "0.1");
    }

    proptest! {
        #[test]
        fn every_finite_double_formats_as_a_json_number_that_reads_back_the_same(
            x in any::<f64>().prop_filter("finite", |x| x.is_finite())
        ) {
            let decimal = Decimal::from_f64(x);
            prop_assert_eq!(Decimal::parse(decimal.as_str()), decimal.clone());
            let back: f64 = decimal.as_str().parse().unwrap();
            prop_assert_eq!(back.to_bits(), x.to_bits());
            // Rust's own formatting of the same double is a JSON number too.
            let debug = format!("{:?}", x);
            prop_assert!(Decimal::parse(&debug).is_finite(), "{}", debug);
        }
    }
}
