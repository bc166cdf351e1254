//! W3C Trace Context: `traceparent` and `tracestate` parsing and formatting, with the
//! rejections the W3C recommendation requires.

use alloc::{string::String, vec::Vec};

use crate::model::{SpanContext, TraceId};
use crate::msg::{concat, int};

/// Longest `tracestate` the W3C spec asks implementations to propagate, in members.
const MAX_TRACESTATE_MEMBERS: usize = 32;

/// Formats a `traceparent` header (version 00).
pub fn format_traceparent(ctx: &SpanContext) -> String {
    let mut out = String::with_capacity(55);
    out.push_str("00-");
    push_hex(&mut out, ctx.trace_id.hi, 16);
    push_hex(&mut out, ctx.trace_id.lo, 16);
    out.push('-');
    push_hex(&mut out, ctx.span_id, 16);
    out.push('-');
    push_hex(&mut out, ctx.trace_flags.into(), 2);
    out
}

/// The low `digits` hex digits of `n`, lowercase, zero-padded.
fn push_hex(out: &mut String, n: u64, digits: u32) {
    for shift in (0..digits).rev() {
        out.push(char::from(
            b"0123456789abcdef"[(n >> (shift * 4)) as usize & 0xf],
        ));
    }
}

/// Parses `traceparent` (and `tracestate`) into a remote span context. An invalid
/// `traceparent` is an error; an invalid `tracestate` is discarded.
pub fn extract(traceparent: &str, tracestate: Option<&str>) -> Result<SpanContext, String> {
    let (trace_id, span_id, trace_flags) = parse_traceparent(traceparent)?;
    let trace_state = tracestate
        .and_then(|ts| validate_tracestate(ts).ok())
        .unwrap_or_default();
    Ok(SpanContext {
        trace_id,
        span_id,
        trace_flags,
        trace_state,
        is_remote: true,
    })
}

/// Parses `version-traceid-parentid-flags`.
fn parse_traceparent(header: &str) -> Result<(TraceId, u64, u8), String> {
    let header = trim_ows(header);
    let bytes = header.as_bytes();
    if bytes.len() < 55 {
        return Err(concat(&[
            "traceparent must be 55 characters, got ",
            &int(bytes.len()),
        ]));
    }
    let version = hex_field(&bytes[0..2], "version")? as u8;
    if version == 0xff {
        return Err("traceparent version ff is invalid".into());
    }
    if version == 0 && bytes.len() != 55 {
        return Err(concat(&[
            "traceparent version 00 must be 55 characters, got ",
            &int(bytes.len()),
        ]));
    }
    // A higher version may append fields, separated by '-'.
    if bytes.len() > 55 && bytes[55] != b'-' {
        return Err("traceparent has data after the flags without a '-' separator".into());
    }
    if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return Err("traceparent fields must be separated by '-'".into());
    }
    let trace_id = TraceId {
        hi: hex_field(&bytes[3..19], "trace-id")?,
        lo: hex_field(&bytes[19..35], "trace-id")?,
    };
    if !trace_id.is_valid() {
        return Err("traceparent trace-id is all zeros".into());
    }
    let span_id = hex_field(&bytes[36..52], "parent-id")?;
    if span_id == 0 {
        return Err("traceparent parent-id is all zeros".into());
    }
    let flags = hex_field(&bytes[53..55], "trace-flags")? as u8;
    Ok((trace_id, span_id, flags))
}

/// Reads lowercase hex digits (the spec forbids upper case).
fn hex_field(digits: &[u8], what: &str) -> Result<u64, String> {
    digits.iter().try_fold(0u64, |acc, &c| {
        let nibble = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return Err(concat(&["traceparent ", what, " must be lowercase hex"])),
        };
        Ok(acc << 4 | u64::from(nibble))
    })
}

