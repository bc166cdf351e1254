//! The recorder's wire format: how a host writes span operations into an `op-batch`
//! (`words: list<u32>`, `numbers: list<f64>`, `text: string`).
//!
//! Span operations name their span by its span ID as two words (high, low); the settings
//! operations (`CONFIGURE`, `SCOPE`, `CLOCK`) and `LOG` name none. Strings are consumed from
//! `text` in order; each string operand is its length in UTF-16 code units. Times are
//! milliseconds after the batch's time origin, taken from `numbers` in order.
//!
//! | op | words after the opcode | numbers |
//! |---|---|---|
//! | `START` = 1 | span ID (2), trace ID (4, big-endian), parent span ID (2; 0 0 = root), flags (bits 0-7 W3C trace flags, bit 8 parent is remote), kind (0 internal .. 4 consumer), scope, name length, tracestate length | start |
//! | `ATTR` = 2 | span ID (2), attribute | (attribute's) |
//! | `EVENT` = 3 | span ID (2), name length, attribute count n, n attributes | time, then the attributes' |
//! | `LINK` = 4 | span ID (2), trace ID (4), linked span ID (2), flags, tracestate length, n, n attributes | (attributes') |
//! | `STATUS` = 5 | span ID (2), code (0 unset, 1 ok, 2 error), message length | |
//! | `END` = 6 | span ID (2) | end |
//! | `NAME` = 7 | span ID (2), name length | |
//! | `CONFIGURE` = 8 | sampler (0 always on, 1 always off, 2 trace-ID ratio, 3 parent-based ratio), the 5 span limits and the 5 batch settings in `types.config`'s order, n, n resource attributes, then the default scope as in `SCOPE` | ratio (read whatever the sampler) |
//! | `SCOPE` = 9 | name length, version length, n, n attributes; registers the next scope index (1, 2, ...) | |
//! | `LOG` = 10 | trace ID (4; all 0: none), span ID (2; 0 0: none), trace flags, severity number (0-24), scope, severity text length, body length, n, n attributes | time |
//! | `CLOCK` = 11 | | the host clock's correction in milliseconds (added to every time encoded from then on) |
//!
//! An attribute is: key length, type, payload. Types: 0 string (length), 1 bool (0/1),
//! 2 s64 (high, low words, two's complement), 3 f64 (the length of its text, a JSON
//! number such as JavaScript's `String(x)`; other text, `NaN` say, is a non-finite value
//! and the attribute is dropped and counted), 4 string array (n, n lengths), 5 bool
//! array (n, n words), 6 s64 array (n, n word pairs), 7 f64 array (n, n lengths of texts).
//!
//! This file is the format's one source: the wasmtime-host tests write batches with these
//! constants, and a test below checks that the browser SDK's writer
//! (`browser-glue/src/core/ops.ts`) uses the same numbers.
//!
//! A `START` whose sampled flag is clear is ignored: unsampled spans need no recording,
//! and the host sends no further operations for them (they would be refused as unknown).

/// Opcode: start a span.
pub const START: u32 = 1;
/// Opcode: set one attribute.
pub const ATTR: u32 = 2;
/// Opcode: add an event.
pub const EVENT: u32 = 3;
/// Opcode: add a link.
pub const LINK: u32 = 4;
/// Opcode: set the status.
pub const STATUS: u32 = 5;
/// Opcode: end a span.
pub const END: u32 = 6;
/// Opcode: rename a span.
pub const NAME: u32 = 7;
/// Opcode: replace the configuration (`setup.configure`).
pub const CONFIGURE: u32 = 8;
/// Opcode: register an instrumentation scope (`setup.register-scope`).
pub const SCOPE: u32 = 9;
/// Opcode: emit a log record.
pub const LOG: u32 = 10;
/// Opcode: correct the host's clock (`Tracer::set_clock_correction`).
pub const CLOCK: u32 = 11;

/// Status codes of `STATUS`.
pub mod status {
    /// No status.
    pub const UNSET: u32 = 0;
    /// Ok (final).
    pub const OK: u32 = 1;
    /// Error, with a message.
    pub const ERROR: u32 = 2;
}

/// Attribute type tags.
pub mod value_type {
    /// UTF-16 length of a string.
    pub const STRING: u32 = 0;
    /// One word, 0 or 1.
    pub const BOOL: u32 = 1;
    /// Two words.
    pub const S64: u32 = 2;
    /// The length of its text (a JSON number).
    pub const F64: u32 = 3;
    /// Count, then lengths.
    pub const STRING_ARRAY: u32 = 4;
    /// Count, then words.
    pub const BOOL_ARRAY: u32 = 5;
    /// Count, then word pairs.
    pub const S64_ARRAY: u32 = 6;
    /// Count, then lengths of texts.
    pub const F64_ARRAY: u32 = 7;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The members of `const enum NAME { A = 1, ... }` in TypeScript source.
    fn typescript_enum(source: &str, name: &str) -> Vec<(String, u32)> {
        let start = source
            .find(&format!("const enum {name} {{"))
            .unwrap_or_else(|| panic!("enum {name} in ops.ts"));
        let body = &source[start..];
        let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
        body.split(',')
            .filter_map(|member| member.split_once('='))
            .map(|(key, value)| (key.trim().to_owned(), value.trim().parse().unwrap()))
            .collect()
    }

    #[test]
    fn the_browser_writer_uses_these_numbers() {
        let ts = include_str!("../../../browser-glue/src/core/ops.ts");
        let ops = [
            ("Start", START),
            ("Attr", ATTR),
            ("Event", EVENT),
            ("Link", LINK),
            ("Status", STATUS),
            ("End", END),
            ("Name", NAME),
            ("Configure", CONFIGURE),
            ("Scope", SCOPE),
            ("Log", LOG),
            ("Clock", CLOCK),
        ];
        let expected: Vec<_> = ops.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(typescript_enum(ts, "Op"), expected);
        use value_type::*;
        let types = [
            ("String", STRING),
            ("Bool", BOOL),
            ("S64", S64),
            ("F64", F64),
            ("StringArray", STRING_ARRAY),
            ("BoolArray", BOOL_ARRAY),
            ("S64Array", S64_ARRAY),
            ("F64Array", F64_ARRAY),
        ];
        let expected: Vec<_> = types.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(typescript_enum(ts, "Type"), expected);
        let span = include_str!("../../../browser-glue/src/core/span.ts");
        let statuses = [
            ("Unset", status::UNSET),
            ("Ok", status::OK),
            ("Error", status::ERROR),
        ];
        let expected: Vec<_> = statuses.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(typescript_enum(span, "StatusCode"), expected);
    }
}
