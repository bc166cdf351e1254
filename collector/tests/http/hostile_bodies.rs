//! Bodies built to exhaust the collector: deep and wide attribute values, tiny values by
//! the million, huge strings. Each is refused (or its bad span rejected) with a message,
//! within bounded memory, against the binary, and a good request is stored afterwards.

use serde_json::Value;

use crate::common::*;

/// A request of one span whose one attribute value is `value` (JSON text), padded with
/// nothing else.
fn one_attribute(value: &str) -> Vec<u8> {
    let span = span(
        &trace_id(1),
        &span_id(1),
        "",
        "hostile",
        now_ns() - 1000,
        now_ns(),
    );
    let mut text = serde_json::to_string(&export("hostile", vec![span])).unwrap();
    let at = text.find("\"attributes\":[").unwrap() + "\"attributes\":[".len();
    text.insert_str(at, &format!(r#"{{"key":"k","value":{value}}},"#));
    text.into_bytes()
}

/// `depth` nested `arrayValue`s, each also holding an unknown key with `ints` integers.
fn nested(depth: usize, ints: usize) -> String {
    let unknown = format!(r#""future":[{}]"#, vec!["1"; ints].join(","));
    let mut value = r#"{"intValue":"1"}"#.to_owned();
    for _ in 0..depth {
        value = format!(r#"{{{unknown},"arrayValue":{{"values":[{value}]}}}}"#);
    }
    value
}

async fn post(client: &reqwest::Client, base: &str, body: Vec<u8>, kind: &str) -> (u16, Value) {
    let response = client
        .post(format!("{base}/v1/traces"))
        .header("content-type", kind)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn deep_and_wide_values_cost_no_more_than_their_bytes() {
    let collector = Binary::start(&[], 4096);
    let client = reqwest::Client::new();
    let base = collector.url("");

    // 38 levels, each with an unknown integer array: about 4 MB, four at once.
    let deep = one_attribute(&nested(38, 50_000));
    assert!(
        deep.len() > 3_500_000 && deep.len() < 4 << 20,
        "{}",
        deep.len()
    );
    let answers = futures_join(&client, &base, deep, 4).await;
    for (status, body) in answers {
        assert_eq!(status, 400, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("nested more than 16 levels"),
            "{body}"
        );
    }

    // One level deep: the unknown array is skipped and the span stored.
    let wide = one_attribute(&nested(1, 1_900_000));
    assert!(wide.len() > 3_500_000, "{}", wide.len());
    let (status, body) = post(&client, &base, wide, "application/json").await;
    assert_eq!(status, 200, "{body}");

    // A million empty maps: 3 bytes each, too many for their size.
    let tiny = one_attribute(&format!(
        r#"{{"kvlistValue":{{"values":[{}]}}}}"#,
        vec!["{}"; 1_300_000].join(",")
    ));
    let (status, body) = post(&client, &base, tiny, "application/json").await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("too many tiny values"),
        "{body}"
    );

    // The same in protobuf: 2,000,000 empty links in one span.
    let mut span = vec![0x0a, 0x10];
    span.extend([1u8; 16]);
    for _ in 0..2_000_000 {
        span.extend_from_slice(&[0x6a, 0x00]);
    }
    // ScopeSpans.spans (2) in ResourceSpans.scope_spans (2) in the request's field 1.
    let scope_spans = length_delimited(2, &span);
    let body = length_delimited(1, &length_delimited(2, &scope_spans));
    let (status, answer) = post(&client, &base, body, "application/x-protobuf").await;
    assert_eq!(status, 413, "{answer}");

    let peak = collector.status_kb("VmHWM");
    assert!(peak < MAX_RSS_KB, "peak RSS {peak} kB");
    post_good(&client, &base, 7).await;
}

#[tokio::test]
async fn huge_names_are_rejected_span_by_span_and_never_stored() {
    let collector = Binary::start(&[], 4096);
    let client = reqwest::Client::new();
    let base = collector.url("");
    let now = now_ns();
    let trace = trace_id(2);
    let huge = span(
        &trace,
        &span_id(1),
        "",
        &"n".repeat(3_700_000),
        now - 1000,
        now,
    );
    let good = span(&trace, &span_id(2), "", "good", now - 1000, now);
    let body = serde_json::to_vec(&export("names", vec![huge, good])).unwrap();
    let (status, answer) = post(&client, &base, body, "application/json").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["partialSuccess"]["rejectedSpans"], 1, "{answer}");
    let message = answer["partialSuccess"]["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("span 0 (spanId") && message.contains("span name is 3700000 bytes"),
        "{message}"
    );
    let listing = get_json_from(&client, &format!("{base}/api/traces?service=names")).await;
    assert_eq!(listing["traces"][0]["rootSpanName"], "good", "{listing}");
    assert!(listing.to_string().len() < 2000);
    let peak = collector.status_kb("VmHWM");
    assert!(peak < MAX_RSS_KB, "peak RSS {peak} kB");
    post_good(&client, &base, 8).await;
}

/// POSTs `body` as JSON `n` times at once.
async fn futures_join(
    client: &reqwest::Client,
    base: &str,
    body: Vec<u8>,
    n: usize,
) -> Vec<(u16, Value)> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (client, base, body) = (client.clone(), base.to_owned(), body.clone());
            tokio::spawn(async move { post(&client, &base, body, "application/json").await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}
