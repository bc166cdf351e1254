//! `POST /v1/traces`: read the body within the limits, decode (`collector-decode`),
//! validate each span, store the valid ones durably, answer in the request's encoding.

pub mod budget;
pub mod respond;
pub mod validate;

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use collector_decode::{DecodeError, Format, gzip, json, protobuf};

use crate::store::{Batch, Store, hex, now_unix_nanos};
use budget::{Budget, ReadError};
use validate::{Problem, Rules};

/// Rejected spans named one by one in `partialSuccess.errorMessage`; the rest are
/// counted.
const NAMED_REJECTIONS: usize = 10;

/// The limits an export request must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Body bytes as sent.
    pub max_body: usize,
    /// Body bytes after gzip decompression.
    pub max_decompressed: usize,
    /// Spans in one request.
    pub max_spans: usize,
    /// What each span must respect.
    pub rules: Rules,
}

/// What the export handler needs.
pub struct Ingest {
    limits: Limits,
    budget: Budget,
    store: Arc<Store>,
}

impl Ingest {
    /// Requests within `limits`, holding memory from `budget`.
    pub fn new(limits: Limits, budget: Budget, store: Arc<Store>) -> Self {
        Ingest {
            limits,
            budget,
            store,
        }
    }
}

/// The `POST /v1/traces` handler.
pub async fn export(State(ingest): State<Arc<Ingest>>, headers: HeaderMap, body: Body) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let Some(format) = content_type.as_deref().and_then(Format::from_content_type) else {
        let got = content_type.map_or_else(
            || "no Content-Type".to_owned(),
            |t| format!("Content-Type {t:?}"),
        );
        return respond::failure(
            Format::Json,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "{got} is not supported: send application/json (OTLP JSON) or application/x-protobuf (OTLP protobuf)"
            ),
        );
    };
    let gzip = match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str()) {
        None => false,
        Some(Ok(v)) if v.trim().eq_ignore_ascii_case("identity") => false,
        Some(Ok(v)) if v.trim().eq_ignore_ascii_case("gzip") => true,
        Some(v) => {
            return respond::failure(
                format,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Encoding {:?} is not supported: send gzip, identity or none",
                    v.unwrap_or("(not text)")
                ),
            );
        }
    };
    let limits = ingest.limits;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(length) = declared
        && length > limits.max_body as u64
    {
        return too_large_body(format, limits.max_body);
    }

    // From here until the store has acknowledged, memory is held (see `budget`).
    let _export = match ingest.budget.enter() {
        Ok(export) => export,
        Err(refusal) => return busy(format, &refusal),
    };
    let expected = declared.map(|length| length as usize);
    let mut body_bytes = match ingest
        .budget
        .reserve_body(expected.unwrap_or(limits.max_body))
        .await
    {
        Ok(permit) => permit,
        Err(refusal) => return busy(format, &refusal),
    };
    let bytes = match ingest
        .budget
        .read_body(body, limits.max_body, expected)
        .await
    {
        Ok(bytes) => bytes,
        Err(ReadError::TooSlow { received, elapsed }) => {
            return respond::failure(
                format,
                StatusCode::REQUEST_TIMEOUT,
                ingest.budget.too_slow_message(received, elapsed),
            );
        }
        Err(ReadError::TooLarge) => return too_large_body(format, limits.max_body),
        Err(ReadError::Failed(error)) => {
            return respond::failure(
                format,
                StatusCode::BAD_REQUEST,
                format!("could not read the body: {error}"),
            );
        }
    };
    budget::keep(&mut body_bytes, bytes.len());
    let shutting_down =
        || respond::failure(format, StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    let bytes = if gzip {
        // Inflating holds at most --max-decompressed; what it inflated to is then
        // reserved again below, with the rest (never two reservations at once, so a
        // request never waits for room it holds itself).
        let Some(_inflating) = ingest
            .budget
            .reserve_decoding(limits.max_decompressed)
            .await
        else {
            return shutting_down();
        };
        let max = limits.max_decompressed;
        match tokio::task::spawn_blocking(move || gzip::gunzip(&bytes, max)).await {
            Ok(Ok(inflated)) => inflated,
            Ok(Err(error)) => return refused(format, &error),
            Err(_) => return internal_error(format),
        }
    } else {
        bytes
    };
    // The inflated body (when gzip), the decoded request, and the batch for the store
    // (about the inflated size).
    let held = if gzip { 2 } else { 1 };
    let wanted = format
        .decoded_bytes_for(bytes.len())
        .saturating_add(held * bytes.len());
    let Some(decoding_bytes) = ingest.budget.reserve_decoding(wanted).await else {
        return shutting_down();
    };
    let max_decoded = decoding_bytes
        .num_permits()
        .saturating_sub(held * bytes.len());
    let now = u64::try_from(now_unix_nanos()).unwrap_or(0);
    let prepared =
        tokio::task::spawn_blocking(move || prepare(&bytes, format, &limits, max_decoded, now))
            .await;

    let prepared = match prepared {
        Ok(Ok(prepared)) => prepared,
        Ok(Err(error)) => return refused(format, &error),
        Err(_) => return internal_error(format),
    };
    let accepted = prepared.batch.len();
    if accepted > 0
        && let Err(error) = ingest.store.write(prepared.batch).await
    {
        // Exporters retry a 503 (after Retry-After), not a 500: 503 when a retry may
        // succeed (shutting down, disk full, I/O error, database locked).
        let Some(after) = error.retry_after() else {
            return respond::failure(format, StatusCode::INTERNAL_SERVER_ERROR, error.to_string());
        };
        let mut response =
            respond::failure(format, StatusCode::SERVICE_UNAVAILABLE, error.to_string());
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, after.as_secs().into());
        return response;
    }
    tracing::debug!(accepted, rejected = prepared.rejected, "export stored");
    respond::accepted(format, prepared.rejected, prepared.message)
}

