//! The `propagation` export (world `tracing`): W3C trace context headers. (Browsers
//! format and parse them in JavaScript.)

use alloc::string::String;

use super::convert::{context, wit_context};
use super::exports::wasm_otlp::tracing::propagation;
use super::{Component, wit};
use crate::propagation::{extract, format_traceparent};

impl propagation::Guest for Component {
    fn inject(context: wit::SpanContext) -> Option<propagation::TraceHeaders> {
        let context = self::context(context);
        context.is_valid().then(|| propagation::TraceHeaders {
            traceparent: format_traceparent(&context),
            tracestate: Some(context.trace_state).filter(|s| !s.is_empty()),
        })
    }

    fn extract(
        traceparent: String,
        tracestate: Option<String>,
    ) -> Result<wit::SpanContext, String> {
        extract(&traceparent, tracestate.as_deref()).map(wit_context)
    }
}
