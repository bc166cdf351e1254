//! `wasi:otel`'s trace and span IDs: hex text (32 and 16 digits; read in either case,
//! written in lowercase), read into the model's integers and written back. What is not such text reads as the invalid (zero)
//! ID, which OpenTelemetry treats as "no span".

use alloc::string::String;

use crate::model::TraceId;

/// A 32-digit trace ID; zero (invalid) if `text` is not 32 hex digits.
pub fn trace_id(text: &str) -> TraceId {
    let (hi, lo) = text.as_bytes().split_at_checked(16).unwrap_or_default();
    match (hi.len() == 16 && lo.len() == 16, digits(hi), digits(lo)) {
        (true, Some(hi), Some(lo)) => TraceId { hi, lo },
        _ => TraceId::default(),
    }
}

/// A 16-digit span ID; 0 (invalid) if `text` is not 16 hex digits.
pub fn span_id(text: &str) -> u64 {
    if text.len() == 16 {
        digits(text.as_bytes()).unwrap_or(0)
    } else {
        0
    }
}

/// Hex digits (either case: the proposal does not say which) as a number.
fn digits(text: &[u8]) -> Option<u64> {
    text.iter().try_fold(0u64, |acc, &c| {
        let nibble = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        Some(acc << 4 | u64::from(nibble))
    })
}

/// A trace ID as 32 lowercase hex digits.
pub fn format_trace_id(id: TraceId) -> String {
    let mut out = String::with_capacity(32);
    push(&mut out, id.hi);
    push(&mut out, id.lo);
    out
}

/// A span ID as 16 lowercase hex digits.
pub fn format_span_id(id: u64) -> String {
    let mut out = String::with_capacity(16);
    push(&mut out, id);
    out
}

fn push(out: &mut String, n: u64) {
    for shift in (0..16).rev() {
        out.push(char::from(
            b"0123456789abcdef"[(n >> (shift * 4)) as usize & 0xf],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_and_write_back() {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let id = trace_id(trace);
        assert_eq!(
            id,
            TraceId {
                hi: 0x4bf9_2f35_77b3_4da6,
                lo: 0xa3ce_929d_0e0e_4736
            }
        );
        assert_eq!(format_trace_id(id), trace);
        assert_eq!(trace_id(&trace.to_uppercase()), id);
        assert_eq!(span_id("00f067aa0ba902b7"), 0x00f0_67aa_0ba9_02b7);
        assert_eq!(format_span_id(0x00f0_67aa_0ba9_02b7), "00f067aa0ba902b7");
        assert_eq!(format_span_id(0), "0000000000000000");
    }

    #[test]
    fn anything_else_is_the_invalid_id() {
        for text in [
            "",
            "4bf9",
            "4bf92f3577b34da6a3ce929d0e0e473",
            "4bf92f3577b34da6a3ce929d0e0e4736f",
            "4bf92f3577b34da6a3ce929d0e0e473g",
            "-bf92f3577b34da6a3ce929d0e0e4736",
            "é4bf92f3577b34da6a3ce929d0e0e47",
        ] {
            assert!(!trace_id(text).is_valid(), "{text:?}");
        }
        for text in [
            "",
            "00f067aa0ba902b",
            "00f067aa0ba902b7a",
            "+0f067aa0ba902b7",
            "00f067aa0ba902bé",
        ] {
            assert_eq!(span_id(text), 0, "{text:?}");
        }
    }
}