/// The answer to a body that could not be inflated or decoded.
fn refused(format: Format, error: &DecodeError) -> Response {
    let status = match error {
        DecodeError::Malformed(_) => StatusCode::BAD_REQUEST,
        DecodeError::TooLargeDecompressed(_)
        | DecodeError::TooManySpans(_)
        | DecodeError::TooComplex(..) => StatusCode::PAYLOAD_TOO_LARGE,
    };
    tracing::debug!(%error, "export refused");
    respond::failure(format, status, error.to_string())
}

/// The answer when inflating or decoding panicked (a bug: logged).
fn internal_error(format: Format) -> Response {
    tracing::error!("inflating or decoding an export request panicked");
    respond::failure(
        format,
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error while decoding",
    )
}

fn busy(format: Format, refusal: &budget::Refusal) -> Response {
    tracing::debug!(%refusal, "export refused");
    respond::failure(format, StatusCode::SERVICE_UNAVAILABLE, refusal.to_string())
}

fn too_large_body(format: Format, limit: usize) -> Response {
    respond::failure(
        format,
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is larger than {limit} bytes (--max-body); send smaller batches"),
    )
}

/// A decoded and validated request.
#[derive(Debug)]
pub struct Prepared {
    /// The valid spans, ready for the store.
    pub batch: Batch,
    /// How many spans were rejected.
    pub rejected: u64,
    /// Which spans were rejected and why (empty when none was).
    pub message: String,
}

