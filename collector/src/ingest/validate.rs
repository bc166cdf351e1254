//! The rules a span or a log record must pass to be stored. Pure: the clock is an
//! argument.

use std::fmt;

use collector_decode::model::{AnyValue, Id, KeyValue, LogRecord, Resource, Scope, Span, Value};

/// 2000-01-01T00:00:00Z in Unix nanoseconds: earlier start times are refused as
/// implausible (an unset clock, seconds or milliseconds sent as nanoseconds).
pub const EARLIEST_START_UNIX_NANOS: u64 = 946_684_800_000_000_000;

/// The highest valid `Span.kind` (`SPAN_KIND_CONSUMER`).
const MAX_SPAN_KIND: i32 = 5;

/// The highest valid `Status.code` (`STATUS_CODE_ERROR`).
const MAX_STATUS_CODE: i32 = 2;

/// The highest valid `LogRecord.severityNumber` (`SEVERITY_NUMBER_FATAL4`).
pub const MAX_SEVERITY_NUMBER: i32 = 24;

/// The configurable rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Bytes of one attribute value (strings and bytes; arrays and maps count the sum of
    /// their parts), and of a log record's body (counted the same way).
    pub max_attribute_value: usize,
    /// Bytes of every other string: span, event and scope names, attribute keys, status
    /// message, trace state, scope version, schema URLs.
    pub max_field: usize,
    /// How far past the collector's clock a span may start or end (skewed client
    /// clocks), in nanoseconds.
    pub max_future_nanos: u64,
    /// Spans that started longer ago than this many nanoseconds are refused (retention
    /// would delete them at once); `None`: no age limit.
    pub max_age_nanos: Option<u64>,
}

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
    /// A time (`field`) is before 2000-01-01.
    TooEarly {
        /// `startTimeUnixNano`, `timeUnixNano` or `observedTimeUnixNano`.
        field: &'static str,
        /// The time.
        time: u64,
    },
    /// The start or end time is further past the collector's clock than allowed.
    InFuture {
        /// The time.
        time: u64,
        /// The allowance, nanoseconds.
        slack: u64,
    },
    /// The span started (the record happened) longer ago than the retention age.
    OlderThanRetention {
        /// `startTimeUnixNano` or the record's time field.
        field: &'static str,
        /// The time.
        time: u64,
        /// The retention age, nanoseconds.
        max_age: u64,
    },
    /// `endTimeUnixNano` is before `startTimeUnixNano`.
    EndBeforeStart {
        /// The start time.
        start: u64,
        /// The end time.
        end: u64,
    },
    /// A log record's `traceId` is neither empty nor 16 bytes, or is all zero; holds
    /// its length.
    OptionalTraceId(usize),
    /// A log record's `spanId` is neither empty nor 8 bytes, or is all zero; holds its
    /// length.
    OptionalSpanId(usize),
    /// A log record has a `spanId` but no `traceId`.
    SpanIdWithoutTraceId,
    /// A log record has neither `timeUnixNano` nor `observedTimeUnixNano`.
    NoTime,
    /// `severityNumber` is outside 0..=24.
    SeverityNumber(i32),
    /// A log record's body is larger than the limit.
    BodyTooLarge {
        /// The body's size in bytes (as an attribute value's).
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// An attribute value is larger than the limit.
    AttributeTooLarge {
        /// Where the attribute is: "span", "event", "link", "resource" or "scope".
        place: &'static str,
        /// The attribute's key (its start, if the key itself is long).
        key: String,
        /// The value's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A string other than an attribute value is longer than the limit.
    FieldTooLong {
        /// Which string: "name", "attribute key", "event name", "status.message", ...
        field: &'static str,
        /// Where it is: "span", "event", "link", "resource" or "scope".
        place: &'static str,
        /// Its length in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
}

impl Problem {
    /// What kind of problem it is, in a word for metrics (`kind`, `in_future`): one of a
    /// fixed set, never the item's own text.
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::TraceId(_) | Problem::OptionalTraceId(_) => "trace_id",
            Problem::SpanId(_) | Problem::OptionalSpanId(_) => "span_id",
            Problem::ParentSpanId(_) => "parent_span_id",
            Problem::EmptyName => "empty_name",
            Problem::Kind(_) => "kind",
            Problem::StatusCode(_) => "status_code",
            Problem::TooEarly { .. } => "too_early",
            Problem::InFuture { .. } => "in_future",
            Problem::OlderThanRetention { .. } => "older_than_retention",
            Problem::EndBeforeStart { .. } => "end_before_start",
            Problem::SpanIdWithoutTraceId => "span_id_without_trace_id",
            Problem::NoTime => "no_time",
            Problem::SeverityNumber(_) => "severity_number",
            Problem::BodyTooLarge { .. } => "body_too_large",
            Problem::AttributeTooLarge { .. } => "attribute_too_large",
            Problem::FieldTooLong { .. } => "field_too_long",
        }
    }
}

