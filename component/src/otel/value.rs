//! `wasi:otel`'s attribute values: an OTLP `AnyValue` written as JSON text (WIT has no
//! recursive types), read into the model's [`Value`].
//!
//! | JSON | model |
//! |---|---|
//! | string | `String`; `Bytes` for a `data:application/octet-stream;base64,` string (how the proposal writes bytes) whose base64 is valid |
//! | `true`, `false` | `Bool` |
//! | integer within `i64` | `Int` |
//! | other number | `Double`, keeping the number's text |
//! | array of strings, of booleans, of integers, of numbers | the matching typed array (an empty array: strings) |
//! | any other array | `Array` of its items' values |
//! | object | `Map` of its members' values, each key once (the last given wins, as in `JSON.parse`) |
//! | `null` in an array or object | `Empty` |
//! | `null`; a number that overflows a double or is longer than [`MAX_NUMBER_LENGTH`], anywhere; nesting deeper than [`MAX_DEPTH`]; malformed JSON | none: the attribute is dropped and counted |
//!
//! Written by hand rather than with serde_json: the reader keeps numbers as the text
//! they arrived in (the model's [`Decimal`]) and builds the model's values directly, in
//! a few KB of the component, where a general JSON value parser would build a tree to
//! convert and bring its float parser and error formatting into the component.

use alloc::{string::String, vec::Vec};

use crate::model::{Decimal, KeyValue, Value};

/// Deepest nesting of arrays and maps read; deeper values are refused. It is as deep as
/// OTLP receivers take: the collector's `MAX_VALUE_DEPTH` (a test in `fuzz/` checks that
/// the collector decodes the deepest value read), and within the 100 messages of prost's
/// recursion limit, three to a level. It also bounds the reader's recursion.
pub const MAX_DEPTH: usize = 16;

/// Longest number text kept as a double: the shortest text of any double is at most 24
/// bytes, and number text is not cut to the value length as strings are.
pub const MAX_NUMBER_LENGTH: usize = 64;

/// How the proposal writes a bytes value: a data URI with this prefix, then base64.
pub const BYTES_PREFIX: &str = "data:application/octet-stream;base64,";

/// The value `json` writes, or none (see the module's table).
pub fn read(json: &str) -> Option<Value> {
    let mut reader = Reader { json, pos: 0 };
    let value = reader.value(0)?;
    reader.whitespace();
    (reader.pos == json.len() && value != Value::Empty).then_some(value)
}

/// A log record's body: the value `json` writes, or, where that is none (text that is
/// not JSON, `null`, a value refused), the text itself as a string: a body is never
/// dropped.
pub fn read_body(json: &str) -> Value {
    read(json).unwrap_or_else(|| Value::String(json.trim_matches([' ', '\t', '\n', '\r']).into()))
}

/// Numbers whose leading digit stands for 10^308 or more are refused: doubles end at
/// 1.797...e308, and receivers reject a larger `doubleValue` (with the whole request).
/// Checked on the text because a float parser (core's `f64::from_str`) would add about
/// 20 KB to the component; the cost is that doubles from 1e308 to 1.797e308 are refused too.
const MAX_EXPONENT: i64 = 308;

/// The power of ten of a JSON number's leading non-zero digit (`0.05` -> -2, `120` -> 2,
/// `1.5e3` -> 3); `i64::MIN` for zero.
fn decimal_exponent(number: &str) -> i64 {
    let (mantissa, exponent) = number.split_once(['e', 'E']).map_or((number, 0), |(m, e)| {
        // Saturates: an exponent of 400 digits is as large as one of 19.
        let digits = e.trim_start_matches(['+', '-']).trim_start_matches(['0']);
        let magnitude = if digits.len() > 18 {
            i64::MAX / 2
        } else {
            digits.parse::<i64>().unwrap_or(0)
        };
        (
            m,
            if e.starts_with('-') {
                -magnitude
            } else {
                magnitude
            },
        )
    });
    let mantissa = mantissa.trim_start_matches(['-']);
    let (integer, fraction) = mantissa.split_once(['.']).unwrap_or((mantissa, ""));
    let integer = integer.trim_start_matches(['0']);
    if !integer.is_empty() {
        return exponent.saturating_add(integer.len() as i64 - 1);
    }
    match fraction.bytes().position(|b| b != b'0') {
        Some(zeros) => exponent.saturating_sub(zeros as i64 + 1),
        None => i64::MIN,
    }
}

