//! The trace signal (`POST /v1/traces`): `ExportTraceServiceRequest` in,
//! `ExportTraceServiceResponse` out.

use axum::response::Response;
use collector_decode::model::{KeyValue, Request, Resource, Span};
use collector_decode::{DecodeError, Format, json, protobuf};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};

use super::intake::Item;
use super::validate::{Problem, Rules};
use super::{Scope, Signal, respond};
use crate::metrics::SignalName;
use crate::store::{Batch, hex};

/// Spans.
pub struct Traces;

impl Item for Span<'_> {
    const NOUN: &'static str = "span";

    fn check(&self, rules: &Rules, now_unix_nanos: u64) -> Result<(), Problem> {
        rules.check_span(self, now_unix_nanos)
    }

    fn describe(&self) -> String {
        if self.span_id.is_empty() {
            "no spanId".to_owned()
        } else {
            format!("spanId {}", hex(self.span_id.as_bytes()))
        }
    }

    fn batch(bytes: usize, items: usize) -> Batch {
        Batch::with_capacity(bytes, items)
    }

    fn add_to(&self, batch: &mut Batch, resource: u32, scope: u32) {
        batch.add_span(resource, scope, self);
    }
}

impl Signal for Traces {
    const NAME: SignalName = SignalName::Traces;
    type Request<'a> = Request<'a>;
    type Item<'a> = Span<'a>;

    fn decode<'a>(
        bytes: &'a [u8],
        format: Format,
        limits: &collector_decode::Limits,
    ) -> Result<Request<'a>, DecodeError> {
        match format {
            Format::Json => json::decode(bytes, limits),
            Format::Protobuf => protobuf::decode(bytes, limits),
        }
    }

    fn resources<'r, 'a: 'r>(
        request: &'r Request<'a>,
    ) -> impl Iterator<
        Item = (
            Option<&'r Resource<'a>>,
            &'r str,
            impl Iterator<Item = Scope<'r, 'a, Span<'a>>>,
        ),
    > {
        request.resource_spans.iter().map(|r| {
            let scopes = r
                .scope_spans
                .iter()
                .map(|s| (s.scope.as_ref(), &*s.schema_url, &s.spans[..]));
            (r.resource.as_ref(), &*r.schema_url, scopes)
        })
    }

    fn exception_attributes<'r, 'a: 'r>(
        request: &'r mut Request<'a>,
    ) -> impl Iterator<Item = &'r mut Vec<KeyValue<'a>>> {
        request
            .resource_spans
            .iter_mut()
            .flat_map(|r| &mut r.scope_spans)
            .flat_map(|s| &mut s.spans)
            .flat_map(|span| &mut span.events)
            .filter(|event| event.name == "exception")
            .map(|event| &mut event.attributes)
    }

    fn accepted(format: Format, rejected: u64, message: String) -> Response {
        let partial_success = (rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(rejected).unwrap_or(i64::MAX),
            error_message: message,
        });
        respond::accepted(format, ExportTraceServiceResponse { partial_success })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Limits, prepare};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    const NOW: u64 = 1_750_000_000_000_000_000;
    const LIMITS: Limits = Limits {
        max_body: 1 << 20,
        max_decompressed: 1 << 20,
        max_spans: 100,
        rules: Rules {
            max_attribute_value: 16,
            max_field: 64,
            max_future_nanos: 600_000_000_000,
            max_age_nanos: None,
        },
    };

    fn span(n: u8) -> Span {
        Span {
            trace_id: vec![1; 16],
            span_id: vec![n; 8],
            name: format!("span {n}"),
            start_time_unix_nano: NOW - 10,
            end_time_unix_nano: NOW,
            ..Span::default()
        }
    }

    fn request(resources: Vec<(Option<Resource>, Vec<Span>)>) -> Vec<u8> {
        ExportTraceServiceRequest {
            resource_spans: resources
                .into_iter()
                .map(|(resource, spans)| ResourceSpans {
                    resource,
                    scope_spans: vec![ScopeSpans {
                        spans,
                        ..ScopeSpans::default()
                    }],
                    schema_url: String::new(),
                })
                .collect(),
        }
        .encode_to_vec()
    }

    #[test]
    fn invalid_spans_are_named_and_valid_ones_kept() {
        let bad = Span {
            name: String::new(),
            ..span(2)
        };
        let body = request(vec![(None, vec![span(1), bad, span(3)])]);
        let prepared =
            prepare::<Traces>(&body, Format::Protobuf, &LIMITS, usize::MAX, NOW, None).unwrap();
        assert_eq!(prepared.batch.len(), 2);
        assert_eq!(prepared.rejected.by_kind(), [("empty_name", 1)]);
        assert_eq!(
            prepared.message,
            "1 of 3 spans rejected (spans numbered from 0 in request order): \
             span 1 (spanId 0202020202020202): name is empty"
        );
    }

    #[test]
    fn a_resource_attribute_too_large_rejects_its_spans_only() {
        let big = Resource {
            attributes: vec![KeyValue {
                key: "k".into(),
                value: Some(AnyValue {
                    value: Some(Value::StringValue("x".repeat(17))),
                }),
                ..KeyValue::default()
            }],
            ..Resource::default()
        };
        let body = request(vec![
            (Some(big), vec![span(1), span(2)]),
            (None, vec![span(3)]),
        ]);
        let prepared =
            prepare::<Traces>(&body, Format::Protobuf, &LIMITS, usize::MAX, NOW, None).unwrap();
        assert_eq!((prepared.batch.len(), prepared.rejected.total()), (1, 2));
        assert!(
            prepared
                .message
                .contains("span 1 (spanId 0202020202020202): resource attribute \"k\"")
        );
        // Only the resource with a kept span goes to the store.
        assert_eq!(prepared.batch.resources().len(), 1);
    }

    #[test]
    fn many_rejections_are_counted_past_the_named_ones() {
        let spans = (1..=15).map(|n| Span { kind: 9, ..span(n) }).collect();
        let prepared = prepare::<Traces>(
            &request(vec![(None, spans)]),
            Format::Protobuf,
            &LIMITS,
            usize::MAX,
            NOW,
            None,
        )
        .unwrap();
        assert_eq!((prepared.batch.len(), prepared.rejected.total()), (0, 15));
        assert_eq!(prepared.message.matches("kind 9").count(), 10);
        assert!(
            prepared.message.ends_with("; and 5 more"),
            "{}",
            prepared.message
        );
    }
}