/// Shown of a too-long attribute key in a message.
const KEY_SHOWN: usize = 64;

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
            Problem::TooEarly { field, time } => write!(
                f,
                "{field} {time} is before 2000-01-01 (times are Unix nanoseconds)"
            ),
            Problem::InFuture { time, slack } => write!(
                f,
                "time {time} is more than {} s past the collector's clock (--max-future; times are Unix nanoseconds)",
                slack / 1_000_000_000
            ),
            Problem::OlderThanRetention {
                field,
                time,
                max_age,
            } => write!(
                f,
                "{field} {time} is older than the retention age of {} s \
                 (--retention-max-age): it would be deleted at once",
                max_age / 1_000_000_000
            ),
            Problem::OptionalTraceId(len) => write!(
                f,
                "traceId must be empty or 16 bytes (32 hex digits) and not all zero; got {len} bytes"
            ),
            Problem::OptionalSpanId(len) => write!(
                f,
                "spanId must be empty or 8 bytes (16 hex digits) and not all zero; got {len} bytes"
            ),
            Problem::SpanIdWithoutTraceId => f.write_str("spanId is set but traceId is empty"),
            Problem::NoTime => {
                f.write_str("timeUnixNano and observedTimeUnixNano are both missing (0)")
            }
            Problem::SeverityNumber(number) => write!(
                f,
                "severityNumber {number} is not a SeverityNumber (0 to {MAX_SEVERITY_NUMBER})"
            ),
            Problem::BodyTooLarge { size, limit } => write!(
                f,
                "body is {size} bytes; the limit is {limit} (--max-attribute-value)"
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
            Problem::FieldTooLong {
                field,
                place,
                size,
                limit,
            } => write!(
                f,
                "{place} {field} is {size} bytes; the limit is {limit} (--max-field-length)"
            ),
        }
    }
}