/// A number or a boolean.
enum Scalar<'a> {
    Bool(bool),
    /// An integer within `i64`.
    Int(i64),
    /// A finite number that is not an `i64`, as its text.
    Number(&'a str),
}

/// A cursor over JSON text. Positions only ever stop on ASCII bytes, so slicing at them
/// never splits a character; slices are taken with `get` all the same, because a slice
/// index that can panic brings core's formatting machinery (about 20 KB) into the
/// component.
struct Reader<'a> {
    json: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    /// The text from `start` to the cursor.
    fn slice(&self, start: usize) -> Option<&'a str> {
        self.json.get(start..self.pos)
    }

    /// The bytes after the cursor.
    fn rest(&self) -> &'a [u8] {
        self.json.as_bytes().get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<u8> {
        self.json.as_bytes().get(self.pos).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `byte` (after whitespace) if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.whitespace();
        let found = self.peek() == Some(byte);
        self.pos += usize::from(found);
        found
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let found = self.rest().starts_with(word.as_bytes());
        self.pos += word.len() * usize::from(found);
        found.then_some(())
    }

    /// A boolean or a number.
    fn scalar(&mut self) -> Option<Scalar<'a>> {
        match self.peek()? {
            b't' => self.literal("true").map(|()| Scalar::Bool(true)),
            b'f' => self.literal("false").map(|()| Scalar::Bool(false)),
            _ => {
                let text = self.number()?;
                if let Ok(int) = text.parse::<i64>() {
                    return Some(Scalar::Int(int));
                }
                // Valid JSON, but beyond a double (1e400) has no OTLP form.
                (decimal_exponent(text) < MAX_EXPONENT && text.len() <= MAX_NUMBER_LENGTH)
                    .then_some(Scalar::Number(text))
            }
        }
    }

    /// A number's text, if it follows JSON's number grammar.
    fn number(&mut self) -> Option<&'a str> {
        let start = self.pos;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.peek() {
            self.pos += 1;
        }
        let text = self.slice(start)?;
        Decimal::parse(text).is_finite().then_some(text)
    }

    /// A string (at its opening quote), unescaped. A lone surrogate escape reads as
    /// U+FFFD, as JavaScript's `TextEncoder` writes one.
    fn string(&mut self) -> Option<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.json.get(self.pos..)?;
            let plain = rest
                .bytes()
                .position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
            out.push_str(rest.get(..plain)?);
            self.pos += plain;
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let escaped = self.peek()?;
                    self.pos += 1;
                    out.push(match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    });
                }
                _ => return None, // A control character must be escaped.
            }
        }
    }

    /// The character of a `\uXXXX` escape (after the `u`), joining a surrogate pair.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xd800..0xdc00).contains(&first) && self.rest().starts_with(b"\\u") {
            let before = self.pos;
            self.pos += 2;
            let second = self.hex4()?;
            if (0xdc00..0xe000).contains(&second) {
                let c = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
                return char::from_u32(c);
            }
            self.pos = before; // Not a low surrogate: read it on its own next.
        }
        Some(char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.json.as_bytes().get(self.pos..self.pos + 4)?;
        self.pos += 4;
        digits
            .iter()
            .try_fold(0, |acc, &c| Some(acc << 4 | char::from(c).to_digit(16)?))
    }

    /// Any value (after white space); `depth` counts the arrays and maps around it.
    fn value(&mut self, depth: usize) -> Option<Value> {
        self.whitespace();
        Some(match self.peek()? {
            b'"' => string_or_bytes(self.string()?),
            b'[' => self.array(depth)?,
            b'{' => self.map(depth)?,
            b'n' => {
                self.literal("null")?;
                Value::Empty
            }
            _ => match self.scalar()? {
                Scalar::Bool(b) => Value::Bool(b),
                Scalar::Int(i) => Value::Int(i),
                Scalar::Number(text) => Value::Double(Decimal::parse(text)),
            },
        })
    }

    /// An array (at its `[`): a typed array when its items are scalars of one kind
    /// (integers and other numbers make doubles), else a mixed one.
    fn array(&mut self, depth: usize) -> Option<Value> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let mut items = Vec::new();
        if !self.eat(b']') {
            loop {
                items.push(self.value(depth + 1)?);
                if self.eat(b']') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        Some(typed_array(items))
    }

    /// An object (at its `{`) as a map.
    fn map(&mut self, depth: usize) -> Option<Value> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let mut entries = Vec::new();
        if !self.eat(b'}') {
            loop {
                self.whitespace();
                if self.peek()? != b'"' {
                    return None;
                }
                let key = self.string()?;
                if !self.eat(b':') {
                    return None;
                }
                let value = self.value(depth + 1)?;
                entries.push(KeyValue { key, value });
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        Some(Value::Map(unique_keys(entries)))
    }
}

/// A string's value: its bytes if it is a data URI of bytes with valid base64, else itself.
fn string_or_bytes(string: String) -> Value {
    match base64_bytes(&string) {
        Some(bytes) => Value::Bytes(bytes),
        None => Value::String(string),
    }
}

/// The bytes of a `data:application/octet-stream;base64,` string with valid base64
/// (standard alphabet, padded, canonical), else none. By hand, as the encoder's base64 is
/// (`otlp_json.rs`): a crate's engines would add kilobytes.
fn base64_bytes(string: &str) -> Option<Vec<u8>> {
    let text = string.strip_prefix(BYTES_PREFIX)?.as_bytes();
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let quads = text.len() / 4;
    let mut out = Vec::with_capacity(quads * 3);
    for (index, quad) in text.chunks(4).enumerate() {
        let (mut n, mut padding) = (0u32, 0usize);
        for &c in quad {
            let sextet = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' => {
                    padding += 1;
                    0
                }
                _ => return None,
            };
            if padding > 0 && c != b'=' {
                return None; // Data after padding.
            }
            n = n << 6 | u32::from(sextet);
        }
        // Padding only at the end, and the bits it leaves over all zero (canonical base64).
        if padding > 2 || (padding > 0 && index + 1 != quads) {
            return None;
        }
        if n & ((1u32 << (8 * padding)) - 1) != 0 {
            return None;
        }
        out.extend_from_slice(n.to_be_bytes().get(1..4 - padding)?);
    }
    Some(out)
}