/// Checks a `tracestate` header and returns it normalised (empty members removed).
pub fn validate_tracestate(header: &str) -> Result<String, String> {
    let mut normalised = String::with_capacity(header.len());
    let mut keys: Vec<&str> = Vec::new();
    // Patterns here are one-char arrays (`[',']`), not chars: the `char` searcher (memchr
    // and its slicing) would bring its code and core's slice-index panic messages along.
    for member in header.split([',']).map(trim_ows).filter(|m| !m.is_empty()) {
        let (key, value) = member
            .split_once(['='])
            .ok_or_else(|| concat(&["tracestate member \"", member, "\" has no '='"]))?;
        if !valid_key(key) {
            return Err(concat(&["tracestate key \"", key, "\" is invalid"]));
        }
        if !valid_value(value) {
            return Err(concat(&["tracestate value for \"", key, "\" is invalid"]));
        }
        if keys.contains(&key) {
            return Err(concat(&["tracestate key \"", key, "\" appears twice"]));
        }
        if !keys.is_empty() {
            normalised.push(',');
        }
        normalised.push_str(member);
        keys.push(key);
    }
    if keys.len() > MAX_TRACESTATE_MEMBERS {
        return Err(concat(&[
            "tracestate has ",
            &int(keys.len()),
            " members, at most ",
            &int(MAX_TRACESTATE_MEMBERS),
            " allowed",
        ]));
    }
    Ok(normalised)
}

