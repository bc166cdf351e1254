//! `wasi:otel`'s attribute values: an OTLP `AnyValue` written as JSON text (WIT has no
//! recursive types), read into the model's [`Value`].
//!
//! | JSON | model |
//! |---|---|
//! | string | `String` (a bytes value, `data:application/octet-stream;base64,...`, stays that string) |
//! | `true`, `false` | `Bool` |
//! | integer within `i64` | `Int` |
//! | other number | `Double`, keeping the number's text (none if it overflows a double or is longer than [`MAX_NUMBER_LENGTH`]) |
//! | array of strings, of booleans, of integers, of numbers | the matching array (an empty array: strings) |
//! | object, nested or mixed array | `String` holding the JSON text as received |
//! | `null`, malformed JSON, nesting deeper than [`MAX_DEPTH`] | none: the attribute is dropped and counted |
//!
//! The model carries OTLP's `AnyValue` without maps and bytes (as the component's own WIT
//! does), so a map or a nested array keeps its data as JSON text rather than losing it.
//!
//! Written by hand rather than with serde_json: the reader keeps numbers as the text
//! they arrived in (the model's [`Decimal`]) and builds the model's values directly, in
//! about 6 KB of the component, where a general JSON value parser would build a tree to
//! convert and bring its float parser and error formatting into the component.

use alloc::{string::String, vec::Vec};

use crate::model::{Decimal, Value};

/// Deepest nesting of arrays and objects read; deeper values are refused (a bound on the
/// reader's recursion).
pub const MAX_DEPTH: usize = 64;

/// Longest number text kept as a double: the shortest text of any double is at most 24
/// bytes, and number text is not cut to the value length as strings are.
pub const MAX_NUMBER_LENGTH: usize = 64;

/// The value `json` writes, or none (see the module's table).
pub fn read(json: &str) -> Option<Value> {
    let mut reader = Reader { json, pos: 0 };
    reader.whitespace();
    let start = reader.pos;
    let value = match reader.peek()? {
        b'"' => Value::String(reader.string()?),
        b'[' => reader.array(start)?,
        b'{' => {
            reader.skip(0)?;
            Value::String(reader.slice(start)?.into())
        }
        b'n' => {
            reader.literal("null")?;
            return None;
        }
        _ => match reader.scalar()? {
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(i, _) => Value::Int(i),
            Scalar::Number(text) => Value::Double(Decimal::parse(text)),
        },
    };
    reader.whitespace();
    (reader.pos == json.len()).then_some(value)
}

/// A log record's body: a JSON string as its text, any other value as its JSON text, and
/// text that is not JSON as it is (a body is never dropped).
pub fn read_body(json: &str) -> String {
    let mut reader = Reader { json, pos: 0 };
    reader.whitespace();
    if reader.peek() == Some(b'"')
        && let Some(text) = reader.string()
    {
        reader.whitespace();
        if reader.pos == json.len() {
            return text;
        }
    }
    json.trim_matches([' ', '\t', '\n', '\r']).into()
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
    /// An integer within `i64`, and its text.
    Int(i64, &'a str),
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
                    return Some(Scalar::Int(int, text));
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

    /// An array (at its `[`, which starts at `start`): a typed array when its items are
    /// scalars of one kind (integers and other numbers make doubles), else its JSON text.
    fn array(&mut self, start: usize) -> Option<Value> {
        self.pos += 1;
        let (mut strings, mut bools, mut ints, mut numbers) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut nested = false;
        if !self.eat(b']') {
            loop {
                self.whitespace();
                match self.peek()? {
                    b'"' => strings.push(self.string()?),
                    b'[' | b'{' | b'n' => {
                        self.skip(1)?;
                        nested = true;
                    }
                    _ => match self.scalar()? {
                        Scalar::Bool(b) => bools.push(b),
                        Scalar::Int(i, text) => {
                            ints.push(i);
                            numbers.push(text);
                        }
                        Scalar::Number(text) => numbers.push(text),
                    },
                }
                if self.eat(b']') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        let kinds = [!strings.is_empty(), !bools.is_empty(), !numbers.is_empty()];
        if nested || kinds.iter().filter(|&&present| present).count() > 1 {
            return self.slice(start).map(|json| Value::String(json.into()));
        }
        Some(if !bools.is_empty() {
            Value::BoolArray(bools)
        } else if numbers.is_empty() {
            Value::StringArray(strings)
        } else if ints.len() == numbers.len() {
            Value::IntArray(ints)
        } else {
            Value::DoubleArray(numbers.into_iter().map(Decimal::parse).collect())
        })
    }

    /// Checks any value (at its first byte) and moves past it. `depth` counts the arrays
    /// and objects around it.
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.whitespace();
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'n' => self.literal("null"),
            open @ (b'[' | b'{') => {
                self.pos += 1;
                let close = if open == b'[' { b']' } else { b'}' };
                if self.eat(close) {
                    return Some(());
                }
                loop {
                    if open == b'{' {
                        self.whitespace();
                        if self.peek()? != b'"' {
                            return None;
                        }
                        self.string()?;
                        if !self.eat(b':') {
                            return None;
                        }
                    }
                    self.skip(depth + 1)?;
                    if self.eat(close) {
                        return Some(());
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            // Kept as text: the grammar is all that matters here.
            _ => self.number().map(drop),
        }
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
        let bytes = "data:application/octet-stream;base64,AAEC";
        assert_eq!(read(&alloc::format!("\"{bytes}\"")), Some(s(bytes)));
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

    #[test]
    fn maps_and_mixed_arrays_keep_their_json_text() {
        let map = r#"{"user": {"id": 7, "roles": ["a", null]}}"#;
        assert_eq!(read(map), Some(s(map)));
        assert_eq!(read(" {} "), Some(s("{}")));
        assert_eq!(read(r#"[1, "a"]"#), Some(s(r#"[1, "a"]"#)));
        assert_eq!(read("[true, 1]"), Some(s("[true, 1]")));
        assert_eq!(read("[[1], [2]]"), Some(s("[[1], [2]]")));
        assert_eq!(read("[1, null]"), Some(s("[1, null]")));
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
        let deep = |n| alloc::format!("[{}{}]", "[".repeat(n), "]".repeat(n));
        assert!(read(&deep(MAX_DEPTH)).is_some());
        assert_eq!(read(&deep(MAX_DEPTH + 1)), None);
        assert_eq!(read(&deep(100_000)), None);
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
        assert_eq!(
            read(r#"{"a": 1e400}"#),
            Some(s(r#"{"a": 1e400}"#)),
            "a map keeps its text"
        );
    }

    #[test]
    fn a_body_is_its_string_or_its_text() {
        assert_eq!(read_body(r#""checkout failed""#), "checkout failed");
        assert_eq!(read_body(r#" {"order": 7} "#), r#"{"order": 7}"#);
        assert_eq!(read_body("42"), "42");
        assert_eq!(read_body("not json"), "not json");
        assert_eq!(read_body(r#""a" "b""#), r#""a" "b""#);
    }
}
