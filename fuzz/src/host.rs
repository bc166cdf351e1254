//! A [`Host`] for fuzzing: a clock the input moves, a transport the input can make busy,
//! and a check of every payload the tracer hands over (JSON, with its item count, that
//! the collector decodes).

use collector_decode::{Format, Limits, json};
use serde::Deserialize;
use serde::de::IgnoredAny;
use wasm_otlp_component::tracer::{Host, Signal};

/// Clock and transport of a fuzzed tracer.
#[derive(Debug, Default)]
pub struct FuzzHost {
    /// Unix nanoseconds that [`Host::now`] returns.
    pub now: u64,
    /// When set, the transport refuses payloads (the tracer keeps them and offers them again).
    pub busy: bool,
}

impl Host for FuzzHost {
    fn now(&mut self) -> u64 {
        self.now
    }

    fn send(&mut self, signal: Signal, body: &[u8], count: u32) -> bool {
        if !self.busy {
            check_payload(signal, body, count);
        }
        !self.busy
    }
}

/// The parts of an OTLP/JSON request that hold its spans; serde_json checks the grammar of
/// the rest as it skips it (numbers by their grammar only: `1e400` is JSON).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    #[serde(default)]
    resource_spans: Vec<Resource>,
    #[serde(default)]
    resource_logs: Vec<Resource>,
}

/// A `ResourceSpans` or `ResourceLogs`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Resource {
    #[serde(default, alias = "scopeLogs")]
    scope_spans: Vec<ScopeItems>,
}

/// A `ScopeSpans` or `ScopeLogs`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScopeItems {
    #[serde(default, alias = "logRecords")]
    spans: Vec<IgnoredAny>,
}

/// Panics unless `body` is an OTLP/JSON request of `signal` (well-formed JSON) that
/// carries `count` spans or log records, and the collector's decoder takes it.
pub fn check_payload(signal: Signal, body: &[u8], count: u32) {
    let limits = Limits::for_body(Format::Json, body.len(), count as usize);
    let decoded = match signal {
        Signal::Traces => json::decode(body, &limits).map(drop),
        Signal::Logs => json::decode_logs(body, &limits).map(drop),
    };
    if let Err(err) = decoded {
        panic!(
            "the collector refuses the payload: {err}: {}",
            String::from_utf8_lossy(body)
        );
    }
    let request: Request = serde_json::from_slice(body).expect("the payload is JSON");
    let resources = match signal {
        Signal::Traces => &request.resource_spans,
        Signal::Logs => &request.resource_logs,
    };
    let items: usize = resources
        .iter()
        .flat_map(|resource| &resource.scope_spans)
        .map(|scope| scope.spans.len())
        .sum();
    assert_eq!(items, count as usize, "items in the payload");
}
