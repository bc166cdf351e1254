//! Sampling decisions for new spans (OpenTelemetry's built-in samplers).

use alloc::string::String;

use crate::model::{SpanContext, TraceId};

/// How new spans are sampled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampler {
    /// Record every span.
    AlwaysOn,
    /// Record nothing (context still propagates).
    AlwaysOff,
    /// Keep traces whose ID falls under the ratio; the decision depends only on the trace
    /// ID, so services at the same ratio keep the same traces.
    TraceIdRatio(f64),
    /// Follow the parent's sampled flag; roots use the ratio.
    ParentBasedRatio(f64),
}

impl Default for Sampler {
    fn default() -> Self {
        Sampler::ParentBasedRatio(1.0)
    }
}

impl Sampler {
    /// Checks the ratio is a number in 0.0..=1.0.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Sampler::TraceIdRatio(r) | Sampler::ParentBasedRatio(r)
                if !(0.0..=1.0).contains(&r) =>
            {
                Err("sampling ratio must be a number within 0.0..=1.0".into())
            }
            _ => Ok(()),
        }
    }

    /// Whether a span in trace `trace_id` with optional `parent` is sampled.
    pub fn should_sample(&self, trace_id: TraceId, parent: Option<&SpanContext>) -> bool {
        match *self {
            Sampler::AlwaysOn => true,
            Sampler::AlwaysOff => false,
            Sampler::TraceIdRatio(ratio) => ratio_keeps(ratio, trace_id),
            Sampler::ParentBasedRatio(ratio) => match parent {
                Some(parent) => parent.is_sampled(),
                None => ratio_keeps(ratio, trace_id),
            },
        }
    }
}

/// OpenTelemetry's `TraceIdRatioBased` rule: the low 8 bytes of the trace ID, shifted to 63
/// bits, compared with `ratio * 2^63`.
fn ratio_keeps(ratio: f64, trace_id: TraceId) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    // `as` saturates; NaN (refused by `validate`) would give 0 and keep nothing.
    let bound = (ratio * (1u64 << 63) as f64) as u64;
    (trace_id.lo >> 1) < bound
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SAMPLED;

    fn ctx(flags: u8) -> SpanContext {
        SpanContext {
            trace_id: TraceId { hi: 1, lo: 1 },
            span_id: 1,
            trace_flags: flags,
            ..Default::default()
        }
    }

    #[test]
    fn ratio_compares_low_half() {
        let low = TraceId {
            hi: u64::MAX,
            lo: 0,
        };
        let high = TraceId {
            hi: 0,
            lo: u64::MAX,
        };
        let s = Sampler::TraceIdRatio(0.5);
        assert!(s.should_sample(low, None));
        assert!(!s.should_sample(high, None));
        assert!(!Sampler::TraceIdRatio(0.0).should_sample(low, None));
        assert!(Sampler::TraceIdRatio(1.0).should_sample(high, None));
    }

    #[test]
    fn parent_based_follows_parent() {
        let s = Sampler::ParentBasedRatio(0.0);
        let id = TraceId { hi: 0, lo: 0 };
        assert!(s.should_sample(id, Some(&ctx(SAMPLED))));
        assert!(!Sampler::ParentBasedRatio(1.0).should_sample(id, Some(&ctx(0))));
        assert!(!s.should_sample(id, None));
    }

    #[test]
    fn validate_rejects_out_of_range() {
        assert!(Sampler::TraceIdRatio(1.5).validate().is_err());
        assert!(Sampler::ParentBasedRatio(f64::NAN).validate().is_err());
        assert!(Sampler::TraceIdRatio(0.25).validate().is_ok());
    }
}