/// The typed array of `items` when they are all strings, all booleans, all integers, or
/// all numbers; else a mixed array of them.
fn typed_array(items: Vec<Value>) -> Value {
    let all = |kind: fn(&Value) -> bool| items.iter().all(kind);
    if all(|v| matches!(v, Value::String(_))) {
        Value::StringArray(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
        )
    } else if all(|v| matches!(v, Value::Bool(_))) {
        Value::BoolArray(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Bool(b) => Some(b),
                    _ => None,
                })
                .collect(),
        )
    } else if all(|v| matches!(v, Value::Int(_))) {
        Value::IntArray(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Int(i) => Some(i),
                    _ => None,
                })
                .collect(),
        )
    } else if all(|v| matches!(v, Value::Int(_) | Value::Double(_))) {
        Value::DoubleArray(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Int(i) => Some(Decimal::parse(itoa::Buffer::new().format(i))),
                    Value::Double(d) => Some(d),
                    _ => None,
                })
                .collect(),
        )
    } else {
        Value::Array(items)
    }
}

/// `entries` with each key once, where it was last given, in the order given.
fn unique_keys(mut entries: Vec<KeyValue>) -> Vec<KeyValue> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    sort_by_key(&mut order, &entries);
    let mut superseded = alloc::vec![false; entries.len()];
    for pair in order.windows(2) {
        if let [index, next] = *pair
            && key_of(&entries, index) == key_of(&entries, next)
            && let Some(flag) = superseded.get_mut(index)
        {
            *flag = true;
        }
    }
    let mut superseded = superseded.into_iter();
    entries.retain(|_| !superseded.next().unwrap_or(false));
    entries
}

fn key_of(entries: &[KeyValue], index: usize) -> &str {
    entries.get(index).map_or("", |kv| kv.key.as_str())
}

