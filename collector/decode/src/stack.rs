//! The lines of a JavaScript stack trace (`Error.stack`), as browsers write them: V8's
//! (Chromium, Node) `    at fn (url:line:column)` and `    at url:line:column`, and
//! SpiderMonkey's and JavaScriptCore's (Firefox, Safari) `fn@url:line:column`. A line is
//! split into its parts and written back with others; any other line (the message, an
//! `eval` frame, native code) is not a frame. Pure text, no I/O.

/// One frame's line, split into parts borrowed from it. Writing it back with
/// [`Frame::write`] and its own parts gives the line again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    style: Style,
    /// Everything before the function name: indentation and `at ` (with `async ` or
    /// `new `) for V8, indentation for the others.
    prefix: &'a str,
    /// The function name as written (`n`, `Object.n`, `n/<`); empty when there is none.
    pub function: &'a str,
    /// The script's URL.
    pub url: &'a str,
    /// Line in the script, from 1.
    pub line: u32,
    /// Column in the line, from 1.
    pub column: u32,
    /// Trailing whitespace (a `\r`), kept as it was.
    suffix: &'a str,
}

/// How a frame's line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `    at fn (url:line:column)`.
    V8Named,
    /// `    at url:line:column` (no function name).
    V8Bare,
    /// `fn@url:line:column` (the name may be empty).
    Gecko,
}

/// Where a frame points, to write it with: a URL (or source path), a line and a
/// column, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location<'s> {
    /// The script or source file.
    pub file: &'s str,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

