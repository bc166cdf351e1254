//! Trace and span ID generation: xoshiro256++ seeded with 32 bytes of the host's
//! cryptographic randomness. IDs need to be unique and unpredictable enough for
//! sampling decisions, not secret; one host call at start-up then costs nothing per span.

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::model::TraceId;

/// Bytes of host randomness an [`IdGenerator`] is seeded with.
pub const SEED_LEN: usize = 32;

/// Produces non-zero random trace and span IDs.
pub struct IdGenerator {
    rng: Xoshiro256PlusPlus,
}

impl IdGenerator {
    /// A generator seeded by the host's randomness. A seed shorter than [`SEED_LEN`] is
    /// padded with zeros (the host is expected to give all of it).
    pub fn from_seed_bytes(bytes: &[u8]) -> Self {
        let mut seed = [0u8; SEED_LEN];
        let n = bytes.len().min(SEED_LEN);
        seed[..n].copy_from_slice(&bytes[..n]);
        IdGenerator {
            rng: Xoshiro256PlusPlus::from_seed(seed),
        }
    }

    /// A new non-zero span ID.
    pub fn span_id(&mut self) -> u64 {
        loop {
            let id = self.rng.next_u64();
            if id != 0 {
                return id;
            }
        }
    }

    /// A new valid (not all-zero) trace ID.
    pub fn trace_id(&mut self) -> TraceId {
        loop {
            let id = TraceId {
                hi: self.rng.next_u64(),
                lo: self.rng.next_u64(),
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

    #[test]
    fn different_seeds_give_different_ids() {
        let a = IdGenerator::from_seed_bytes(&[1; SEED_LEN]).span_id();
        let b = IdGenerator::from_seed_bytes(&[2; SEED_LEN]).span_id();
        assert_ne!(a, b);
    }
}
