//! A [`Host`] for native unit tests: a clock the test sets, payloads kept for inspection.

use crate::ids::IdGenerator;
use crate::tracer::{Host, Signal, Tracer};

/// Records what the tracer sends; `now` is whatever the test set.
#[derive(Default)]
pub struct TestHost {
    pub now: u64,
    pub sent: Vec<(serde_json::Value, u32)>,
    /// The logs payloads sent, kept apart from the traces ones in `sent`.
    pub sent_logs: Vec<(serde_json::Value, u32)>,
    /// When set, the transport refuses payloads.
    pub busy: bool,
}

impl Host for TestHost {
    fn now(&mut self) -> u64 {
        self.now
    }

    fn send(&mut self, signal: Signal, body: &[u8], count: u32) -> bool {
        if !self.busy {
            let sent = match signal {
                Signal::Traces => &mut self.sent,
                Signal::Logs => &mut self.sent_logs,
            };
            sent.push((
                serde_json::from_slice(body).expect("payload is JSON"),
                count,
            ));
        }
        !self.busy
    }
}

impl TestHost {
    /// Every span of every payload sent so far, as JSON.
    pub fn spans(&self) -> Vec<serde_json::Value> {
        self.sent
            .iter()
            .flat_map(|(json, _)| {
                json["resourceSpans"][0]["scopeSpans"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .flat_map(|scope| scope["spans"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}

/// A tracer with a fixed seed (tests only: the component seeds from the host).
pub fn tracer() -> Tracer {
    Tracer::new(IdGenerator::from_seed_bytes(&[42; 32]))
}