impl<'a> Frame<'a> {
    /// The frame written on `line`, or `None` if the line is not one.
    pub fn parse(line: &'a str) -> Option<Frame<'a>> {
        let body = line.trim_end();
        let suffix = &line[body.len()..];
        let text = body.trim_start();
        let indent = &body[..body.len() - text.len()];
        if let Some(after_at) = text.strip_prefix("at ") {
            return Self::parse_v8(body, indent.len() + 3, after_at, suffix);
        }
        // Firefox names never hold '@'; URLs may (`/npm/@scope/pkg.js`): split at the first.
        let (function, location) = text.split_once('@')?;
        let (url, line_number, column) = parse_location(location)?;
        Some(Frame {
            style: Style::Gecko,
            prefix: indent,
            function,
            url,
            line: line_number,
            column,
            suffix,
        })
    }

    /// `body` from `at ` on: `[async |new ]fn (location)` or `location`.
    fn parse_v8(body: &'a str, at_end: usize, after_at: &'a str, suffix: &'a str) -> Option<Self> {
        let keyword = ["async ", "new "]
            .into_iter()
            .find(|k| after_at.starts_with(k))
            .map_or(0, str::len);
        let prefix = &body[..at_end + keyword];
        let rest = &after_at[keyword..];
        let (style, function, location) = match rest.strip_suffix(')') {
            Some(named) => {
                let (function, location) = named.split_once(" (")?;
                (Style::V8Named, function, location)
            }
            None => (Style::V8Bare, "", rest),
        };
        if style == Style::V8Bare && keyword > 0 {
            return None;
        }
        let (url, line, column) = parse_location(location)?;
        Some(Frame {
            style,
            prefix,
            function,
            url,
            line,
            column,
            suffix,
        })
    }

    /// Writes the frame in its own style with another `function` name (a V8 frame
    /// without one stays without) and `location`.
    pub fn write(&self, function: &str, location: Location<'_>, out: &mut String) {
        let Location { file, line, column } = location;
        let (prefix, suffix) = (self.prefix, self.suffix);
        let written = match self.style {
            Style::V8Named => format!("{prefix}{function} ({file}:{line}:{column}){suffix}"),
            Style::V8Bare => format!("{prefix}{file}:{line}:{column}{suffix}"),
            Style::Gecko => format!("{prefix}{function}@{file}:{line}:{column}{suffix}"),
        };
        out.push_str(&written);
    }
}

/// `url:line:column` with both numbers from 1 and a URL without whitespace (which
/// `eval` frames have: `eval at f (url:1:2), <anonymous>:1:1`).
fn parse_location(location: &str) -> Option<(&str, u32, u32)> {
    let (rest, column) = location.rsplit_once(':')?;
    let (url, line) = rest.rsplit_once(':')?;
    // Digits only, from 1, no leading zero (so that the frame writes back as it was).
    let number = |s: &str| -> Option<u32> {
        let n = s.parse().ok().filter(|&n| n > 0)?;
        (s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0')).then_some(n)
    };
    if url.is_empty() || url.contains(char::is_whitespace) {
        return None;
    }
    Some((url, number(line)?, number(column)?))
}

/// `function` (as a frame names it) with its own name replaced by `original`: the last
/// of its dot-separated parts when that is a plain identifier, as minifiers write them
/// (`n` -> `applyDiscount`, `Object.n` -> `Object.applyDiscount`). `None` for names of
/// any other shape (`n/<`, `fn [as x]`, `<anonymous>`, none).
pub fn renamed(function: &str, original: &str) -> Option<String> {
    let (owner, own) = match function.rsplit_once('.') {
        Some((owner, own)) => (Some(owner), own),
        None => (None, function),
    };
    let identifier = |s: &str| {
        s.chars().next().is_some_and(|c| !c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    };
    if !identifier(own) || !owner.is_none_or(|o| o.split('.').all(identifier)) {
        return None;
    }
    Some(match owner {
        Some(owner) => format!("{owner}.{original}"),
        None => original.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(line: &str) -> Option<(&str, &str, u32, u32)> {
        Frame::parse(line).map(|f| (f.function, f.url, f.line, f.column))
    }

    /// Writing a frame back with its own parts gives its line.
    fn round_trips(line: &str) {
        let frame = Frame::parse(line).unwrap();
        let location = Location {
            file: frame.url,
            line: frame.line,
            column: frame.column,
        };
        let mut out = String::new();
        frame.write(frame.function, location, &mut out);
        assert_eq!(out, line);
    }

    #[test]
    fn v8_frames_with_and_without_a_name() {
        let named = "    at n (https://app.example.com/assets/app-3f2a.js:1:45)";
        assert_eq!(
            parts(named),
            Some(("n", "https://app.example.com/assets/app-3f2a.js", 1, 45))
        );
        let bare = "    at https://app.example.com/assets/app.js:1:146";
        assert_eq!(
            parts(bare),
            Some(("", "https://app.example.com/assets/app.js", 1, 146))
        );
        for line in [named, bare] {
            round_trips(line);
        }
    }

    #[test]
    fn v8_keywords_receivers_and_aliases_stay_around_the_name() {
        let frame =
            Frame::parse("    at async Object.c [as run] (https://a.test/x.js:2:9)\r").unwrap();
        assert_eq!(frame.function, "Object.c [as run]");
        assert_eq!(
            (frame.url, frame.line, frame.column),
            ("https://a.test/x.js", 2, 9)
        );
        let mut out = String::new();
        let source = Location {
            file: "https://a.test/src/main.js",
            line: 4,
            column: 17,
        };
        frame.write("Object.checkout", source, &mut out);
        assert_eq!(
            out,
            "    at async Object.checkout (https://a.test/src/main.js:4:17)\r"
        );
        assert_eq!(
            parts("    at new t (https://a.test/x.js:1:5)").unwrap().0,
            "t"
        );
        round_trips("    at new t (https://a.test/x.js:1:5)");
        round_trips("    at async Object.c [as run] (https://a.test/x.js:2:9)\r");
    }

    #[test]
    fn firefox_and_safari_frames() {
        assert_eq!(
            parts("n@https://app.example.com/assets/app.js:1:45"),
            Some(("n", "https://app.example.com/assets/app.js", 1, 45))
        );
        assert_eq!(
            parts("@https://cdn.example.com/npm/@scope/pkg/dist/index.js:3:7"),
            Some((
                "",
                "https://cdn.example.com/npm/@scope/pkg/dist/index.js",
                3,
                7
            ))
        );
        assert_eq!(parts("c/<@https://a.test/x.js:1:2").unwrap().0, "c/<");
        assert_eq!(
            parts("global code@https://a.test/x.js:9:1").unwrap().0,
            "global code"
        );
        for line in [
            "n@https://app.example.com/assets/app.js:1:45",
            "@https://a.test/x.js:1:2",
            "global code@https://a.test/x.js:9:1",
        ] {
            round_trips(line);
        }
    }

    #[test]
    fn other_lines_are_not_frames() {
        for line in [
            "RangeError: unknown discount code BOGUS",
            "",
            "    at new Promise (<anonymous>)",
            "    at Array.map (<anonymous>)",
            "    at native",
            "    at eval (eval at run (https://a.test/x.js:1:2), <anonymous>:1:1)",
            "f@https://a.test/x.js line 2 > eval:1:5",
            "forEach@[native code]",
            "    at f (https://a.test/x.js:0:5)",
            "    at f (https://a.test/x.js:1:+5)",
            "    at f (https://a.test/x.js:1)",
            "    at f (:1:2)",
            "    at async https://a.test/x.js:1:2",
            "    at f (https://a.test/x.js:99999999999:1)",
        ] {
            assert_eq!(Frame::parse(line), None, "{line:?}");
        }
    }

    #[test]
    fn renaming_replaces_only_a_plain_identifier() {
        assert_eq!(
            renamed("n", "applyDiscount").as_deref(),
            Some("applyDiscount")
        );
        assert_eq!(
            renamed("Object.n", "applyDiscount").as_deref(),
            Some("Object.applyDiscount")
        );
        assert_eq!(renamed("$e", "update").as_deref(), Some("update"));
        for shape in [
            "",
            "n/<",
            "Object.c [as run]",
            "Object.<anonymous>",
            "1x",
            "global code",
            "a..b",
        ] {
            assert_eq!(renamed(shape, "x"), None, "{shape:?}");
        }
    }
}
