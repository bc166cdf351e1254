//! The byte layout of a segment file, shared by the writer and the reader.
//!
//! ```text
//! span block 0 | ... | log block 0 | ... | section 0 | ... | section 10 | footer
//! ```
//!
//! Span blocks hold the spans, sorted by trace ID then start time, each block
//! zstd-compressed on its own: a span is `span ID (8) | start (i64) | resource (varint) |
//! scope (varint) | length (varint) | protobuf Span`. Log blocks hold the log records,
//! sorted by time then identity: a record is `identity (u64) | time (i64) | severity (u8)
//! | resource (varint) | scope (varint) | length (varint) | protobuf LogRecord`; resources
//! and scopes are numbered in one table for both. The sections ([`Section`]) are the
//! indexes. The footer, fixed in size at the end of the file, says where each section
//! is, with its CRC-32, and carries the segment's counts and time ranges; it has its own
//! CRC-32. Integers are little-endian.
//!
//! Version 1 (magic `WOTLPSG1`, before log records) had sections 0 to 7 and a footer
//! without the log count and times; it is still read, as a segment without records.

/// The first and last eight bytes of a footer.
pub const MAGIC: &[u8; 8] = b"WOTLPSG2";

/// The magic of version 1 footers (segments without log records).
pub const MAGIC_V1: &[u8; 8] = b"WOTLPSG1";

/// The sections of a segment (in the file, log blocks follow span blocks, then come the
/// sections in any order: the footer says where each is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Per block: first span (u32), offset (u64), length (u32), length uncompressed
    /// (u32), CRC-32 of the stored bytes (u32). zstd.
    Blocks = 0,
    /// Resources (count, then each: length, encoding), then scopes (the same). zstd.
    Parts = 1,
    /// Strings (count, then each: length, UTF-8): services and span names. zstd.
    Strings = 2,
    /// Per trace, by trace ID: ID (16), first span (u32), spans (u32), min start,
    /// max start, max end (i64), flags (u8: 1 root, 2 error), root name (u32 string or
    /// `u32::MAX`), service (u32 string). zstd.
    Traces = 3,
    /// (service, span name) string pairs. zstd.
    Operations = 4,
    /// Per term, by hash: hash (u64), where its postings start (u32); then where the
    /// last one ends (u32). zstd.
    Terms = 5,
    /// Posting lists: the span numbers carrying a term, ascending, as varint gaps.
    /// Stored raw, read by range.
    Postings = 6,
    /// Per span: start and end (i64). zstd, read when a query filters by time.
    Columns = 7,
    /// Per log block: the rows of [`Section::Blocks`], then per block its earliest and
    /// latest record time (i64). zstd.
    LogBlocks = 8,
    /// Per log term (service, trace, session), by hash: as [`Section::Terms`]. zstd.
    LogTerms = 9,
    /// The log terms' posting lists (record numbers), as [`Section::Postings`]. Raw.
    LogPostings = 10,
}

/// Number of sections.
pub const SECTIONS: usize = 11;

/// Number of sections of a version 1 segment.
const SECTIONS_V1: usize = 8;

/// Bytes of one trace row in [`Section::Traces`].
pub const TRACE_ROW: usize = 16 + 4 + 4 + 8 * 3 + 1 + 4 + 4;

/// One row of [`Section::Traces`]: what a segment holds of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceRow {
    /// The trace ID.
    pub id: [u8; 16],
    /// Its first span's number (its spans are consecutive).
    pub first: u32,
    /// Its spans.
    pub spans: u32,
    /// Earliest span start.
    pub min_start: i64,
    /// Latest span start.
    pub max_start: i64,
    /// Latest span end.
    pub max_end: i64,
    /// Whether a span has status ERROR.
    pub error: bool,
    /// The root span's name (a string number), if the segment holds the root span.
    pub root_name: Option<u32>,
    /// The root span's service, else the earliest span's (a string number).
    pub service: u32,
}

