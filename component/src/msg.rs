//! Pieces of error messages, built without `core::fmt`: `format!` and `{:?}` pull float
//! formatting (Grisu and Dragon4) and Unicode escaping tables into the component, about a
//! quarter of its size in a browser. Messages are [`concat`]s of these and of the
//! offending text itself, in double quotes as it came.

use alloc::string::String;

/// The parts one after another: `[..].concat()`, whose generic code (`join_generic_copy`,
/// unrolled per separator length) is about 1 KB of code in the browser download.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        out.push_str(part);
    }
    out
}

/// An integer in decimal.
pub fn int(n: impl itoa::Integer) -> String {
    itoa::Buffer::new().format(n).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(int(0u32), "0");
        assert_eq!(int(-42i64), "-42");
        assert_eq!(int(usize::MAX), usize::MAX.to_string());
    }
}
