//! Attribute values as `wasi:otel` carries them: OTLP `AnyValue`s written as JSON text.

/// A JSON string holding `text`.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON array of strings.
pub fn strings(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|item| string(item)).collect();
    format!("[{}]", items.join(","))
}

/// A JSON object of string values (a map: `AnyValue`'s `kvlistValue`).
pub fn map(entries: &[(&str, &str)]) -> String {
    let entries: Vec<String> = entries
        .iter()
        .map(|(key, value)| format!("{}:{}", string(key), string(value)))
        .collect();
    format!("{{{}}}", entries.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c\nd\u{1}é"), r#""a\"b\\c\nd\u0001é""#);
        assert_eq!(strings(&["a", "b"]), r#"["a","b"]"#);
        assert_eq!(strings(&[]), "[]");
        assert_eq!(
            map(&[("city", "Lyon"), ("bay", "B2")]),
            r#"{"city":"Lyon","bay":"B2"}"#
        );
    }
}
