//! A [`Host`] for fuzzing: a clock the input moves, a transport the input can make busy,
//! and a check of every payload the tracer hands over.

use serde::Deserialize;
use serde::de::IgnoredAny;
use wasm_otlp_component::tracer::Host;

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

    fn send(&mut self, body: &[u8], span_count: u32) -> bool {
        if !self.busy {
            check_payload(body, span_count);
        }
        !self.busy
    }
}

/// The parts of an OTLP/JSON request that hold its spans; serde_json checks the grammar of
/// the rest as it skips it (numbers by their grammar only: `1e400` is JSON).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans {
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Deserialize)]
struct ScopeSpans {
    spans: Vec<IgnoredAny>,
}

/// Panics unless `body` is an OTLP/JSON request (well-formed JSON) that carries
/// `span_count` spans.
pub fn check_payload(body: &[u8], span_count: u32) {
    let request: Request = serde_json::from_slice(body).expect("the payload is JSON");
    let spans: usize = request
        .resource_spans
        .iter()
        .flat_map(|resource| &resource.scope_spans)
        .map(|scope| scope.spans.len())
        .sum();
    assert_eq!(spans, span_count as usize, "spans in the payload");
}
