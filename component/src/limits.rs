//! Span limits: caps on attributes, events, links and string lengths, applied as data
//! arrives. What is cut is counted, never silently lost.

use alloc::string::String;

use crate::model::{Attributes, KeyValue, Value};

/// Caps that keep one span bounded (defaults follow OpenTelemetry's, plus a value
/// length cap suited to browser payloads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanLimits {
    /// Attributes per span.
    pub max_attributes: u32,
    /// Longest string (value, key or name) in UTF-8 bytes.
    pub max_value_length: u32,
    /// Events per span.
    pub max_events: u32,
    /// Links per span.
    pub max_links: u32,
    /// Attributes per event and per link.
    pub max_attributes_per_item: u32,
}

impl Default for SpanLimits {
    fn default() -> Self {
        SpanLimits {
            max_attributes: 128,
            max_value_length: 4096,
            max_events: 128,
            max_links: 128,
            max_attributes_per_item: 128,
        }
    }
}

/// Cuts `s` to at most `max` bytes at a character boundary; true if it was cut.
pub fn truncate(s: &mut String, max: u32) -> bool {
    let max = max as usize;
    if s.len() <= max {
        return false;
    }
    let cut = s.floor_char_boundary(max);
    s.truncate(cut);
    true
}

/// Truncates every string and byte string inside `value`, at any depth; returns how many
/// were cut.
pub fn truncate_value(value: &mut Value, max: u32) -> u64 {
    match value {
        Value::String(s) => u64::from(truncate(s, max)),
        Value::StringArray(items) => items.iter_mut().map(|s| u64::from(truncate(s, max))).sum(),
        #[cfg(feature = "direct-api")]
        Value::Array(items) => items.iter_mut().map(|v| truncate_value(v, max)).sum(),
        #[cfg(feature = "direct-api")]
        Value::Map(entries) => entries
            .iter_mut()
            .map(|kv| truncate_value(&mut kv.value, max))
            .sum(),
        #[cfg(feature = "direct-api")]
        Value::Bytes(bytes) => {
            let cut = bytes.len() > max as usize;
            bytes.truncate(max as usize);
            u64::from(cut)
        }
        _ => 0,
    }
}

impl Attributes {
    /// Sets one attribute under the limits: an existing key is replaced; a new key beyond
    /// `max_count`, an empty key or a non-finite number is dropped and counted.
    /// Returns how many strings were truncated.
    pub fn set(&mut self, mut kv: KeyValue, max_count: u32, max_len: u32) -> u64 {
        if kv.key.is_empty() || !kv.value.is_encodable() {
            self.dropped = self.dropped.saturating_add(1);
            return 0;
        }
        let truncated =
            u64::from(truncate(&mut kv.key, max_len)) + truncate_value(&mut kv.value, max_len);
        if let Some(existing) = self.items.iter_mut().find(|item| item.key == kv.key) {
            existing.value = kv.value;
        } else if self.items.len() < max_count as usize {
            self.items.push(kv);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
        truncated
    }

    /// Builds a bounded attribute list from `items` (see [`Attributes::set`]); returns it
    /// with the number of truncated strings.
    pub fn bounded(
        items: impl IntoIterator<Item = KeyValue>,
        max_count: u32,
        max_len: u32,
    ) -> (Self, u64) {
        let mut attributes = Attributes::default();
        let truncated = items
            .into_iter()
            .map(|kv| attributes.set(kv, max_count, max_len))
            .sum();
        (attributes, truncated)
    }

    /// `source` bounded as [`Attributes::bounded`] does, keeping in the count what its
    /// source dropped already (another SDK's limits, values that could not be read).
    pub fn bounded_from(source: Attributes, max_count: u32, max_len: u32) -> (Self, u64) {
        let (mut attributes, truncated) = Self::bounded(source.items, max_count, max_len);
        attributes.dropped = attributes.dropped.saturating_add(source.dropped);
        (attributes, truncated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Decimal;

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value,
        }
    }

    #[test]
    fn truncates_at_char_boundary() {
        let mut s = "aé€".to_string(); // 1 + 2 + 3 bytes
        assert!(truncate(&mut s, 4));
        assert_eq!(s, "aé");
        assert!(!truncate(&mut s, 3));
    }

    #[test]
    fn drops_beyond_count_and_replaces_same_key() {
        let mut attrs = Attributes::default();
        attrs.set(kv("a", Value::Int(1)), 2, 100);
        attrs.set(kv("b", Value::Int(2)), 2, 100);
        attrs.set(kv("c", Value::Int(3)), 2, 100);
        attrs.set(kv("a", Value::Int(4)), 2, 100);
        assert_eq!(
            attrs.items,
            vec![kv("a", Value::Int(4)), kv("b", Value::Int(2))]
        );
        assert_eq!(attrs.dropped, 1);
    }

    #[test]
    fn drops_invalid_keys_and_non_finite_numbers() {
        let (attrs, _) = Attributes::bounded(
            [
                kv("", Value::Bool(true)),
                kv("nan", Value::Double(Decimal::from_f64(f64::NAN))),
                kv(
                    "inf",
                    Value::DoubleArray(vec![
                        Decimal::from_f64(1.0),
                        Decimal::from_f64(f64::INFINITY),
                    ]),
                ),
                kv("text", Value::Double(Decimal::parse("Infinity"))),
                kv("ok", Value::Double(Decimal::from_f64(1.5))),
            ],
            10,
            10,
        );
        assert_eq!(
            attrs.items,
            vec![kv("ok", Value::Double(Decimal::parse("1.5")))]
        );
        assert_eq!(attrs.dropped, 4);
    }

    #[test]
    fn counts_truncated_strings() {
        let (attrs, truncated) = Attributes::bounded(
            [kv(
                "k",
                Value::StringArray(vec!["abcdef".into(), "ab".into(), "xyz123".into()]),
            )],
            10,
            3,
        );
        assert_eq!(truncated, 2);
        assert_eq!(
            attrs.items[0].value,
            Value::StringArray(vec!["abc".into(), "ab".into(), "xyz".into()])
        );
    }

    #[test]
    #[cfg(feature = "direct-api")]
    fn truncates_strings_and_bytes_at_any_depth() {
        let nested = Value::Map(vec![
            kv("s", Value::String("abcdef".into())),
            kv(
                "list",
                Value::Array(vec![Value::Bytes(vec![1, 2, 3, 4]), Value::Empty]),
            ),
        ]);
        let (attrs, truncated) = Attributes::bounded([kv("k", nested)], 10, 3);
        assert_eq!(truncated, 2);
        assert_eq!(
            attrs.items[0].value,
            Value::Map(vec![
                kv("s", Value::String("abc".into())),
                kv(
                    "list",
                    Value::Array(vec![Value::Bytes(vec![1, 2, 3]), Value::Empty])
                ),
            ])
        );
    }
}
