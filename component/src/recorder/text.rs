//! Reads the strings of a recorded batch, in order, out of one concatenated string.
//! Lengths are in UTF-16 code units because that is what JavaScript's `String.length`
//! counts; the text arrives here as UTF-8.

/// A cursor over a batch's concatenated text.
pub struct TextCursor<'a> {
    rest: &'a str,
}

impl<'a> TextCursor<'a> {
    /// Starts at the beginning of `text`.
    pub fn new(text: &'a str) -> Self {
        TextCursor { rest: text }
    }

    /// The next string, `units` UTF-16 code units long; `None` if the text is shorter or
    /// the length would split a surrogate pair.
    pub fn take(&mut self, units: u32) -> Option<&'a str> {
        let bytes = self.rest.as_bytes();
        // Most strings (names, keys, URLs) are ASCII: one byte per unit, checked a word
        // at a time by `is_ascii`.
        let i = match bytes.get(..units as usize) {
            Some(prefix) if prefix.is_ascii() => prefix.len(),
            _ => utf8_len(bytes, units)?,
        };
        let (taken, rest) = (self.rest.get(..i)?, self.rest.get(i..)?);
        self.rest = rest;
        Some(taken)
    }
}

/// Bytes of the first `units` UTF-16 code units of the UTF-8 `bytes`; `None` if `bytes`
/// is shorter or the count would split a surrogate pair.
fn utf8_len(bytes: &[u8], units: u32) -> Option<usize> {
    let (mut i, mut seen) = (0usize, 0u32);
    while seen < units {
        // Lengths of a UTF-8 sequence, by lead byte, and its UTF-16 units.
        let (len, width) = match *bytes.get(i)? {
            0x00..=0x7f => (1, 1),
            0xc0..=0xdf => (2, 1),
            0xe0..=0xef => (3, 1),
            _ => (4, 2),
        };
        i += len;
        seen += width;
    }
    (seen == units).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_by_utf16_length() {
        let mut text = TextCursor::new("abé€😀z");
        assert_eq!(text.take(2), Some("ab"));
        assert_eq!(text.take(2), Some("é€"));
        assert_eq!(text.take(0), Some(""));
        assert_eq!(text.take(1), None, "would split the surrogate pair");
    }

    #[test]
    fn refuses_past_the_end() {
        let mut text = TextCursor::new("abc");
        assert_eq!(text.take(4), None);
        assert_eq!(text.take(3), Some("abc"));
    }
}
