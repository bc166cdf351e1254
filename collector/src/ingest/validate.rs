//! The rules a span must pass to be stored. Pure: the clock is an argument.

use std::fmt;

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::Span;

/// 2000-01-01T00:00:00Z in Unix nanoseconds: earlier start times are refused as
/// implausible (an unset clock, seconds or milliseconds sent as nanoseconds).
pub const EARLIEST_START_UNIX_NANOS: u64 = 946_684_800_000_000_000;

/// How far past the collector's clock a span may start or end: one day, for skewed
/// client clocks.
pub const MAX_FUTURE_NANOS: u64 = 86_400_000_000_000;

/// The highest valid `Span.kind` (`SPAN_KIND_CONSUMER`).
const MAX_SPAN_KIND: i32 = 5;

/// The highest valid `Status.code` (`STATUS_CODE_ERROR`).
const MAX_STATUS_CODE: i32 = 2;

/// Why a span is rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// `traceId` is not 16 bytes or is all zero; holds its length.
    TraceId(usize),
    /// `spanId` is not 8 bytes or is all zero; holds its length.
    SpanId(usize),
    /// `parentSpanId` is neither empty nor 8 bytes; holds its length.
    ParentSpanId(usize),
    /// `name` is empty.
    EmptyName,
    /// `kind` is outside 0..=5.
    Kind(i32),
    /// `status.code` is outside 0..=2.
    StatusCode(i32),
    /// `startTimeUnixNano` is before 2000-01-01.
    StartTooEarly(u64),
    /// The start or end time is more than a day past the collector's clock.
    InFuture(u64),
    /// `endTimeUnixNano` is before `startTimeUnixNano`.
    EndBeforeStart {
        /// The start time.
        start: u64,
        /// The end time.
        end: u64,
    },
    /// An attribute value is larger than the limit.
    AttributeTooLarge {
        /// Where the attribute is: "span", "event", "link", "resource" or "scope".
        place: &'static str,
        /// The attribute's key.
        key: String,
        /// The value's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::TraceId(len) => write!(
                f,
                "traceId must be 16 bytes (32 hex digits) and not all zero; got {len} bytes{}",
                if *len == 16 { ", all zero" } else { "" }
            ),
            Problem::SpanId(len) => write!(
                f,
                "spanId must be 8 bytes (16 hex digits) and not all zero; got {len} bytes{}",
                if *len == 8 { ", all zero" } else { "" }
            ),
            Problem::ParentSpanId(len) => write!(
                f,
                "parentSpanId must be empty or 8 bytes (16 hex digits); got {len} bytes"
            ),
            Problem::EmptyName => f.write_str("name is empty"),
            Problem::Kind(kind) => write!(f, "kind {kind} is not a SpanKind (0 to 5)"),
            Problem::StatusCode(code) => {
                write!(f, "status.code {code} is not a StatusCode (0 to 2)")
            }
            Problem::StartTooEarly(start) => write!(
                f,
                "startTimeUnixNano {start} is before 2000-01-01 (times are Unix nanoseconds)"
            ),
            Problem::InFuture(time) => write!(
                f,
                "time {time} is more than a day past the collector's clock (times are Unix nanoseconds)"
            ),
            Problem::EndBeforeStart { start, end } => write!(
                f,
                "endTimeUnixNano {end} is before startTimeUnixNano {start}"
            ),
            Problem::AttributeTooLarge {
                place,
                key,
                size,
                limit,
            } => write!(
                f,
                "{place} attribute {key:?} value is {size} bytes; the limit is {limit} (--max-attribute-value)"
            ),
        }
    }
}

