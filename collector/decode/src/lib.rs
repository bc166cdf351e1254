//! OTLP/HTTP trace request bodies to [`model::Request`], within limits, without I/O.
//!
//! A body is inflated first if it was sent with gzip ([`gzip::gunzip`], which stops at a
//! size limit), then decoded by its format ([`Format`]): OTLP JSON by this crate's own
//! decoder ([`json::decode`]), which borrows strings from the body and counts every
//! value it builds against a memory budget; OTLP protobuf by prost
//! ([`protobuf::decode`]), after a walk of the wire format that counts spans and
//! messages, then viewed as the same model ([`model::Request::from_proto`]).
//!
//! Everything here parses untrusted bytes: it is fuzzed (`fuzz/`) and checked against
//! opentelemetry-proto's serde model by a property test.

use std::fmt;

pub mod gzip;
pub mod json;
pub mod model;
pub mod protobuf;

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

    /// The `Content-Type` of responses in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Protobuf => "application/x-protobuf",
        }
    }
}

/// What a decoded request may cost, derived from two settings of the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most spans in one request.
    pub max_spans: usize,
    /// Most bytes of (decompressed) body.
    pub max_decompressed: usize,
}

/// A decoded JSON request may take at most this many bytes of memory (its structures
/// and the strings it could not borrow) per byte of [`Limits::max_decompressed`]. A
/// typical span decodes to fewer bytes than its JSON; only bodies of many tiny values
/// (`[1,1,1,...]`) come near it.
pub const DECODED_BYTES_PER_BODY_BYTE: usize = 2;

/// Decoding turns a protobuf message of 2 bytes into a struct of up to a few hundred
/// bytes: a protobuf body may hold at most one message per this many bytes of
/// [`Limits::max_decompressed`], which is checked before prost decodes it.
pub const MIN_BYTES_PER_MESSAGE: usize = 16;

impl Limits {
    /// Bytes a decoded JSON request may take.
    pub fn max_decoded_bytes(&self) -> usize {
        self.max_decompressed
            .saturating_mul(DECODED_BYTES_PER_BODY_BYTE)
    }

    /// Messages a protobuf request may hold.
    pub fn max_messages(&self) -> usize {
        self.max_decompressed / MIN_BYTES_PER_MESSAGE
    }
}

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The body inflates to more than the limit (bytes).
    TooLargeDecompressed(usize),
    /// The request holds more spans than the limit.
    TooManySpans(usize),
    /// Decoded, the request would take more memory than the limit allows: more than
    /// `.0` bytes (JSON) or more than `.1` messages (protobuf).
    TooComplex(usize, usize),
    /// The body is not valid gzip, OTLP JSON or OTLP protobuf; the text says where.
    Malformed(String),
}

impl DecodeError {
    /// Attribute values nested deeper than [`model::MAX_VALUE_DEPTH`].
    pub(crate) fn too_deep() -> DecodeError {
        DecodeError::Malformed(format!(
            "attribute values are nested more than {} levels deep (arrayValue, kvlistValue)",
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
            DecodeError::TooComplex(bytes, messages) => write!(
                f,
                "the body holds too many tiny values: decoded it would take more than {bytes} \
                 bytes (JSON) or hold more than {messages} messages (protobuf), limits derived \
                 from --max-decompressed"
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
