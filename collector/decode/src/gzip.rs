//! gzip request bodies (`Content-Encoding: gzip`), inflated within a size limit.

use std::io::Read;

use flate2::read::MultiGzDecoder;

use crate::DecodeError;

/// Inflates a gzip body (one or more members), refusing it as soon as the output would
/// exceed `limit` bytes: at most `limit + 1` bytes are ever produced.
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let read_limit = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    MultiGzDecoder::new(body)
        .take(read_limit)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Malformed(format!("the body is not valid gzip: {e}")))?;
    if out.len() > limit {
        return Err(DecodeError::TooLargeDecompressed(limit));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn within_and_beyond_the_limit() {
        let body = b"{\"resourceSpans\":[]}";
        assert_eq!(gunzip(&gzip(body), 1 << 20).unwrap(), body);
        // Two concatenated members are one body.
        let mut two = gzip(b"abc");
        two.extend(gzip(b"def"));
        assert_eq!(gunzip(&two, 6).unwrap(), b"abcdef");
        assert_eq!(gunzip(&two, 5), Err(DecodeError::TooLargeDecompressed(5)));
        assert!(matches!(
            gunzip(b"not gzip", 100),
            Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 20 << 20]);
        assert!(bomb.len() < 64 << 10);
        let started = std::time::Instant::now();
        assert_eq!(
            gunzip(&bomb, 1 << 20),
            Err(DecodeError::TooLargeDecompressed(1 << 20))
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