/// Sorts `order`, indices into `entries`, by key and then by index: a heapsort, O(n log n)
/// however hostile the keys, written by hand because core's sorts add 8 KB to the
/// component (measured: `sort_unstable_by` on these pairs).
fn sort_by_key(order: &mut [usize], entries: &[KeyValue]) {
    let less = |a: usize, b: usize| (key_of(entries, a), a) < (key_of(entries, b), b);
    let sift_down = |order: &mut [usize], mut root: usize, end: usize| {
        loop {
            let mut child = 2 * root + 1;
            let (Some(&left), right) = (order.get(child), order.get(child + 1)) else {
                return;
            };
            let mut larger = left;
            if let Some(&right) = right
                && child + 1 < end
                && less(left, right)
            {
                child += 1;
                larger = right;
            }
            let Some(&top) = order.get(root) else { return };
            if child >= end || !less(top, larger) {
                return;
            }
            order.swap(root, child);
            root = child;
        }
    };
    for start in (0..order.len() / 2).rev() {
        sift_down(order, start, order.len());
    }
    for end in (1..order.len()).rev() {
        order.swap(0, end);
        sift_down(order, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn s(text: &str) -> Value {
        Value::String(text.into())
    }

    fn d(text: &str) -> Decimal {
        Decimal::parse(text)
    }

    #[test]
    fn scalars_read_as_their_model_values() {
        assert_eq!(read(r#""GET""#), Some(s("GET")));
        assert_eq!(read(" true "), Some(Value::Bool(true)));
        assert_eq!(read("false"), Some(Value::Bool(false)));
        assert_eq!(read("200"), Some(Value::Int(200)));
        assert_eq!(read("-9223372036854775808"), Some(Value::Int(i64::MIN)));
        assert_eq!(
            read("9223372036854775808"),
            Some(Value::Double(d("9223372036854775808")))
        );
        assert_eq!(read("0.25"), Some(Value::Double(d("0.25"))));
        assert_eq!(read("1e3"), Some(Value::Double(d("1e3"))));
        assert_eq!(read("-0"), Some(Value::Int(0)));
    }

    #[test]
    fn strings_are_unescaped() {
        assert_eq!(
            read(r#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#),
            Some(s("a\"b\\c/d\n\té😀"))
        );
        assert_eq!(read(r#""\ud800x""#), Some(s("\u{fffd}x")));
        assert_eq!(read(r#""\udc00""#), Some(s("\u{fffd}")));
        assert_eq!(read(r#""\ud83d\u0041""#), Some(s("\u{fffd}A")));
        assert_eq!(read("\"héllo\""), Some(s("héllo")));
    }

    #[test]
    fn data_uris_of_valid_base64_are_bytes() {
        let uri = |b64: &str| alloc::format!("\"{BYTES_PREFIX}{b64}\"");
        assert_eq!(
            read(&uri("AAEC/w==")),
            Some(Value::Bytes(vec![0, 1, 2, 255]))
        );
        assert_eq!(read(&uri("AAEC")), Some(Value::Bytes(vec![0, 1, 2])));
        assert_eq!(read(&uri("+/8=")), Some(Value::Bytes(vec![251, 255])));
        assert_eq!(read(&uri("")), Some(Value::Bytes(vec![])));
        for bad in [
            "AAE", "AA=C", "A===", "AA==AAAA", "AA!C", "AAEC ", "AB==", "AAF=",
        ] {
            assert_eq!(
                read(&uri(bad)),
                Some(s(&alloc::format!("{BYTES_PREFIX}{bad}"))),
                "{bad:?} is not base64: the string stays"
            );
        }
        assert_eq!(
            read(r#""data:text/plain;base64,AAEC""#),
            Some(s("data:text/plain;base64,AAEC"))
        );
    }

    #[test]
    fn arrays_of_one_kind_are_typed_arrays() {
        assert_eq!(
            read(r#"["a", "b"]"#),
            Some(Value::StringArray(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            read("[true,false]"),
            Some(Value::BoolArray(vec![true, false]))
        );
        assert_eq!(read("[1, -2]"), Some(Value::IntArray(vec![1, -2])));
        assert_eq!(
            read("[1, 2.5]"),
            Some(Value::DoubleArray(vec![d("1"), d("2.5")]))
        );
        assert_eq!(read("[ ]"), Some(Value::StringArray(vec![])));
    }

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value,
        }
    }

    #[test]
    fn objects_are_maps_and_other_arrays_mixed_arrays() {
        assert_eq!(
            read(r#"{"user": {"id": 7, "roles": ["a", null]}, "ok": true}"#),
            Some(Value::Map(vec![
                kv(
                    "user",
                    Value::Map(vec![
                        kv("id", Value::Int(7)),
                        kv("roles", Value::Array(vec![s("a"), Value::Empty])),
                    ])
                ),
                kv("ok", Value::Bool(true)),
            ]))
        );
        assert_eq!(read(" {} "), Some(Value::Map(vec![])));
        assert_eq!(
            read(r#"[1, "a"]"#),
            Some(Value::Array(vec![Value::Int(1), s("a")]))
        );
        assert_eq!(
            read("[[1], [2.5]]"),
            Some(Value::Array(vec![
                Value::IntArray(vec![1]),
                Value::DoubleArray(vec![d("2.5")])
            ]))
        );
        assert_eq!(
            read(&alloc::format!(r#"["a", "{BYTES_PREFIX}AA==", null]"#)),
            Some(Value::Array(vec![
                s("a"),
                Value::Bytes(vec![0]),
                Value::Empty
            ]))
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_where_it_was_last_given() {
        assert_eq!(
            read(r#"{"b": 1, "a": 2, "b": 3, "c": 4, "a": 5}"#),
            Some(Value::Map(vec![
                kv("b", Value::Int(3)),
                kv("c", Value::Int(4)),
                kv("a", Value::Int(5)),
            ]))
        );
    }

    #[test]
    fn null_malformed_and_too_deep_values_are_none() {
        for json in [
            "",
            " ",
            "null",
            "nul",
            "tru",
            "01",
            "+1",
            "1.",
            ".5",
            "NaN",
            "Infinity",
            "1e400",
            "-1e400",
            "\"open",
            "\"bad \\x escape\"",
            "\"\\u12\"",
            "\"tab\there\"",
            "[1,]",
            "[1 2]",
            "[",
            "]",
            "{\"a\"}",
            "{\"a\":1,}",
            "{1:2}",
            "\"a\" \"b\"",
            "1 2",
            "[1]]",
            "{}}",
        ] {
            assert_eq!(read(json), None, "{json:?}");
        }
        let deep = |n| alloc::format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(read(&deep(MAX_DEPTH)).is_some());
        assert_eq!(read(&deep(MAX_DEPTH + 1)), None);
        assert_eq!(read(&deep(100_000)), None);
        let deep_map = |n| alloc::format!("{}1{}", r#"{"k":"#.repeat(n), "}".repeat(n));
        assert!(read(&deep_map(MAX_DEPTH)).is_some());
        assert_eq!(read(&deep_map(MAX_DEPTH + 1)), None);
    }

    #[test]
    fn the_exponent_of_the_leading_digit_bounds_doubles() {
        for (number, exponent) in [
            ("120", 2),
            ("-1.5", 0),
            ("0.05", -2),
            ("0.0", i64::MIN),
            ("1.5e3", 3),
            ("12e-3", -2),
            ("0.001e2", -1),
            ("1e+308", 308),
            ("9.9e307", 307),
            ("1e99999999999999999999999", i64::MAX / 2),
            ("1e-99999999999999999999999", -(i64::MAX / 2)),
        ] {
            assert_eq!(decimal_exponent(number), exponent, "{number}");
        }
        assert_eq!(read("9.9e307"), Some(Value::Double(d("9.9e307"))));
        assert_eq!(read("1e-400"), Some(Value::Double(d("1e-400"))));
        assert_eq!(read("[1, 1e308]"), None);
        let long = alloc::format!("1.{}", "0".repeat(MAX_NUMBER_LENGTH));
        assert_eq!(read(&long), None, "number text is bounded");
        assert_eq!(read(r#"{"a": 1e400}"#), None, "anywhere");
    }

    #[test]
    fn a_body_is_its_value_or_else_its_text() {
        assert_eq!(read_body(r#""checkout failed""#), s("checkout failed"));
        assert_eq!(
            read_body(r#" {"order": 7} "#),
            Value::Map(vec![kv("order", Value::Int(7))])
        );
        assert_eq!(read_body("42"), Value::Int(42));
        assert_eq!(read_body("not json"), s("not json"));
        assert_eq!(read_body(r#" "a" "b" "#), s(r#""a" "b""#));
        assert_eq!(read_body("null"), s("null"));
        assert_eq!(read_body("1e400"), s("1e400"));
    }

    proptest::proptest! {
        /// Against the plain O(n²) rule: an entry stays unless its key is given again later.
        #[test]
        fn unique_keys_keeps_each_keys_last_entry(keys in proptest::collection::vec("[a-d]{0,2}", 0..40)) {
            let entries: Vec<KeyValue> = keys
                .iter()
                .enumerate()
                .map(|(i, key)| kv(key, Value::Int(i as i64)))
                .collect();
            let expected: Vec<KeyValue> = entries
                .iter()
                .enumerate()
                .filter(|(i, e)| !entries[i + 1..].iter().any(|later| later.key == e.key))
                .map(|(_, e)| e.clone())
                .collect();
            proptest::prop_assert_eq!(unique_keys(entries), expected);
        }
    }
}
