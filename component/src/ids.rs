//! Trace and span ID generation: xoshiro256++ seeded with 32 bytes of the host's
//! cryptographic randomness. IDs need to be unique and unpredictable enough for
//! sampling decisions, not secret; one host call at start-up then costs nothing per span.
//!
//! The generator is written out here rather than taken from `rand_xoshiro`: the algorithm
//! is a dozen lines, while the library's seeding machinery (`SeedableRng`, `from_rng`)
//! cost the browser download more than the algorithm itself. It is seeded as
//! `rand_xoshiro`'s `Xoshiro256PlusPlus::from_seed` is, so a seed gives the same IDs.

use crate::model::TraceId;

/// Bytes of host randomness an [`IdGenerator`] is seeded with.
pub const SEED_LEN: usize = 32;

/// Produces non-zero random trace and span IDs.
pub struct IdGenerator {
    /// xoshiro256++ state, never all zero.
    s: [u64; 4],
}

/// The state an all-zero seed is replaced with (xoshiro would give only zeros): the first
/// four outputs of SplitMix64 seeded with 0, as `rand_xoshiro` does it.
const ZERO_SEED_STATE: [u64; 4] = [
    0xe220a8397b1dcdaf,
    0x6e789e6aa1b965f4,
    0x06c45d188009454f,
    0xf88bb8a8724c81ec,
];

impl IdGenerator {
    /// A generator seeded by the host's randomness. A seed shorter than [`SEED_LEN`] is
    /// padded with zeros (the host is expected to give all of it).
    pub fn from_seed_bytes(bytes: &[u8]) -> Self {
        let mut s = [0u64; 4];
        // Little-endian words; missing bytes stay zero.
        for (i, &b) in bytes.iter().take(SEED_LEN).enumerate() {
            s[i / 8] |= u64::from(b) << (8 * (i % 8));
        }
        if s == [0; 4] {
            s = ZERO_SEED_STATE;
        }
        IdGenerator { s }
    }

    /// The next xoshiro256++ output (Blackman and Vigna's reference algorithm).
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A new non-zero span ID.
    pub fn span_id(&mut self) -> u64 {
        loop {
            let id = self.next_u64();
            if id != 0 {
                return id;
            }
        }
    }

    /// A new valid (not all-zero) trace ID.
    pub fn trace_id(&mut self) -> TraceId {
        loop {
            let id = TraceId {
                hi: self.next_u64(),
                lo: self.next_u64(),
            };
            if id.is_valid() {
                return id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_distinct_and_non_zero() {
        let mut ids = IdGenerator::from_seed_bytes(&[7; SEED_LEN]);
        let spans: HashSet<u64> = (0..10_000).map(|_| ids.span_id()).collect();
        assert_eq!(spans.len(), 10_000);
        assert!(!spans.contains(&0));
        assert!(ids.trace_id().is_valid());
    }

    #[test]
    fn an_all_zero_seed_still_gives_valid_ids() {
        let mut ids = IdGenerator::from_seed_bytes(&[]);
        assert_ne!(ids.span_id(), 0);
        assert!(ids.trace_id().is_valid());
    }

    /// IDs for fixed seeds as `rand_xoshiro` 0.7 gave them (this generator replaced it):
    /// the same host randomness keeps giving the same IDs.
    #[test]
    fn seeds_give_the_ids_they_always_gave() {
        let ids = |seed: &[u8]| {
            let mut ids = IdGenerator::from_seed_bytes(seed);
            let spans = [ids.span_id(), ids.span_id(), ids.span_id()];
            let trace = ids.trace_id();
            (spans, trace.hi, trace.lo)
        };
        let counting: Vec<u8> = (0..32).collect();
        assert_eq!(
            ids(&counting),
            (
                [0x171513110f151311, 0xa2209f1d9c1e9d1b, 0xe0d100f0a090c0b0],
                0xf4601386bb253984,
                0xf9bad1aa0181e716
            )
        );
        assert_eq!(
            ids(&[42; SEED_LEN]),
            (
                [0x5454545454545454, 0x3f3f3f3f3f3f3f3f, 0xa2a2a2a2a2a2a2a2],
                0xaaaaaac4c4ae221e,
                0x5bdc39b9b9b1b1b9
            )
        );
        assert_eq!(
            ids(&[1, 2, 3]),
            (
                [0x0000018100830201, 0x0000018100830201, 0x0000000000302010],
                0x6442218100e34227,
                0x0b02cdee0012201c
            )
        );
        assert_eq!(
            ids(&[]),
            (
                [0x53175d61490b23df, 0x61da6f3dc380d507, 0x5c0fdf91ec9a7bfc],
                0x02eebf8c3bbe5e1a,
                0x7eca04ebaf4a5eea
            )
        );
    }

    #[test]
    fn different_seeds_give_different_ids() {
        let a = IdGenerator::from_seed_bytes(&[1; SEED_LEN]).span_id();
        let b = IdGenerator::from_seed_bytes(&[2; SEED_LEN]).span_id();
        assert_ne!(a, b);
    }
}
