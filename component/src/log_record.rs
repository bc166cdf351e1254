//! The log model: a log record (OTLP `LogRecord`), what a page's console errors, uncaught
//! errors and `log()` calls become, linked to the span that was active when it was made.

use alloc::string::String;

use crate::model::{Attributes, TraceId, Value};

/// Highest OTLP `SeverityNumber` (`FATAL4`); 0 is `SEVERITY_NUMBER_UNSPECIFIED`.
pub const MAX_SEVERITY: u8 = 24;

/// A log record as it waits for export.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogRecord {
    /// When the event happened, Unix nanoseconds.
    pub time: u64,
    /// When the component took it, Unix nanoseconds: its batch's delay runs from then.
    pub observed_time: u64,
    /// OTLP `SeverityNumber`, 0 (unspecified) to [`MAX_SEVERITY`].
    pub severity_number: u8,
    /// The severity as its source names it (`error`, `warn`, ...); may be empty.
    pub severity_text: String,
    /// The body: a string from consoles, `log()` and the direct API; any value from
    /// `wasi:otel` (a map, say).
    pub body: Value,
    /// Its attributes (`exception.*`, `session.id`, ...).
    pub attributes: Attributes,
    /// The trace of the span it belongs to; all zero when it belongs to none.
    pub trace_id: TraceId,
    /// The span it belongs to; 0 when none.
    pub span_id: u64,
    /// That span's W3C trace flags.
    pub trace_flags: u8,
    /// Index of its instrumentation scope.
    pub scope: u32,
}