/// Decodes an (inflated) body, taking at most `max_decoded_bytes` of memory for it, and
/// validates it against `limits` and the clock `now_unix_nanos`: pure, no I/O. Spans
/// are numbered from 0 in request order in the message.
pub fn prepare(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
    max_decoded_bytes: usize,
    now_unix_nanos: u64,
) -> Result<Prepared, DecodeError> {
    let decode_limits = collector_decode::Limits {
        max_spans: limits.max_spans,
        max_decoded_bytes,
    };
    let request = match format {
        Format::Json => json::decode(bytes, &decode_limits)?,
        Format::Protobuf => protobuf::decode(bytes, &decode_limits)?,
    };
    let rules = &limits.rules;
    let spans = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    // Spans encode to about a protobuf body's size, under half a JSON body's: allocated
    // once at about the right size (the head keeps the batch).
    let encoded = match format {
        Format::Json => bytes.len() / 2,
        Format::Protobuf => bytes.len(),
    };
    let mut batch = Batch::with_capacity(encoded, spans);
    let mut rejections = Rejections::default();
    let mut index = 0;
    for resource_spans in &request.resource_spans {
        let resource = resource_spans.resource.as_ref();
        let resource_problem = rules
            .check_resource(
                resource.unwrap_or(&Default::default()),
                &resource_spans.schema_url,
            )
            .err();
        let mut resource_index = None;
        for scope_spans in &resource_spans.scope_spans {
            let scope = scope_spans.scope.as_ref();
            let scope_problem = rules
                .check_scope(
                    scope.unwrap_or(&Default::default()),
                    &scope_spans.schema_url,
                )
                .err();
            let mut scope_index = None;
            for span in &scope_spans.spans {
                let verdict = match (&resource_problem, &scope_problem) {
                    (Some(problem), _) | (None, Some(problem)) => Err(problem.clone()),
                    (None, None) => rules.check_span(span, now_unix_nanos),
                };
                match verdict {
                    Err(problem) => rejections.add(index, span.span_id.as_bytes(), &problem),
                    Ok(()) => {
                        let r = *resource_index.get_or_insert_with(|| {
                            batch.add_resource(resource, &resource_spans.schema_url)
                        });
                        let s = *scope_index
                            .get_or_insert_with(|| batch.add_scope(scope, &scope_spans.schema_url));
                        batch.add_span(r, s, span);
                    }
                }
                index += 1;
            }
        }
    }
    let message = rejections.message(index);
    Ok(Prepared {
        batch,
        rejected: rejections.count,
        message,
    })
}

/// The rejected spans of a request: all counted, the first few described.
#[derive(Debug, Default)]
struct Rejections {
    count: u64,
    described: String,
}

impl Rejections {
    fn add(&mut self, index: usize, span_id: &[u8], problem: &Problem) {
        self.count += 1;
        if self.count as usize > NAMED_REJECTIONS {
            return;
        }
        if !self.described.is_empty() {
            self.described.push_str("; ");
        }
        let id = if span_id.is_empty() {
            "no spanId".to_owned()
        } else {
            format!("spanId {}", hex(span_id))
        };
        let _ = write!(self.described, "span {index} ({id}): {problem}");
    }

    fn message(&self, total: usize) -> String {
        if self.count == 0 {
            return String::new();
        }
        let mut message = format!(
            "{} of {total} spans rejected (spans numbered from 0 in request order): {}",
            self.count, self.described
        );
        let unnamed = self.count.saturating_sub(NAMED_REJECTIONS as u64);
        if unnamed > 0 {
            let _ = write!(message, "; and {unnamed} more");
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let prepared = prepare(&body, Format::Protobuf, &LIMITS, usize::MAX, NOW).unwrap();
        assert_eq!(prepared.batch.len(), 2);
        assert_eq!(prepared.rejected, 1);
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
        let prepared = prepare(&body, Format::Protobuf, &LIMITS, usize::MAX, NOW).unwrap();
        assert_eq!((prepared.batch.len(), prepared.rejected), (1, 2));
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
        let prepared = prepare(
            &request(vec![(None, spans)]),
            Format::Protobuf,
            &LIMITS,
            usize::MAX,
            NOW,
        )
        .unwrap();
        assert_eq!((prepared.batch.len(), prepared.rejected), (0, 15));
        assert_eq!(prepared.message.matches("kind 9").count(), NAMED_REJECTIONS);
        assert!(
            prepared.message.ends_with("; and 5 more"),
            "{}",
            prepared.message
        );
    }
}
