//! OTLP/HTTP trace and logs request bodies to [`model::Request`] and
//! [`model::LogsRequest`], within limits, without I/O.
//!
//! A body is inflated first if it was sent with gzip ([`gzip::gunzip`], which stops at a
//! size limit), then decoded by its format ([`Format`]) into the borrowed model, by this
//! crate's own decoders: OTLP JSON ([`json::decode`], [`json::decode_logs`]) and OTLP
//! protobuf ([`protobuf::decode`], [`protobuf::decode_logs`]). Both borrow strings from
//! the body (every protobuf string, JSON strings without escapes) and charge what they
//! allocate against a memory budget before allocating it. Traces and logs share
//! everything but their items (spans, log records): each decoder is written once for
//! both signals.
//!
//! The way back, for storing: [`encode`] writes the model's spans, log records,
//! resources and scopes as OTLP protobuf straight from the borrowed structures, the same
//! bytes as prost writes for opentelemetry-proto's messages, without building those
//! messages.
//!
//! [`stack`] splits the lines of a JavaScript stack trace (an `exception.stacktrace`
//! attribute's value) into frames, for mapping them to their sources.
//!
//! Everything here parses untrusted bytes: it is fuzzed (`fuzz/`) and checked by property
//! tests against opentelemetry-proto, for both signals: the JSON decoder against its
//! serde model, the protobuf decoder against prost's decoding of its messages (on random
//! fields and mutated bodies too), the encoder's bytes against prost's.

use std::fmt;

pub mod encode;
pub mod gzip;
pub mod json;
pub mod model;
pub mod protobuf;
mod signal;
pub mod stack;

/// The payload encoding of an export request, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`: OTLP JSON.
    Json,
    /// `application/x-protobuf`: OTLP protobuf.
    Protobuf,
}

impl Format {
    /// The format of a `Content-Type` header value (parameters such as `charset` are
    /// ignored), or `None` for any other media type.
    pub fn from_content_type(value: &str) -> Option<Format> {
        let media_type = value.split(';').next().unwrap_or("").trim();
        if media_type.eq_ignore_ascii_case("application/json") {
            Some(Format::Json)
        } else if media_type.eq_ignore_ascii_case("application/x-protobuf") {
            Some(Format::Protobuf)
        } else {
            None
        }
    }

    /// The memory a decoded request may take per byte of its (inflated) body in this
    /// format, which the collector reserves before decoding it. Spans decode to 0.5 to 2
    /// times their JSON and 2 to 12 times their protobuf (only the model's lists are
    /// allocated; attributes with short keys and empty or boolean values, and arrays of
    /// empty values, are the densest); bodies of many tiny values (empty objects in JSON,
    /// empty messages in protobuf: over 100 times) are refused.
    pub fn decoded_bytes_per_body_byte(self) -> usize {
        match self {
            Format::Json => 16,
            Format::Protobuf => 16,
        }
    }

    /// The memory a body of `body_len` (inflated) bytes in this format may take decoded:
    /// [`Format::decoded_bytes_per_body_byte`] times its length, counted as at least
    /// [`MIN_CHARGED_BODY`].
    pub fn decoded_bytes_for(self, body_len: usize) -> usize {
        body_len
            .max(MIN_CHARGED_BODY)
            .saturating_mul(self.decoded_bytes_per_body_byte())
    }

    /// The `Content-Type` of responses in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Protobuf => "application/x-protobuf",
        }
    }
}

/// What decoding one request may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most spans in one trace request, or log records in one logs request (the
    /// collector's `--max-spans-per-request` limits both).
    pub max_spans: usize,
    /// Most bytes of memory the decoded request may take: what decoding allocates for it
    /// (its lists, and the strings JSON could not borrow), charged before it is allocated.
    pub max_decoded_bytes: usize,
}

/// Small bodies are charged as if this long: a decoded list starts with room for several
/// items, which must fit the budget of even the smallest request.
pub const MIN_CHARGED_BODY: usize = 4096;

impl Limits {
    /// The limits for a body of `body_len` bytes in `format` holding at most `max_spans`
    /// spans, or log records (see [`Format::decoded_bytes_per_body_byte`]).
    pub fn for_body(format: Format, body_len: usize, max_spans: usize) -> Limits {
        Limits {
            max_spans,
            max_decoded_bytes: format.decoded_bytes_for(body_len),
        }
    }
}

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The body inflates to more than the limit (bytes).
    TooLargeDecompressed(usize),
    /// The request holds more spans than the limit.
    TooManySpans(usize),
    /// The logs request holds more log records than the limit ([`Limits::max_spans`]).
    TooManyLogRecords(usize),
    /// Decoded, the request would take more than this many bytes of memory.
    TooComplex(usize),
    /// The body is not valid gzip, OTLP JSON or OTLP protobuf; the text says where.
    Malformed(String),
}

impl DecodeError {
    /// Attribute values (or log bodies) nested deeper than [`model::MAX_VALUE_DEPTH`].
    pub(crate) fn too_deep() -> DecodeError {
        DecodeError::Malformed(format!(
            "attribute values or log bodies are nested more than {} levels deep (arrayValue, kvlistValue)",
            model::MAX_VALUE_DEPTH
        ))
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooLargeDecompressed(limit) => write!(
                f,
                "the body inflates to more than {limit} bytes (--max-decompressed)"
            ),
            DecodeError::TooManySpans(limit) => write!(
                f,
                "the request holds more than {limit} spans (--max-spans-per-request); send smaller batches"
            ),
            DecodeError::TooManyLogRecords(limit) => write!(
                f,
                "the request holds more than {limit} log records (--max-spans-per-request); send smaller batches"
            ),
            DecodeError::TooComplex(bytes) => write!(
                f,
                "the body holds too many tiny values for its size: decoded it would take more \
                 than the {bytes} bytes of memory allowed for it"
            ),
            DecodeError::Malformed(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(
            Format::from_content_type("application/json; charset=utf-8"),
            Some(Format::Json)
        );
        assert_eq!(
            Format::from_content_type("Application/X-Protobuf"),
            Some(Format::Protobuf)
        );
        assert_eq!(Format::from_content_type("text/plain"), None);
        assert_eq!(Format::from_content_type(""), None);
    }
}
