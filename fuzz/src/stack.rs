//! Stack traces into the collector's frame parser (`collector/decode/src/stack.rs`): each
//! line that parses as a frame must write back, with its own parts, as the same line, and
//! renaming its function must not fail.

use collector_decode::stack::{Frame, Location, renamed};

/// Runs one input (as text, invalid UTF-8 replaced).
pub fn stack_trace(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.split('\n') {
        let Some(frame) = Frame::parse(line) else {
            continue;
        };
        let location = Location {
            file: frame.url,
            line: frame.line,
            column: frame.column,
        };
        let mut written = String::new();
        frame.write(frame.function, location, &mut written);
        assert_eq!(written, line, "a frame writes back as its line");
        let _ = renamed(frame.function, "original");
    }
}