impl TraceRow {
    /// Appends the row's [`TRACE_ROW`] bytes.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&self.first.to_le_bytes());
        out.extend_from_slice(&self.spans.to_le_bytes());
        for value in [self.min_start, self.max_start, self.max_end] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.push(u8::from(self.root_name.is_some()) | (u8::from(self.error) << 1));
        out.extend_from_slice(&self.root_name.unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&self.service.to_le_bytes());
    }

    /// Reads a row written by [`TraceRow::write`].
    pub fn read(r: &mut Reader<'_>) -> Result<TraceRow, String> {
        let id = r.array()?;
        let first = r.u32()?;
        let spans = r.u32()?;
        let (min_start, max_start, max_end) = (r.i64()?, r.i64()?, r.i64()?);
        let flags = r.u8()?;
        let root_name = r.u32()?;
        Ok(TraceRow {
            id,
            first,
            spans,
            min_start,
            max_start,
            max_end,
            error: flags & 2 != 0,
            root_name: (flags & 1 != 0).then_some(root_name),
            service: r.u32()?,
        })
    }
}

/// Bytes of one block row in [`Section::Blocks`].
pub const BLOCK_ROW: usize = 4 + 8 + 4 + 4 + 4;

/// Where a section is: offset, stored length, length once decompressed (equal for a raw
/// section), CRC-32 of the stored bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Place {
    /// Offset in the file.
    pub offset: u64,
    /// Stored bytes.
    pub len: u64,
    /// Bytes once decompressed.
    pub raw_len: u64,
    /// CRC-32 of the stored bytes.
    pub crc: u32,
}

/// What the footer says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footer {
    /// The write-ahead log the segment was written from.
    pub sequence: u64,
    /// Spans.
    pub spans: u64,
    /// Traces.
    pub traces: u64,
    /// Earliest span start.
    pub min_start: i64,
    /// Latest span start.
    pub max_start: i64,
    /// Log records.
    pub logs: u64,
    /// Earliest log record time (`i64::MAX` without records).
    pub min_log_time: i64,
    /// Latest log record time (`i64::MIN` without records).
    pub max_log_time: i64,
    /// The sections (a version 1 segment's log sections are empty).
    pub sections: [Place; SECTIONS],
}

/// Bytes of the footer.
pub const FOOTER_LEN: usize = 8 + 8 * 8 + SECTIONS * (8 * 3 + 4) + 4 + 8;

/// Bytes of a version 1 footer.
const FOOTER_LEN_V1: usize = 8 + 8 * 5 + SECTIONS_V1 * (8 * 3 + 4) + 4 + 8;

impl Footer {
    /// The length of the footer that ends with `magic` (its last eight bytes), if it is
    /// a footer's.
    pub fn len_for(magic: &[u8]) -> Option<usize> {
        if magic == MAGIC {
            Some(FOOTER_LEN)
        } else if magic == MAGIC_V1 {
            Some(FOOTER_LEN_V1)
        } else {
            None
        }
    }

    /// The footer's bytes (always the current version).
    pub fn to_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FOOTER_LEN);
        out.extend_from_slice(MAGIC);
        for value in [self.sequence, self.spans, self.traces] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        for value in [self.min_start, self.max_start] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&self.logs.to_le_bytes());
        for value in [self.min_log_time, self.max_log_time] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        for place in &self.sections {
            for value in [place.offset, place.len, place.raw_len] {
                out.extend_from_slice(&value.to_le_bytes());
            }
            out.extend_from_slice(&place.crc.to_le_bytes());
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(MAGIC);
        out
    }

    /// Reads a footer of either version, checking its magic numbers and checksum.
    pub fn from_bytes(bytes: &[u8]) -> Result<Footer, String> {
        let magic = &bytes[bytes.len().saturating_sub(8)..];
        let len = Footer::len_for(magic).filter(|&len| len == bytes.len());
        let Some(len) = len.filter(|_| &bytes[..8] == magic) else {
            return Err("no segment footer at the end of the file".into());
        };
        let current = magic == MAGIC;
        let body = &bytes[..len - 12];
        let mut r = Reader::new(&bytes[len - 12..]);
        if r.u32()? != crc32fast::hash(body) {
            return Err("the footer's checksum does not match".into());
        }
        let mut r = Reader::new(&body[8..]);
        let mut footer = Footer {
            sequence: r.u64()?,
            spans: r.u64()?,
            traces: r.u64()?,
            min_start: r.i64()?,
            max_start: r.i64()?,
            logs: 0,
            min_log_time: i64::MAX,
            max_log_time: i64::MIN,
            ..Footer::default()
        };
        if current {
            footer.logs = r.u64()?;
            footer.min_log_time = r.i64()?;
            footer.max_log_time = r.i64()?;
        }
        let sections = if current { SECTIONS } else { SECTIONS_V1 };
        for place in &mut footer.sections[..sections] {
            *place = Place {
                offset: r.u64()?,
                len: r.u64()?,
                raw_len: r.u64()?,
                crc: r.u32()?,
            };
        }
        Ok(footer)
    }
}