impl Rules {
    /// Checks one span against every rule except its resource's and scope's (see
    /// [`Rules::check_resource`], [`Rules::check_scope`]); `now_unix_nanos` is the
    /// collector's clock.
    pub fn check_span(&self, span: &Span<'_>, now_unix_nanos: u64) -> Result<(), Problem> {
        let (trace_id, span_id) = (span.trace_id.as_bytes(), span.span_id.as_bytes());
        if span.trace_id.len() != 16 || trace_id.iter().all(|&b| b == 0) {
            return Err(Problem::TraceId(span.trace_id.len()));
        }
        if span.span_id.len() != 8 || span_id.iter().all(|&b| b == 0) {
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
        self.check_times(
            span.start_time_unix_nano,
            span.end_time_unix_nano,
            now_unix_nanos,
        )?;
        let place = "span";
        self.field("name", place, &span.name)?;
        self.field("traceState", place, &span.trace_state)?;
        if let Some(status) = &span.status {
            self.field("status.message", place, &status.message)?;
        }
        self.attributes(&span.attributes, place)?;
        for event in &span.events {
            self.field("name", "event", &event.name)?;
            self.attributes(&event.attributes, "event")?;
        }
        for link in &span.links {
            self.field("traceState", "link", &link.trace_state)?;
            self.attributes(&link.attributes, "link")?;
        }
        Ok(())
    }

    fn check_times(&self, start: u64, end: u64, now: u64) -> Result<(), Problem> {
        self.check_time("startTimeUnixNano", start, now)?;
        self.check_retention("startTimeUnixNano", start, now)?;
        let slack = self.max_future_nanos;
        let latest = now.saturating_add(slack);
        if end < start {
            return Err(Problem::EndBeforeStart { start, end });
        }
        if end > latest {
            return Err(Problem::InFuture { time: end, slack });
        }
        Ok(())
    }

    /// Checks that a time (`field`) is after 2000-01-01 and not too far in the future.
    fn check_time(&self, field: &'static str, time: u64, now: u64) -> Result<(), Problem> {
        if time < EARLIEST_START_UNIX_NANOS {
            return Err(Problem::TooEarly { field, time });
        }
        let slack = self.max_future_nanos;
        if time > now.saturating_add(slack) {
            return Err(Problem::InFuture { time, slack });
        }
        Ok(())
    }

    /// Checks that a time (`field`) is within the retention age.
    fn check_retention(&self, field: &'static str, time: u64, now: u64) -> Result<(), Problem> {
        match self.max_age_nanos {
            Some(max_age) if time < now.saturating_sub(max_age) => {
                Err(Problem::OlderThanRetention {
                    field,
                    time,
                    max_age,
                })
            }
            _ => Ok(()),
        }
    }

    /// Checks one log record against every rule except its resource's and scope's;
    /// `now_unix_nanos` is the collector's clock. Its time is `timeUnixNano`, else
    /// `observedTimeUnixNano` (as OpenTelemetry's data model says).
    pub fn check_log_record(
        &self,
        record: &LogRecord<'_>,
        now_unix_nanos: u64,
    ) -> Result<(), Problem> {
        let unset_or = |id: &Id, len: usize| {
            id.is_empty() || (id.len() == len && id.as_bytes().iter().any(|&b| b != 0))
        };
        if !unset_or(&record.trace_id, 16) {
            return Err(Problem::OptionalTraceId(record.trace_id.len()));
        }
        if !unset_or(&record.span_id, 8) {
            return Err(Problem::OptionalSpanId(record.span_id.len()));
        }
        if record.trace_id.is_empty() && !record.span_id.is_empty() {
            return Err(Problem::SpanIdWithoutTraceId);
        }
        if !(0..=MAX_SEVERITY_NUMBER).contains(&record.severity_number) {
            return Err(Problem::SeverityNumber(record.severity_number));
        }
        let times = [
            ("timeUnixNano", record.time_unix_nano),
            ("observedTimeUnixNano", record.observed_time_unix_nano),
        ];
        for (field, time) in times.into_iter().filter(|&(_, time)| time != 0) {
            self.check_time(field, time, now_unix_nanos)?;
        }
        let Some(&(field, time)) = times.iter().find(|&&(_, time)| time != 0) else {
            return Err(Problem::NoTime);
        };
        self.check_retention(field, time, now_unix_nanos)?;
        let place = "log record";
        self.field("severityText", place, &record.severity_text)?;
        self.field("eventName", place, &record.event_name)?;
        let size = record.body.as_ref().map_or(0, value_size);
        if size > self.max_attribute_value {
            return Err(Problem::BodyTooLarge {
                size,
                limit: self.max_attribute_value,
            });
        }
        self.attributes(&record.attributes, place)
    }

    /// Checks a resource's attributes (a problem rejects each of its spans).
    pub fn check_resource(&self, resource: &Resource<'_>, schema_url: &str) -> Result<(), Problem> {
        self.field("schemaUrl", "resource", schema_url)?;
        self.attributes(&resource.attributes, "resource")
    }

    /// Checks a scope's strings and attributes (a problem rejects each of its spans).
    pub fn check_scope(&self, scope: &Scope<'_>, schema_url: &str) -> Result<(), Problem> {
        self.field("schemaUrl", "scope", schema_url)?;
        self.field("name", "scope", &scope.name)?;
        self.field("version", "scope", &scope.version)?;
        self.attributes(&scope.attributes, "scope")
    }

    fn field(&self, field: &'static str, place: &'static str, text: &str) -> Result<(), Problem> {
        if text.len() > self.max_field {
            return Err(Problem::FieldTooLong {
                field,
                place,
                size: text.len(),
                limit: self.max_field,
            });
        }
        Ok(())
    }

    /// Checks the keys and values of `attributes`; `place` names their owner.
    fn attributes(&self, attributes: &[KeyValue<'_>], place: &'static str) -> Result<(), Problem> {
        for attribute in attributes {
            self.field("attribute key", place, &attribute.key)?;
            let size = attribute.value.as_ref().map_or(0, value_size);
            if size > self.max_attribute_value {
                let mut shown = KEY_SHOWN.min(attribute.key.len());
                while !attribute.key.is_char_boundary(shown) {
                    shown -= 1;
                }
                return Err(Problem::AttributeTooLarge {
                    place,
                    key: attribute.key[..shown].to_owned(),
                    size,
                    limit: self.max_attribute_value,
                });
            }
        }
        Ok(())
    }
}

/// The size of a value: the bytes of a string or byte string, 8 for a number, 1 for a
/// boolean, and for an array or map the sum of its parts (with the map's keys).
fn value_size(value: &AnyValue<'_>) -> usize {
    match &value.value {
        None => 0,
        Some(Value::String(s)) => s.len(),
        Some(Value::Bytes(b)) => b.len(),
        Some(Value::Bool(_)) => 1,
        Some(Value::Int(_) | Value::Double(_)) => 8,
        Some(Value::Array(array)) => array.iter().map(value_size).sum(),
        Some(Value::Kvlist(list)) => list
            .iter()
            .map(|kv| kv.key.len() + kv.value.as_ref().map_or(0, value_size))
            .sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use collector_decode::model::{Event, Id, Link, Status};

    const NOW: u64 = 1_750_000_000_000_000_000;
    const RULES: Rules = Rules {
        max_attribute_value: 100,
        max_field: 50,
        max_future_nanos: 600_000_000_000,
        max_age_nanos: Some(86_400_000_000_000),
    };

    fn good() -> Span<'static> {
        Span {
            trace_id: Id::new(&[1; 16]),
            span_id: Id::new(&[2; 8]),
            parent_span_id: Id::new(&[3; 8]),
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

    fn string_attr(key: &str, len: usize) -> KeyValue<'static> {
        KeyValue {
            key: key.to_owned().into(),
            value: Some(AnyValue {
                value: Some(Value::String("x".repeat(len).into())),
            }),
        }
    }

    fn check(span: &Span) -> Result<(), Problem> {
        RULES.check_span(span, NOW)
    }

    #[test]
    fn a_good_span_passes() {
        assert_eq!(check(&good()), Ok(()));
        let root = Span {
            parent_span_id: Id::default(),
            status: None,
            ..good()
        };
        assert_eq!(check(&root), Ok(()));
    }

    #[test]
    fn trace_id_must_be_16_nonzero_bytes() {
        for id in [vec![], vec![1; 15], vec![1; 17], vec![0; 16], vec![1; 40]] {
            let span = Span {
                trace_id: Id::new(&id),
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
                span_id: Id::new(&id),
                ..good()
            };
            assert_eq!(check(&span), Err(Problem::SpanId(id.len())));
        }
    }

    #[test]
    fn parent_span_id_is_empty_or_8_bytes() {
        let span = Span {
            parent_span_id: Id::new(&[1; 4]),
            ..good()
        };
        assert_eq!(check(&span), Err(Problem::ParentSpanId(4)));
    }

    #[test]
    fn name_kind_and_status_code() {
        let span = Span {
            name: "".into(),
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
                message: "".into(),
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
        assert_eq!(
            check(&ms),
            Err(Problem::TooEarly {
                field: "startTimeUnixNano",
                time: 1_700_000_000_000
            })
        );
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
        let slack = RULES.max_future_nanos;
        let edge = Span {
            start_time_unix_nano: NOW + slack,
            end_time_unix_nano: NOW + slack,
            ..good()
        };
        assert_eq!(check(&edge), Ok(()));
        let future = Span {
            start_time_unix_nano: NOW + slack + 1,
            end_time_unix_nano: NOW + slack + 1,
            ..good()
        };
        assert_eq!(
            check(&future),
            Err(Problem::InFuture {
                time: NOW + slack + 1,
                slack
            })
        );
        assert!(
            Problem::InFuture { time: 1, slack }
                .to_string()
                .contains("600 s past")
        );
        let long_end = Span {
            end_time_unix_nano: u64::MAX,
            ..good()
        };
        assert!(matches!(
            check(&long_end),
            Err(Problem::InFuture { time: u64::MAX, .. })
        ));
    }

    #[test]
    fn spans_older_than_the_retention_age_are_refused() {
        let max_age = RULES.max_age_nanos.unwrap();
        let old = Span {
            start_time_unix_nano: NOW - max_age - 1,
            end_time_unix_nano: NOW,
            ..good()
        };
        assert_eq!(
            check(&old),
            Err(Problem::OlderThanRetention {
                field: "startTimeUnixNano",
                time: NOW - max_age - 1,
                max_age
            })
        );
        assert!(
            check(&old)
                .unwrap_err()
                .to_string()
                .contains("deleted at once")
        );
        let forever = Rules {
            max_age_nanos: None,
            ..RULES
        };
        assert_eq!(forever.check_span(&old, NOW), Ok(()));
    }

    #[test]
    fn attribute_values_are_limited_everywhere() {
        let limit = RULES.max_attribute_value;
        let at_limit = Span {
            attributes: vec![string_attr("a", limit)],
            ..good()
        };
        assert_eq!(check(&at_limit), Ok(()));
        let too_big = Span {
            attributes: vec![string_attr("a", limit + 1)],
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
                name: "exception".into(),
                attributes: vec![string_attr("exception.stacktrace", limit + 1)],
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
                attributes: vec![string_attr("l", limit + 1)],
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
    fn every_other_string_is_limited() {
        let long = || "n".repeat(RULES.max_field + 1);
        let cases: Vec<(Span, &str, &str)> = vec![
            (
                Span {
                    name: long().into(),
                    ..good()
                },
                "name",
                "span",
            ),
            (
                Span {
                    trace_state: long().into(),
                    ..good()
                },
                "traceState",
                "span",
            ),
            (
                Span {
                    status: Some(Status {
                        code: 2,
                        message: long().into(),
                    }),
                    ..good()
                },
                "status.message",
                "span",
            ),
            (
                Span {
                    attributes: vec![string_attr(&long(), 1)],
                    ..good()
                },
                "attribute key",
                "span",
            ),
            (
                Span {
                    events: vec![Event {
                        name: long().into(),
                        ..Event::default()
                    }],
                    ..good()
                },
                "name",
                "event",
            ),
            (
                Span {
                    links: vec![Link {
                        trace_state: long().into(),
                        ..Link::default()
                    }],
                    ..good()
                },
                "traceState",
                "link",
            ),
        ];
        for (span, field, place) in cases {
            let problem = check(&span).unwrap_err();
            assert_eq!(
                problem,
                Problem::FieldTooLong {
                    field,
                    place,
                    size: RULES.max_field + 1,
                    limit: RULES.max_field
                }
            );
            assert!(
                problem.to_string().contains("--max-field-length"),
                "{problem}"
            );
        }
        let scope = Scope {
            version: long().into(),
            ..Scope::default()
        };
        assert!(matches!(
            RULES.check_scope(&scope, ""),
            Err(Problem::FieldTooLong {
                field: "version",
                place: "scope",
                ..
            })
        ));
        assert!(matches!(
            RULES.check_resource(&Resource::default(), &long()),
            Err(Problem::FieldTooLong {
                field: "schemaUrl",
                ..
            })
        ));
    }

    #[test]
    fn arrays_and_maps_count_their_parts() {
        let part = AnyValue {
            value: Some(Value::String("x".repeat(40).into())),
        };
        let array = KeyValue {
            key: "list".into(),
            value: Some(AnyValue {
                value: Some(Value::Array(vec![part.clone(), part.clone(), part.clone()])),
            }),
        };
        let resource = Resource {
            attributes: vec![array],
            ..Resource::default()
        };
        assert!(matches!(
            RULES.check_resource(&resource, ""),
            Err(Problem::AttributeTooLarge { size: 120, .. })
        ));
        let map = KeyValue {
            key: "map".into(),
            value: Some(AnyValue {
                value: Some(Value::Kvlist(vec![KeyValue {
                    key: "k".repeat(10).into(),
                    value: Some(part),
                }])),
            }),
        };
        let scope = Scope {
            attributes: vec![map],
            ..Scope::default()
        };
        assert_eq!(RULES.check_scope(&scope, ""), Ok(()));
    }

    fn good_record() -> LogRecord<'static> {
        LogRecord {
            time_unix_nano: NOW - 1_000,
            severity_number: 17,
            severity_text: "error".into(),
            body: Some(AnyValue {
                value: Some(Value::String("TypeError".into())),
            }),
            attributes: vec![string_attr("exception.stacktrace", 80)],
            trace_id: Id::new(&[1; 16]),
            span_id: Id::new(&[2; 8]),
            ..LogRecord::default()
        }
    }

    fn check_record(record: &LogRecord) -> Result<(), Problem> {
        RULES.check_log_record(record, NOW)
    }

    #[test]
    fn a_log_record_may_go_without_ids_but_a_span_needs_its_trace() {
        assert_eq!(check_record(&good_record()), Ok(()));
        let no_ids = LogRecord {
            trace_id: Id::default(),
            span_id: Id::default(),
            ..good_record()
        };
        assert_eq!(check_record(&no_ids), Ok(()));
        let span_only = LogRecord {
            trace_id: Id::default(),
            ..good_record()
        };
        assert_eq!(check_record(&span_only), Err(Problem::SpanIdWithoutTraceId));
        for (trace, span, problem) in [
            (Id::new(&[1; 8]), Id::default(), Problem::OptionalTraceId(8)),
            (
                Id::new(&[0; 16]),
                Id::default(),
                Problem::OptionalTraceId(16),
            ),
            (
                Id::new(&[1; 16]),
                Id::new(&[2; 16]),
                Problem::OptionalSpanId(16),
            ),
            (
                Id::new(&[1; 16]),
                Id::new(&[0; 8]),
                Problem::OptionalSpanId(8),
            ),
        ] {
            let record = LogRecord {
                trace_id: trace,
                span_id: span,
                ..good_record()
            };
            assert_eq!(check_record(&record), Err(problem));
        }
    }

    #[test]
    fn a_log_record_needs_a_plausible_time_and_severity() {
        let observed_only = LogRecord {
            time_unix_nano: 0,
            observed_time_unix_nano: NOW,
            ..good_record()
        };
        assert_eq!(check_record(&observed_only), Ok(()));
        let none = LogRecord {
            time_unix_nano: 0,
            ..good_record()
        };
        assert_eq!(check_record(&none), Err(Problem::NoTime));
        let seconds = LogRecord {
            time_unix_nano: 1_700_000_000,
            ..good_record()
        };
        assert_eq!(
            check_record(&seconds),
            Err(Problem::TooEarly {
                field: "timeUnixNano",
                time: 1_700_000_000
            })
        );
        let observed_ahead = LogRecord {
            observed_time_unix_nano: NOW + RULES.max_future_nanos + 1,
            ..good_record()
        };
        assert!(matches!(
            check_record(&observed_ahead),
            Err(Problem::InFuture { .. })
        ));
        let max_age = RULES.max_age_nanos.unwrap();
        let old = LogRecord {
            time_unix_nano: NOW - max_age - 1,
            ..good_record()
        };
        assert!(matches!(
            check_record(&old),
            Err(Problem::OlderThanRetention {
                field: "timeUnixNano",
                ..
            })
        ));
        let loud = LogRecord {
            severity_number: 25,
            ..good_record()
        };
        assert_eq!(check_record(&loud), Err(Problem::SeverityNumber(25)));
    }

    #[test]
    fn a_log_records_body_strings_and_attributes_are_limited() {
        let big_body = LogRecord {
            body: Some(AnyValue {
                value: Some(Value::String("x".repeat(101).into())),
            }),
            ..good_record()
        };
        assert_eq!(
            check_record(&big_body),
            Err(Problem::BodyTooLarge {
                size: 101,
                limit: 100
            })
        );
        let long_text = LogRecord {
            severity_text: "e".repeat(51).into(),
            ..good_record()
        };
        assert!(matches!(
            check_record(&long_text),
            Err(Problem::FieldTooLong {
                field: "severityText",
                ..
            })
        ));
        let big_attribute = LogRecord {
            attributes: vec![string_attr("k", 101)],
            ..good_record()
        };
        assert!(matches!(
            check_record(&big_attribute),
            Err(Problem::AttributeTooLarge {
                place: "log record",
                ..
            })
        ));
    }
}