/// A `tracestate` from key-value pairs (`wasi:otel`'s `trace-state`), or none when a key
/// or value is invalid, a key repeats, or there are more than 32 pairs: the proposal
/// treats such a list as empty. Each pair is checked as it is, so a value holding `,` or
/// `=` cannot smuggle in members.
pub fn tracestate_from_pairs<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<String> {
    let mut out = String::new();
    let mut keys: Vec<&str> = Vec::new();
    for (key, value) in pairs {
        if !valid_key(key) || !valid_value(value) || keys.contains(&key) {
            return None;
        }
        if !keys.is_empty() {
            out.push(',');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
        keys.push(key);
    }
    (keys.len() <= MAX_TRACESTATE_MEMBERS).then_some(out)
}

/// `s` without leading and trailing spaces and tabs (the optional white space around
/// header values and `tracestate` members). Byte-wise: `trim_matches` with a char
/// pattern decodes UTF-8 from both ends, several hundred bytes of code in the download.
fn trim_ows(s: &str) -> &str {
    let text = |b: &u8| *b != b' ' && *b != b'\t';
    let bytes = s.as_bytes();
    let start = bytes.iter().position(text).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(text).map_or(start, |last| last + 1);
    // Both ends are next to ASCII bytes, so at character boundaries: `get` never fails.
    s.get(start..end).unwrap_or_default()
}

/// `simple-key` or `tenant-id@system-id` per W3C Trace Context.
fn valid_key(key: &str) -> bool {
    let key_char = |c: u8| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/');
    let starts_ok = |s: &str, first_digit_ok: bool| {
        s.as_bytes()
            .first()
            .is_some_and(|&c| c.is_ascii_lowercase() || (first_digit_ok && c.is_ascii_digit()))
    };
    // `['@']`, not `'@'`: see `validate_tracestate`.
    match key.split_once(['@']) {
        None => key.len() <= 256 && starts_ok(key, true) && key.bytes().all(key_char),
        Some((tenant, system)) => {
            tenant.len() <= 241
                && system.len() <= 14
                && starts_ok(tenant, true)
                && starts_ok(system, false)
                && tenant.bytes().all(key_char)
                && system.bytes().all(key_char)
        }
    }
}

/// Up to 256 printable ASCII characters except ',' and '=', not ending in a space.
fn valid_value(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 256
        && !value.ends_with(' ')
        && value
            .bytes()
            .all(|c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn round_trips() {
        let ctx = extract(GOOD, Some("congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")).unwrap();
        assert_eq!(
            ctx.trace_id,
            TraceId {
                hi: 0x4bf92f3577b34da6,
                lo: 0xa3ce929d0e0e4736
            }
        );
        assert_eq!(ctx.span_id, 0x00f067aa0ba902b7);
        assert!(ctx.is_sampled() && ctx.is_remote);
        assert_eq!(ctx.trace_state, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
        assert_eq!(format_traceparent(&ctx), GOOD);
    }

    #[test]
    fn formats_zero_padded_lowercase_hex() {
        let ctx = SpanContext {
            trace_id: TraceId {
                hi: 1,
                lo: u64::MAX,
            },
            span_id: 0xab,
            trace_flags: 1,
            trace_state: String::new(),
            is_remote: false,
        };
        assert_eq!(
            format_traceparent(&ctx),
            "00-0000000000000001ffffffffffffffff-00000000000000ab-01"
        );
    }

    #[test]
    fn rejects_what_w3c_rejects() {
        for bad in [
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "",
        ] {
            assert!(extract(bad, None).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn accepts_future_versions_with_more_fields() {
        let ctx = extract(
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future",
            None,
        )
        .unwrap();
        assert_eq!(ctx.span_id, 0x00f067aa0ba902b7);
        assert!(
            extract(
                "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
                None
            )
            .is_err()
        );
    }

    #[test]
    fn tracestate_errors_name_the_offending_text() {
        let why = |header| validate_tracestate(header).unwrap_err();
        assert_eq!(why("Upper=1"), "tracestate key \"Upper\" is invalid");
        assert_eq!(why("a=1,a=2"), "tracestate key \"a\" appears twice");
        assert_eq!(why("novalue"), "tracestate member \"novalue\" has no '='");
        assert_eq!(why("k=a=b"), "tracestate value for \"k\" is invalid");
        let many: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(
            why(&many.join(",")),
            "tracestate has 33 members, at most 32 allowed"
        );
        assert_eq!(
            extract("00-1", None).unwrap_err(),
            "traceparent must be 55 characters, got 4"
        );
    }

    #[test]
    fn trims_spaces_and_tabs_only() {
        assert_eq!(trim_ows(" \t a b\t "), "a b");
        assert_eq!(trim_ows("\né "), "\né");
        assert_eq!(trim_ows(" \t"), "");
        assert_eq!(trim_ows(""), "");
    }

    #[test]
    fn invalid_tracestate_is_dropped_not_fatal() {
        for bad in [
            "Upper=1",
            "a=1,a=2",
            "novalue",
            "k=va,lue=",
            "1tenant@Sys=1",
        ] {
            let ctx = extract(GOOD, Some(bad)).unwrap();
            assert_eq!(ctx.trace_state, "", "{bad} was kept");
        }
        assert_eq!(
            extract(GOOD, Some("t@sys=1,,x=2")).unwrap().trace_state,
            "t@sys=1,x=2"
        );
        let many: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(
            extract(GOOD, Some(&many.join(","))).unwrap().trace_state,
            ""
        );
    }

    #[test]
    fn tracestate_pairs_are_checked_one_by_one() {
        assert_eq!(
            tracestate_from_pairs([("congo", "t61rcWkgMzE"), ("rojo", "00f067aa0ba902b7")]),
            Some("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7".into())
        );
        assert_eq!(tracestate_from_pairs([]), Some(String::new()));
        for pairs in [
            [("a", "1,b=2")],
            [(" a", "1")],
            [("A", "1")],
            [("a", "x=1")],
            [("a", "trailing ")],
            [("", "1")],
        ] {
            assert_eq!(tracestate_from_pairs(pairs), None, "{pairs:?}");
        }
        assert_eq!(tracestate_from_pairs([("a", "1"), ("a", "2")]), None);
        let keys: Vec<String> = (0..33).map(|i| alloc::format!("k{i}")).collect();
        assert_eq!(
            tracestate_from_pairs(keys.iter().map(|k| (k.as_str(), "v"))),
            None
        );
    }
}
