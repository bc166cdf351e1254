//! `--source-maps DIR`: a stack trace thrown by a minified script, as Node prints it,
//! arrives in an exception span event and in a log record, and is served back naming the
//! original files, lines, columns and functions, with the trace as received beside it.
//!
//! The script is `tests/fixtures/minified-app/assets/app.min.js`, built with its map by
//! esbuild (in that folder: `../../../../browser-glue/node_modules/.bin/esbuild
//! src/checkout.js --bundle --minify --sourcemap --outfile=assets/app.min.js`) from
//! `src/checkout.js` and `src/cart.js`; Node runs it under the URL a browser would have
//! loaded it from, so the fixture folder itself serves as the source-map directory.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use crate::common::*;

/// Where the minified script is served from (its map: `assets/app.min.js.map`).
const SCRIPT_URL: &str = "https://shop.example.com/assets/app.min.js";

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minified-app")
}

/// The stack of the error the minified script throws for `shop.pay("BOGUS")`, run by
/// Node as if loaded from SCRIPT_URL.
fn minified_stack() -> String {
    const RUN: &str = r#"
        const [file, url] = process.argv.slice(1);
        require("node:vm").runInThisContext(require("node:fs").readFileSync(file, "utf8"), { filename: url });
        try { shop.pay("BOGUS"); } catch (error) { process.stdout.write(error.stack); }
    "#;
    let script = fixture().join("assets/app.min.js");
    let output = Command::new("node")
        .args(["-e", RUN])
        .arg(script)
        .arg(SCRIPT_URL)
        .output()
        .expect("node runs the minified script");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn string(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

/// The string attributes of an OTLP JSON attribute list.
fn strings(attributes: &Value) -> Vec<(String, String)> {
    attributes
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|kv| {
            let value = kv["value"]["stringValue"].as_str()?;
            Some((kv["key"].as_str()?.to_owned(), value.to_owned()))
        })
        .collect()
}

fn get<'v>(attributes: &'v [(String, String)], key: &str) -> Option<&'v str> {
    attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Posts a span with an `exception` event holding `stack` (as protobuf) and a log
/// record with the same stack in its trace (as JSON); returns the event's and the
/// record's attributes as served by `GET /api/traces/{id}`.
async fn post_and_read_back(
    server: &TestServer,
    trace: &str,
    stack: &str,
) -> [Vec<(String, String)>; 2] {
    let now = now_ns();
    let exception = [
        string("exception.type", "RangeError"),
        string("exception.message", "unknown discount code BOGUS"),
        string("exception.stacktrace", stack),
    ];
    let mut span = span(trace, &span_id(1), "", "exception", now - 1000, now);
    span["events"] =
        json!([{"timeUnixNano": now.to_string(), "name": "exception", "attributes": exception}]);
    let response = server
        .post(
            to_protobuf(&export("shop", vec![span])),
            &[("content-type", "application/x-protobuf")],
        )
        .await;
    assert_eq!(response.status(), 200);

    let record = json!({
        "timeUnixNano": now.to_string(),
        "severityNumber": 17,
        "body": {"stringValue": "unknown discount code BOGUS"},
        "attributes": exception,
        "traceId": trace,
        "spanId": span_id(1),
    });
    let logs = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]});
    let response = server
        .client
        .post(server.url("/v1/logs"))
        .json(&logs)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let (status, answer) = server.get_json(&format!("/api/traces/{trace}")).await;
    assert_eq!(status, 200, "{answer}");
    let event = &answer["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["events"][0];
    let record = &answer["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
    [
        strings(&event["attributes"]),
        strings(&record["attributes"]),
    ]
}

#[tokio::test]
async fn a_minified_stack_trace_is_stored_mapped_to_its_sources_with_the_received_one_beside_it() {
    let stack = minified_stack();
    assert!(
        stack.contains(&format!("    at n ({SCRIPT_URL}:1:45)\n")),
        "the fixture threw where the map is known: {stack}"
    );
    let server = TestServer::start(|config| config.source_maps = Some(fixture())).await;
    for attributes in post_and_read_back(&server, &trace_id(1), &stack).await {
        let mapped = get(&attributes, "exception.stacktrace").unwrap();
        let lines: Vec<&str> = mapped.lines().collect();
        assert_eq!(
            lines[..4],
            [
                "RangeError: unknown discount code BOGUS",
                "    at applyDiscount (https://shop.example.com/src/cart.js:3:11)",
                "    at checkout (https://shop.example.com/src/checkout.js:4:17)",
                "    at Object.u [as pay] (https://shop.example.com/src/checkout.js:9:10)",
            ],
            "{mapped}"
        );
        // Node's own frames (no map) are as they were.
        assert_eq!(lines[4..], stack.lines().collect::<Vec<_>>()[4..]);
        assert_eq!(
            get(&attributes, "exception.minified_stacktrace"),
            Some(&*stack)
        );
        assert_eq!(get(&attributes, "exception.type"), Some("RangeError"));
    }
}

#[tokio::test]
async fn without_source_maps_stack_traces_are_stored_as_received() {
    let stack = minified_stack();
    let server = TestServer::start(|_| {}).await;
    for attributes in post_and_read_back(&server, &trace_id(2), &stack).await {
        assert_eq!(get(&attributes, "exception.stacktrace"), Some(&*stack));
        assert_eq!(get(&attributes, "exception.minified_stacktrace"), None);
    }
}

#[tokio::test]
async fn a_source_map_directory_that_is_not_one_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = collector::config::Config::with_data_dir(dir.path().join("data"));
    config.source_maps = Some(dir.path().join("missing"));
    let error = collector::server::serve(config).await.err().unwrap();
    assert!(error.to_string().starts_with("--source-maps "), "{error}");
}