/// Checks one span against every rule except its resource's and scope's attributes
/// (see [`check_attributes`]); `now_unix_nanos` is the collector's clock.
pub fn check_span(
    span: &Span,
    max_attribute_value: usize,
    now_unix_nanos: u64,
) -> Result<(), Problem> {
    if span.trace_id.len() != 16 || span.trace_id.iter().all(|&b| b == 0) {
        return Err(Problem::TraceId(span.trace_id.len()));
    }
    if span.span_id.len() != 8 || span.span_id.iter().all(|&b| b == 0) {
        return Err(Problem::SpanId(span.span_id.len()));
    }
    if !span.parent_span_id.is_empty() && span.parent_span_id.len() != 8 {
        return Err(Problem::ParentSpanId(span.parent_span_id.len()));
    }
    if span.name.is_empty() {
        return Err(Problem::EmptyName);
    }
    if !(0..=MAX_SPAN_KIND).contains(&span.kind) {
        return Err(Problem::Kind(span.kind));
    }
    let status_code = span.status.as_ref().map_or(0, |s| s.code);
    if !(0..=MAX_STATUS_CODE).contains(&status_code) {
        return Err(Problem::StatusCode(status_code));
    }
    let (start, end) = (span.start_time_unix_nano, span.end_time_unix_nano);
    if start < EARLIEST_START_UNIX_NANOS {
        return Err(Problem::StartTooEarly(start));
    }
    let latest = now_unix_nanos.saturating_add(MAX_FUTURE_NANOS);
    if start > latest {
        return Err(Problem::InFuture(start));
    }
    if end < start {
        return Err(Problem::EndBeforeStart { start, end });
    }
    if end > latest {
        return Err(Problem::InFuture(end));
    }
    check_attributes(&span.attributes, "span", max_attribute_value)?;
    for event in &span.events {
        check_attributes(&event.attributes, "event", max_attribute_value)?;
    }
    for link in &span.links {
        check_attributes(&link.attributes, "link", max_attribute_value)?;
    }
    Ok(())
}

/// Checks that no value in `attributes` is larger than `limit` bytes; `place` names
/// their owner in the problem.
pub fn check_attributes(
    attributes: &[KeyValue],
    place: &'static str,
    limit: usize,
) -> Result<(), Problem> {
    for attribute in attributes {
        let size = attribute.value.as_ref().map_or(0, value_size);
        if size > limit {
            return Err(Problem::AttributeTooLarge {
                place,
                key: attribute.key.clone(),
                size,
                limit,
            });
        }
    }
    Ok(())
}

