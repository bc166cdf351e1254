//! Retention: which segments to delete. Segments go whole, the earliest written first:
//! by age when every span in one started (and every log record in it happened) before
//! the cutoff, then while the store holds more items (spans and log records) or bytes
//! than allowed. The head and heads being written out are never
//! deleted (they are the newest data).

use std::time::Duration;

/// The retention rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    /// Spans that started (log records that happened) longer ago than this are deleted;
    /// `None`: no age limit.
    pub max_age: Option<Duration>,
    /// At most about this many spans and log records together are kept, the latest to
    /// arrive (the store deletes whole segments, so it may keep up to one segment fewer);
    /// `None`: no limit.
    pub max_spans: Option<u64>,
    /// At most this many bytes of segments and logs are kept; `None`: no limit.
    pub max_bytes: Option<u64>,
}

/// What retention needs to know of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSize {
    /// Its sequence number (arrival order).
    pub sequence: u64,
    /// Spans and log records in it.
    pub items: u64,
    /// Bytes on disk.
    pub bytes: u64,
    /// Its latest span start or log record time.
    pub max_time: i64,
}

/// The sequence numbers of the segments to delete. `segments` are in arrival order;
/// `live_items` and `live_bytes` count what is not in a segment yet (the heads and
/// their logs).
pub fn expired(
    rules: &Retention,
    segments: &[SegmentSize],
    live_items: u64,
    live_bytes: u64,
    now_unix_nanos: i64,
) -> Vec<u64> {
    let cutoff = rules.max_age.map(|age| {
        now_unix_nanos.saturating_sub(i64::try_from(age.as_nanos()).unwrap_or(i64::MAX))
    });
    let mut items = live_items + segments.iter().map(|s| s.items).sum::<u64>();
    let mut bytes = live_bytes + segments.iter().map(|s| s.bytes).sum::<u64>();
    let mut doomed = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let too_old = cutoff.is_some_and(|cutoff| segment.max_time < cutoff);
        let too_many = rules.max_spans.is_some_and(|max| items > max);
        let too_big = rules.max_bytes.is_some_and(|max| bytes > max);
        if too_old || too_many || too_big {
            doomed.push(segment.sequence);
            items -= segment.items;
            bytes -= segment.bytes;
        } else if segments[i + 1..]
            .iter()
            .all(|later| cutoff.is_none_or(|cutoff| later.max_time >= cutoff))
        {
            break;
        }
    }
    doomed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(sequence: u64, items: u64, max_time: i64) -> SegmentSize {
        SegmentSize {
            sequence,
            items,
            bytes: items * 100,
            max_time,
        }
    }

    #[test]
    fn by_count_the_first_to_arrive_go_first() {
        let rules = Retention {
            max_spans: Some(25),
            ..Retention::default()
        };
        let segments = [segment(1, 10, 50), segment(2, 10, 10), segment(3, 10, 40)];
        assert_eq!(expired(&rules, &segments, 0, 0, 100), [1]);
        // What is not in a segment yet counts too.
        assert_eq!(expired(&rules, &segments, 10, 0, 100), [1, 2]);
        assert!(expired(&rules, &segments[1..], 0, 0, 100).is_empty());
    }

    #[test]
    fn by_age_only_segments_wholly_older_than_the_cutoff() {
        let rules = Retention {
            max_age: Some(Duration::from_nanos(50)),
            ..Retention::default()
        };
        // Segment 2 arrived later but holds only old spans (a client's clock).
        let segments = [segment(1, 10, 60), segment(2, 10, 20), segment(3, 10, 40)];
        assert_eq!(expired(&rules, &segments, 0, 0, 100), [2, 3]);
    }

    #[test]
    fn by_bytes() {
        let rules = Retention {
            max_bytes: Some(2500),
            ..Retention::default()
        };
        let segments = [segment(1, 10, 0), segment(2, 10, 0), segment(3, 10, 0)];
        assert_eq!(expired(&rules, &segments, 0, 100, 100), [1]);
        assert_eq!(expired(&rules, &segments, 0, 600, 100), [1, 2]);
        assert!(expired(&Retention::default(), &segments, 0, 0, i64::MAX).is_empty());
    }
}
