//! The log signal (`POST /v1/logs`): `ExportLogsServiceRequest` in,
//! `ExportLogsServiceResponse` out.

use axum::response::Response;
use collector_decode::model::{KeyValue, LogRecord, LogsRequest, Resource};
use collector_decode::{DecodeError, Format, json, protobuf};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};

use super::intake::Item;
use super::validate::{Problem, Rules};
use super::{Scope, Signal, respond};
use crate::metrics::SignalName;
use crate::store::{Batch, hex};

/// Log records.
pub struct Logs;

impl Item for LogRecord<'_> {
    const NOUN: &'static str = "log record";

    fn check(&self, rules: &Rules, now_unix_nanos: u64) -> Result<(), Problem> {
        rules.check_log_record(self, now_unix_nanos)
    }

    fn describe(&self) -> String {
        if self.trace_id.is_empty() {
            "no traceId".to_owned()
        } else {
            format!("traceId {}", hex(self.trace_id.as_bytes()))
        }
    }

    fn batch(bytes: usize, items: usize) -> Batch {
        Batch::with_log_capacity(bytes, items)
    }

    fn add_to(&self, batch: &mut Batch, resource: u32, scope: u32) {
        batch.add_log(resource, scope, self);
    }
}

impl Signal for Logs {
    const NAME: SignalName = SignalName::Logs;
    type Request<'a> = LogsRequest<'a>;
    type Item<'a> = LogRecord<'a>;

    fn decode<'a>(
        bytes: &'a [u8],
        format: Format,
        limits: &collector_decode::Limits,
    ) -> Result<LogsRequest<'a>, DecodeError> {
        match format {
            Format::Json => json::decode_logs(bytes, limits),
            Format::Protobuf => protobuf::decode_logs(bytes, limits),
        }
    }

    fn resources<'r, 'a: 'r>(
        request: &'r LogsRequest<'a>,
    ) -> impl Iterator<
        Item = (
            Option<&'r Resource<'a>>,
            &'r str,
            impl Iterator<Item = Scope<'r, 'a, LogRecord<'a>>>,
        ),
    > {
        request.resource_logs.iter().map(|r| {
            let scopes = r
                .scope_logs
                .iter()
                .map(|s| (s.scope.as_ref(), &*s.schema_url, &s.log_records[..]));
            (r.resource.as_ref(), &*r.schema_url, scopes)
        })
    }

    fn exception_attributes<'r, 'a: 'r>(
        request: &'r mut LogsRequest<'a>,
    ) -> impl Iterator<Item = &'r mut Vec<KeyValue<'a>>> {
        request
            .resource_logs
            .iter_mut()
            .flat_map(|r| &mut r.scope_logs)
            .flat_map(|s| &mut s.log_records)
            .map(|record| &mut record.attributes)
    }

    fn accepted(format: Format, rejected: u64, message: String) -> Response {
        let partial_success = (rejected > 0).then(|| ExportLogsPartialSuccess {
            rejected_log_records: i64::try_from(rejected).unwrap_or(i64::MAX),
            error_message: message,
        });
        respond::accepted(format, ExportLogsServiceResponse { partial_success })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Limits, prepare};
    use crate::store::SESSION_ID;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
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

    fn record(n: u8) -> LogRecord {
        LogRecord {
            time_unix_nano: NOW - 10,
            severity_number: 17,
            body: Some(AnyValue {
                value: Some(Value::StringValue(format!("error {n}"))),
            }),
            attributes: vec![KeyValue {
                key: SESSION_ID.into(),
                value: Some(AnyValue {
                    value: Some(Value::StringValue("s".into())),
                }),
                ..KeyValue::default()
            }],
            trace_id: vec![n; 16],
            span_id: vec![n; 8],
            ..LogRecord::default()
        }
    }

    fn request(records: Vec<LogRecord>) -> Vec<u8> {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: records,
                    ..ScopeLogs::default()
                }],
                ..ResourceLogs::default()
            }],
        }
        .encode_to_vec()
    }

    #[test]
    fn invalid_records_are_named_and_valid_ones_kept() {
        let no_trace = LogRecord {
            trace_id: Vec::new(),
            ..record(2)
        };
        let big = LogRecord {
            body: Some(AnyValue {
                value: Some(Value::StringValue("x".repeat(17))),
            }),
            ..record(4)
        };
        let body = request(vec![record(1), no_trace, record(3), big]);
        let prepared =
            prepare::<Logs>(&body, Format::Protobuf, &LIMITS, usize::MAX, NOW, None).unwrap();
        assert_eq!((prepared.batch.len(), prepared.rejected.total()), (2, 2));
        assert_eq!(
            prepared.rejected.by_kind(),
            [("span_id_without_trace_id", 1), ("body_too_large", 1)]
        );
        assert_eq!(
            prepared.message,
            "2 of 4 log records rejected (log records numbered from 0 in request order): \
             log record 1 (no traceId): spanId is set but traceId is empty; \
             log record 3 (traceId 04040404040404040404040404040404): \
             body is 17 bytes; the limit is 16 (--max-attribute-value)"
        );
        let row = prepared.batch.logs()[0];
        assert_eq!((row.trace_id, row.severity), (Some([1; 16]), 17));
        assert!(row.session.is_some());
    }
}
