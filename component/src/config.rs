//! Pipeline configuration: resource, default scope, sampler, limits and batching, with the
//! checks that refuse settings which could not work.

use alloc::{string::String, vec, vec::Vec};

use crate::limits::SpanLimits;
use crate::model::{KeyValue, Value};
use crate::msg::{concat, int};
use crate::sampler::Sampler;

/// When and how much the batcher exports (defaults follow OpenTelemetry's
/// `BatchSpanProcessor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchSettings {
    /// Spans per payload.
    pub max_export_batch_size: u32,
    /// Bytes per payload (its OTLP/JSON body); 0: no bound.
    pub max_export_batch_bytes: u32,
    /// Ended spans waiting for export.
    pub max_queue_size: u32,
    /// How long a partial batch may wait.
    pub scheduled_delay_ms: u32,
    /// Spans started and not yet ended.
    pub max_open_spans: u32,
}

impl Default for BatchSettings {
    fn default() -> Self {
        BatchSettings {
            max_export_batch_size: 512,
            max_export_batch_bytes: 0,
            max_queue_size: 2048,
            scheduled_delay_ms: 5000,
            max_open_spans: 16384,
        }
    }
}

/// A scope as configured (before limits are applied).
#[derive(Clone, Debug, PartialEq)]
pub struct ScopeConfig {
    /// Library name.
    pub name: String,
    /// Library version.
    pub version: String,
    /// Scope attributes.
    pub attributes: Vec<KeyValue>,
}

impl Default for ScopeConfig {
    fn default() -> Self {
        ScopeConfig {
            name: "wasm-otlp".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            attributes: Vec::new(),
        }
    }
}

/// Everything `pipeline.configure` sets.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Resource attributes.
    pub resource: Vec<KeyValue>,
    /// Scope 0.
    pub default_scope: ScopeConfig,
    /// Sampler for new spans.
    pub sampler: Sampler,
    /// Per-span caps.
    pub limits: SpanLimits,
    /// Batching.
    pub batch: BatchSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            resource: vec![KeyValue {
                key: "service.name".into(),
                value: Value::String("unknown_service".into()),
            }],
            default_scope: ScopeConfig::default(),
            sampler: Sampler::default(),
            limits: SpanLimits::default(),
            batch: BatchSettings::default(),
        }
    }
}

impl Config {
    /// Refuses settings that cannot work, saying which and why.
    pub fn validate(&self) -> Result<(), String> {
        self.sampler.validate()?;
        let b = &self.batch;
        if b.max_export_batch_size == 0 || b.max_queue_size == 0 || b.max_open_spans == 0 {
            return Err("batch sizes, queue size and max-open-spans must be at least 1".into());
        }
        if b.max_export_batch_size > b.max_queue_size {
            return Err(concat(&[
                "max-export-batch-size (",
                &int(b.max_export_batch_size),
                ") must not exceed max-queue-size (",
                &int(b.max_queue_size),
                ")",
            ]));
        }
        if self.limits.max_value_length == 0 {
            return Err("max-value-length must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn refuses_batch_larger_than_queue() {
        let mut config = Config::default();
        config.batch.max_export_batch_size = 4096;
        assert!(config.validate().unwrap_err().contains("max-queue-size"));
        config.batch = BatchSettings {
            max_queue_size: 0,
            ..Default::default()
        };
        assert!(config.validate().is_err());
    }
}
