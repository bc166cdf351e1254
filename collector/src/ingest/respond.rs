//! Export responses in the request's encoding: the signal's `Export*ServiceResponse`
//! (with `partialSuccess` when items were rejected) or a `google.rpc.Status` on failure.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prost::Message;
use serde::Serialize;

use collector_decode::Format;

/// `google.rpc.Status`, the body of an OTLP/HTTP error response.
#[derive(Clone, PartialEq, Message)]
pub struct Status {
    /// A `google.rpc.Code`.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// What went wrong, for a developer.
    #[prost(string, tag = "2")]
    pub message: String,
    /// `google.protobuf.Any` details (the collector sends none).
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<Any>,
}

/// `google.protobuf.Any`, for [`Status::details`].
#[derive(Clone, PartialEq, Message)]
pub struct Any {
    /// The type of the packed message.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The packed message.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.Code` INVALID_ARGUMENT: the request is at fault (400, 408, 413, 415).
const INVALID_ARGUMENT: i32 = 3;
/// `google.rpc.Code` RESOURCE_EXHAUSTED (429: over a rate limit).
const RESOURCE_EXHAUSTED: i32 = 8;
/// `google.rpc.Code` UNAUTHENTICATED (401: no valid ingest key).
const UNAUTHENTICATED: i32 = 16;
/// `google.rpc.Code` INTERNAL (500).
const INTERNAL: i32 = 13;
/// `google.rpc.Code` UNAVAILABLE (503: retry later).
const UNAVAILABLE: i32 = 14;

/// 200 with an export response (`ExportTraceServiceResponse`,
/// `ExportLogsServiceResponse`); in JSON, a response without `partialSuccess` is `{}`.
pub fn accepted<M: Message + Serialize + Default + PartialEq>(
    format: Format,
    response: M,
) -> Response {
    let body = match format {
        Format::Protobuf => response.encode_to_vec(),
        Format::Json if response == M::default() => b"{}".to_vec(),
        Format::Json => serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec()),
    };
    with_body(StatusCode::OK, format, body)
}

/// An error status with a `google.rpc.Status` body saying `message`.
pub fn failure(format: Format, status: StatusCode, message: impl Into<String>) -> Response {
    let code = match status {
        StatusCode::SERVICE_UNAVAILABLE => UNAVAILABLE,
        StatusCode::TOO_MANY_REQUESTS => RESOURCE_EXHAUSTED,
        StatusCode::UNAUTHORIZED => UNAUTHENTICATED,
        s if s.is_server_error() => INTERNAL,
        _ => INVALID_ARGUMENT,
    };
    let message = message.into();
    let body = match format {
        Format::Protobuf => Status {
            code,
            message,
            details: Vec::new(),
        }
        .encode_to_vec(),
        Format::Json => serde_json::json!({ "code": code, "message": message })
            .to_string()
            .into_bytes(),
    };
    let mut response = with_body(status, format, body);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

fn with_body(status: StatusCode, format: Format, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceResponse,
    };

    fn traces(rejected: i64, message: &str) -> ExportTraceServiceResponse {
        ExportTraceServiceResponse {
            partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: message.into(),
            }),
        }
    }

    async fn body(response: Response) -> Vec<u8> {
        to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    }

    #[tokio::test]
    async fn json_bodies() {
        assert_eq!(body(accepted(Format::Json, traces(0, ""))).await, b"{}");
        let partial: serde_json::Value =
            serde_json::from_slice(&body(accepted(Format::Json, traces(2, "why"))).await).unwrap();
        assert_eq!(
            partial,
            serde_json::json!({"partialSuccess": {"rejectedSpans": 2, "errorMessage": "why"}})
        );
        let response = failure(Format::Json, StatusCode::BAD_REQUEST, "bad");
        assert_eq!(response.status(), 400);
        let status: serde_json::Value = serde_json::from_slice(&body(response).await).unwrap();
        assert_eq!(status, serde_json::json!({"code": 3, "message": "bad"}));
    }

    #[tokio::test]
    async fn protobuf_bodies() {
        let response = accepted(Format::Protobuf, traces(1, "why"));
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/x-protobuf"
        );
        let decoded = ExportTraceServiceResponse::decode(&body(response).await[..]).unwrap();
        assert_eq!(decoded.partial_success.unwrap().rejected_spans, 1);
        let response = failure(Format::Protobuf, StatusCode::SERVICE_UNAVAILABLE, "later");
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let status = Status::decode(&body(response).await[..]).unwrap();
        assert_eq!((status.code, status.message.as_str()), (14, "later"));
    }
}