/// The size of a value: the bytes of a string or byte string, 8 for a number, 1 for a
/// boolean, and for an array or map the sum of its parts (with the map's keys).
fn value_size(value: &AnyValue) -> usize {
    match &value.value {
        None => 0,
        Some(Value::StringValue(s)) => s.len(),
        Some(Value::BytesValue(b)) => b.len(),
        Some(Value::BoolValue(_)) => 1,
        Some(Value::IntValue(_) | Value::DoubleValue(_)) => 8,
        Some(Value::ArrayValue(array)) => array.values.iter().map(value_size).sum(),
        Some(Value::KvlistValue(list)) => list
            .values
            .iter()
            .map(|kv| kv.key.len() + kv.value.as_ref().map_or(0, value_size))
            .sum(),
        Some(Value::StringValueStrindex(_)) => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
    use opentelemetry_proto::tonic::trace::v1::{Status, span::Event, span::Link};

    const NOW: u64 = 1_750_000_000_000_000_000;
    const LIMIT: usize = 100;

    fn good() -> Span {
        Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            parent_span_id: vec![3; 8],
            name: "GET /api".into(),
            kind: 3,
            start_time_unix_nano: NOW - 1_000_000,
            end_time_unix_nano: NOW,
            status: Some(Status {
                code: 2,
                message: "boom".into(),
            }),
            attributes: vec![string_attr("url.full", 10)],
            ..Span::default()
        }
    }

    fn string_attr(key: &str, len: usize) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue("x".repeat(len))),
            }),
            ..KeyValue::default()
        }
    }

    fn check(span: &Span) -> Result<(), Problem> {
        check_span(span, LIMIT, NOW)
    }

    #[test]
    fn a_good_span_passes() {
        assert_eq!(check(&good()), Ok(()));
        let root = Span {
            parent_span_id: vec![],
            status: None,
            ..good()
        };
        assert_eq!(check(&root), Ok(()));
    }

    #[test]
    fn trace_id_must_be_16_nonzero_bytes() {
        for id in [vec![], vec![1; 15], vec![1; 17], vec![0; 16]] {
            let span = Span {
                trace_id: id.clone(),
                ..good()
            };
            assert_eq!(check(&span), Err(Problem::TraceId(id.len())));
        }
        assert!(Problem::TraceId(16).to_string().contains("all zero"));
    }

    #[test]
    fn span_id_must_be_8_nonzero_bytes() {
        for id in [vec![], vec![1; 7], vec![0; 8]] {
            let span = Span {
                span_id: id.clone(),
                ..good()
            };
            assert_eq!(check(&span), Err(Problem::SpanId(id.len())));
        }
    }

    #[test]
    fn parent_span_id_is_empty_or_8_bytes() {
        let span = Span {
            parent_span_id: vec![1; 4],
            ..good()
        };
        assert_eq!(check(&span), Err(Problem::ParentSpanId(4)));
    }

    #[test]
    fn name_kind_and_status_code() {
        let span = Span {
            name: String::new(),
            ..good()
        };
        assert_eq!(check(&span), Err(Problem::EmptyName));
        for kind in [-1, 6] {
            let span = Span { kind, ..good() };
            assert_eq!(check(&span), Err(Problem::Kind(kind)));
        }
        let span = Span { kind: 5, ..good() };
        assert_eq!(check(&span), Ok(()));
        let span = Span {
            status: Some(Status {
                code: 3,
                message: String::new(),
            }),
            ..good()
        };
        assert_eq!(check(&span), Err(Problem::StatusCode(3)));
    }

    #[test]
    fn times_must_be_plausible_and_ordered() {
        let ms = Span {
            start_time_unix_nano: 1_700_000_000_000,
            end_time_unix_nano: 1_700_000_000_001,
            ..good()
        };
        assert_eq!(check(&ms), Err(Problem::StartTooEarly(1_700_000_000_000)));
        let backwards = Span {
            end_time_unix_nano: NOW - 2_000_000,
            ..good()
        };
        assert!(matches!(
            check(&backwards),
            Err(Problem::EndBeforeStart { .. })
        ));
        let unended = Span {
            end_time_unix_nano: 0,
            ..good()
        };
        assert!(matches!(
            check(&unended),
            Err(Problem::EndBeforeStart { .. })
        ));
        let tomorrow = NOW + MAX_FUTURE_NANOS;
        let edge = Span {
            start_time_unix_nano: tomorrow,
            end_time_unix_nano: tomorrow,
            ..good()
        };
        assert_eq!(check(&edge), Ok(()));
        let future = Span {
            start_time_unix_nano: tomorrow + 1,
            end_time_unix_nano: tomorrow + 1,
            ..good()
        };
        assert_eq!(check(&future), Err(Problem::InFuture(tomorrow + 1)));
        let long_end = Span {
            end_time_unix_nano: u64::MAX,
            ..good()
        };
        assert_eq!(check(&long_end), Err(Problem::InFuture(u64::MAX)));
    }

    #[test]
    fn attribute_values_are_limited_everywhere() {
        let at_limit = Span {
            attributes: vec![string_attr("a", LIMIT)],
            ..good()
        };
        assert_eq!(check(&at_limit), Ok(()));
        let too_big = Span {
            attributes: vec![string_attr("a", LIMIT + 1)],
            ..good()
        };
        assert!(matches!(
            check(&too_big),
            Err(Problem::AttributeTooLarge {
                place: "span",
                size: 101,
                ..
            })
        ));
        let event = Span {
            events: vec![Event {
                attributes: vec![string_attr("exception.stacktrace", LIMIT + 1)],
                ..Event::default()
            }],
            ..good()
        };
        assert!(matches!(
            check(&event),
            Err(Problem::AttributeTooLarge { place: "event", .. })
        ));
        let link = Span {
            links: vec![Link {
                attributes: vec![string_attr("l", LIMIT + 1)],
                ..Link::default()
            }],
            ..good()
        };
        assert!(matches!(
            check(&link),
            Err(Problem::AttributeTooLarge { place: "link", .. })
        ));
    }

    #[test]
    fn arrays_and_maps_count_their_parts() {
        let part = AnyValue {
            value: Some(Value::StringValue("x".repeat(40))),
        };
        let array = KeyValue {
            key: "list".into(),
            value: Some(AnyValue {
                value: Some(Value::ArrayValue(ArrayValue {
                    values: vec![part.clone(), part.clone(), part.clone()],
                })),
            }),
            ..KeyValue::default()
        };
        assert!(matches!(
            check_attributes(&[array], "resource", LIMIT),
            Err(Problem::AttributeTooLarge { size: 120, .. })
        ));
        let map = KeyValue {
            key: "map".into(),
            value: Some(AnyValue {
                value: Some(Value::KvlistValue(KeyValueList {
                    values: vec![KeyValue {
                        key: "k".repeat(10),
                        value: Some(part),
                        ..KeyValue::default()
                    }],
                })),
            }),
            ..KeyValue::default()
        };
        assert_eq!(check_attributes(&[map], "scope", LIMIT), Ok(()));
    }
}
