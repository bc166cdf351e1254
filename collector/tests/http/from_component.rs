//! End to end: the tracing component, run under wasmtime with the system clock, exports
//! its payloads to the collector over HTTP, and the query API returns those spans intact.

use serde_json::Value;
use wasmtime_host::{
    AttributeValue, Config, HostState, SpanKind, SpanOptions, Status, TracingRuntime,
};

use crate::common::TestServer;

#[tokio::test]
async fn spans_exported_by_the_component_come_back_from_the_query_api() {
    let server = TestServer::start(|_| {}).await;
    let runtime =
        TracingRuntime::load_default().expect("the component is built (just build-component)");
    let host = HostState::new();
    let payloads = host.payloads();
    let mut tracing = runtime.instantiate(host).unwrap();
    tracing
        .configure(&Config::for_service("component-e2e"))
        .unwrap()
        .unwrap();

    let root = tracing
        .start_span(
            "checkout",
            &SpanOptions {
                kind: SpanKind::Server,
                ..SpanOptions::root()
            },
        )
        .unwrap()
        .unwrap();
    let child = tracing
        .start_span("payment", &SpanOptions::child_of(root))
        .unwrap()
        .unwrap();
    tracing
        .set_attribute(child, "payment.amount", &AttributeValue::F64(19.99))
        .unwrap()
        .unwrap();
    tracing
        .set_attribute(child, "payment.attempt", &AttributeValue::S64(2))
        .unwrap()
        .unwrap();
    tracing
        .record_exception(
            child,
            "CardDeclined",
            "insufficient funds",
            "at pay()",
            None,
        )
        .unwrap()
        .unwrap();
    tracing
        .set_status(child, &Status::Error("declined".into()))
        .unwrap()
        .unwrap();
    tracing.end_span(child, None).unwrap().unwrap();
    tracing.end_span(root, None).unwrap().unwrap();
    let root_context = tracing.context_of(root);
    assert!(
        root_context.unwrap().is_err(),
        "an ended span's handle is gone"
    );
    tracing.force_flush().unwrap();

    // The host's transport: each payload goes to the collector as the component made it.
    let sent = payloads.drain();
    assert_eq!(sent.len(), 1);
    let response = server
        .post(
            sent[0].body.clone(),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer.get("partialSuccess").is_none(),
        "nothing rejected: {answer}"
    );

    let listed = server.traces("?service=component-e2e").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let trace = &listed[0];
    assert_eq!(trace["rootSpanName"], "checkout");
    assert_eq!(trace["spanCount"], 2);
    assert_eq!(trace["error"], true);

    let sent_json: Value = serde_json::from_slice(&sent[0].body).unwrap();
    let trace_id = trace["traceId"].as_str().unwrap();
    let (status, stored) = server.get_json(&format!("/api/traces/{trace_id}")).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(
        normalise(&stored["resourceSpans"][0]["resource"]),
        normalise(&sent_json["resourceSpans"][0]["resource"])
    );
    let stored_spans = spans_by_name(&stored);
    let sent_spans = spans_by_name(&sent_json);
    assert_eq!(stored_spans.len(), 2);
    for (name, sent_span) in &sent_spans {
        let stored_span = &stored_spans[name];
        for field in [
            "traceId",
            "spanId",
            "parentSpanId",
            "name",
            "kind",
            "startTimeUnixNano",
            "endTimeUnixNano",
            "attributes",
            "events",
            "status",
        ] {
            assert_eq!(
                normalise(&stored_span[field]),
                normalise(&sent_span[field]),
                "{name}.{field} changed on the way"
            );
        }
    }
}

/// Spans of an OTLP/JSON request, keyed by name.
fn spans_by_name(request: &Value) -> std::collections::HashMap<String, Value> {
    request["resourceSpans"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|rs| rs["scopeSpans"].as_array().into_iter().flatten())
        .flat_map(|ss| ss["spans"].as_array().into_iter().flatten())
        .map(|span| (span["name"].as_str().unwrap().to_owned(), span.clone()))
        .collect()
}

/// Drops proto3 defaults (`0`, `""`, `[]`, `{}`, `null`) from objects, recursively, so
/// that an absent field and its default compare equal.
fn normalise(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let kept: serde_json::Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), normalise(v)))
                .filter(|(_, v)| !is_default(v))
                .collect();
            if kept.is_empty() {
                Value::Null
            } else {
                Value::Object(kept)
            }
        }
        Value::Array(items) if !items.is_empty() => {
            Value::Array(items.iter().map(normalise).collect())
        }
        other if is_default(other) => Value::Null,
        other => other.clone(),
    }
}

fn is_default(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Bool(b) => !b,
        Value::Object(map) => map.is_empty(),
    }
}