/// Reads little-endian values and varints off the front of a byte slice (a segment's
/// sections, and batch records); running out is an error, never a panic.
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// Reads `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader(bytes)
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What is left.
    pub fn rest(self) -> &'a [u8] {
        self.0
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.0.len() {
            return Err("the bytes end early".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or("the bytes end early")?;
        self.0 = rest;
        Ok(*head)
    }

    /// A byte.
    pub fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    /// A `u32`.
    pub fn u32(&mut self) -> Result<u32, String> {
        self.array().map(u32::from_le_bytes)
    }

    /// A `u64`.
    pub fn u64(&mut self) -> Result<u64, String> {
        self.array().map(u64::from_le_bytes)
    }

    /// An `i64`.
    pub fn i64(&mut self) -> Result<i64, String> {
        self.array().map(i64::from_le_bytes)
    }

    /// A varint (protobuf's encoding).
    pub fn varint(&mut self) -> Result<u64, String> {
        prost::encoding::decode_varint(&mut self.0).map_err(|_| "a damaged varint".to_owned())
    }

    /// A `u32` length, then that many bytes.
    pub fn sized(&mut self) -> Result<&'a [u8], String> {
        let len = self.u32()? as usize;
        self.bytes(len)
    }
}

/// Appends a `u32` length and the bytes.
pub fn put_sized(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footers_read_back_and_damage_is_found() {
        let mut footer = Footer {
            sequence: 3,
            spans: 10,
            traces: 2,
            min_start: -5,
            max_start: 9,
            logs: 4,
            min_log_time: 1,
            max_log_time: 2,
            ..Footer::default()
        };
        footer.sections[6] = Place {
            offset: 1,
            len: 2,
            raw_len: 2,
            crc: 7,
        };
        let bytes = footer.to_bytes();
        assert_eq!(bytes.len(), FOOTER_LEN);
        assert_eq!(Footer::from_bytes(&bytes), Ok(footer));
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 0x10;
            assert!(Footer::from_bytes(&bad).is_err(), "byte {at}");
        }
    }

    #[test]
    fn version_1_footers_read_as_segments_without_logs() {
        let mut bytes = MAGIC_V1.to_vec();
        for value in [3u64, 10, 2, 5, 9] {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        for section in 0..SECTIONS_V1 {
            for value in [section as u64, 1, 1] {
                bytes.extend_from_slice(&value.to_le_bytes());
            }
            bytes.extend_from_slice(&7u32.to_le_bytes());
        }
        let crc = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes.extend_from_slice(MAGIC_V1);
        assert_eq!(
            Footer::len_for(&bytes[bytes.len() - 8..]),
            Some(bytes.len())
        );
        let footer = Footer::from_bytes(&bytes).unwrap();
        assert_eq!(
            (footer.sequence, footer.spans, footer.max_start),
            (3, 10, 9)
        );
        assert_eq!((footer.logs, footer.max_log_time), (0, i64::MIN));
        assert_eq!(footer.sections[7].offset, 7);
        assert_eq!(
            footer.sections[Section::LogBlocks as usize],
            Place::default()
        );
    }
}
