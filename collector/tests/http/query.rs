//! The query API, the viewer page, retention and restarts.

use std::time::Duration;

use collector::config::Age;
use serde_json::json;

use crate::common::*;

/// The trace IDs of a listing, in its order.
fn ids(traces: Vec<serde_json::Value>) -> Vec<String> {
    traces
        .iter()
        .map(|t| t["traceId"].as_str().unwrap().to_owned())
        .collect()
}

const MINUTE: u64 = 60_000_000_000;

#[tokio::test]
async fn filters_by_service_time_and_error_with_limits() {
    let server = TestServer::start(|_| {}).await;
    let now = now_ns();
    // trace n starts n minutes ago; even ones from "web", odd from "api"; 3 and 4 fail.
    for n in 1..=6u64 {
        let service = if n % 2 == 0 { "web" } else { "api" };
        let mut spans = trace_spans(&trace_id(n), n * 10, 2, now - n * MINUTE);
        if n == 3 || n == 4 {
            spans[1]["status"] = json!({"code": 2, "message": "failed"});
        }
        assert_eq!(server.post_json(&export(service, spans)).await.0, 200);
    }
    // Most recent first.
    assert_eq!(
        ids(server.traces("").await),
        (1..=6).map(trace_id).collect::<Vec<_>>()
    );
    assert_eq!(
        ids(server.traces("?limit=2").await),
        [trace_id(1), trace_id(2)]
    );
    assert_eq!(
        ids(server.traces("?service=web").await),
        [trace_id(2), trace_id(4), trace_id(6)]
    );
    assert_eq!(
        ids(server.traces("?error=true").await),
        [trace_id(3), trace_id(4)]
    );
    assert_eq!(
        ids(server.traces("?error=false&service=api").await),
        [trace_id(1), trace_id(5)]
    );
    let window = format!(
        "?start={}&end={}",
        now - 4 * MINUTE - 1,
        now - 2 * MINUTE - 1
    );
    assert_eq!(
        ids(server.traces(&window).await),
        [trace_id(3), trace_id(4)]
    );
    assert!(server.traces("?service=nobody").await.is_empty());
    let errored = &server.traces("?error=true&limit=1").await[0];
    assert_eq!(errored["error"], true);
    assert_eq!(errored["spanCount"], 2);

    for bad in [
        "?limit=0",
        "?limit=5000",
        "?start=yesterday",
        "?error=maybe",
    ] {
        let (status, body) = server.get_json(&format!("/api/traces{bad}")).await;
        assert_eq!(status, 400, "{bad}");
        assert!(body["error"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn one_trace_404_and_400() {
    let server = TestServer::start(|_| {}).await;
    let (status, body) = server
        .get_json(&format!("/api/traces/{}", trace_id(9)))
        .await;
    assert_eq!(status, 404);
    assert!(
        body["error"].as_str().unwrap().contains("no spans"),
        "{body}"
    );
    let (status, body) = server.get_json("/api/traces/not-a-trace").await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("32 hex digits"),
        "{body}"
    );
    let (status, _) = server.get_json("/api/nothing").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_trace_groups_spans_by_resource_and_scope() {
    let server = TestServer::start(|_| {}).await;
    let now = now_ns();
    let trace = trace_id(1);
    let spans = trace_spans(&trace, 1, 4, now - MINUTE);
    // Two services share the trace (browser and backend), over two requests.
    assert_eq!(
        server
            .post_json(&export("web", spans[..2].to_vec()))
            .await
            .0,
        200
    );
    assert_eq!(
        server
            .post_json(&export("api", spans[2..].to_vec()))
            .await
            .0,
        200
    );
    assert_eq!(
        server
            .post_json(&export("web", trace_spans(&trace, 9, 1, now - 1000)))
            .await
            .0,
        200
    );
    let (_, body) = server.get_json(&format!("/api/traces/{trace}")).await;
    assert!(body.get("truncated").is_none(), "{body}");
    let resources = body["resourceSpans"].as_array().unwrap();
    assert_eq!(resources.len(), 2, "{body}");
    let services: Vec<_> = resources
        .iter()
        .map(|r| r["resource"]["attributes"][0]["value"]["stringValue"].clone())
        .collect();
    assert_eq!(services, [json!("web"), json!("api")]);
    assert_eq!(
        resources[0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let listed = &server.traces("?service=api").await[0];
    assert_eq!(listed["service"], "web"); // the root's
    assert_eq!(listed["services"], json!(["api", "web"]));
}

#[tokio::test]
async fn health_and_viewer() {
    let server = TestServer::start(|_| {}).await;
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let page = server.client.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let header = |response: &reqwest::Response, name: &str| {
        response.headers()[name].to_str().unwrap().to_owned()
    };
    assert!(header(&page, "content-type").starts_with("text/html"));
    let csp = header(&page, "content-security-policy");
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="/viewer/main.js">"#));
    assert!(html.contains(r#"href="/viewer/viewer.css""#));
    assert!(
        !html.contains("<style") && !html.contains("style="),
        "no inline styles"
    );
    assert_eq!(html.matches("<script").count(), 1, "no inline scripts");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external assets"
    );
    // The assets, with their types; every script the page imports is served.
    let mut scripts = String::new();
    for (path, content_type) in [
        ("/viewer/viewer.css", "text/css"),
        ("/viewer/logs.js", "text/javascript"),
        ("/viewer/logsearch.js", "text/javascript"),
        ("/viewer/main.js", "text/javascript"),
        ("/viewer/search.js", "text/javascript"),
        ("/viewer/session.js", "text/javascript"),
        ("/viewer/trace.js", "text/javascript"),
        ("/viewer/util.js", "text/javascript"),
    ] {
        let asset = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!(asset.status(), 200, "{path}");
        assert!(
            header(&asset, "content-type").starts_with(content_type),
            "{path}"
        );
        let text = asset.text().await.unwrap();
        if content_type == "text/javascript" {
            scripts.push_str(&text);
        }
    }
    assert!(scripts.contains("/api/traces"));
    assert!(
        !scripts.contains("innerHTML"),
        "span values are text, never markup"
    );
    for import in scripts.match_indices("from './") {
        let name = &scripts[import.0 + 8..];
        let name = &name[..name.find('\'').unwrap()];
        assert!(
            [
                "logs.js",
                "logsearch.js",
                "search.js",
                "session.js",
                "trace.js",
                "util.js",
            ]
            .contains(&name),
            "{name} is imported but not served"
        );
    }
    let missing = server
        .client
        .get(server.url("/viewer/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// Polls `/api/status` until the store holds at most `spans` spans (retention deletes
/// segments once the builder has written them, a moment after the commit; up to 30 s on
/// a loaded machine).
async fn until_at_most(server: &TestServer, spans: u64) -> u64 {
    for _ in 0..3000 {
        let held = server.get_json("/api/status").await.1["spans"]
            .as_u64()
            .unwrap();
        if held <= spans {
            return held;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the store still holds more than {spans} spans");
}

#[tokio::test]
async fn retention_by_count_removes_the_earliest_segments() {
    // Heads are sealed at a quarter of the limit (12 spans): two requests each.
    let server = TestServer::start(|c| c.retention_max_spans = 50).await;
    let now = now_ns();
    for n in 1..=10u64 {
        let spans = trace_spans(&trace_id(n), n * 100, 10, now - (20 - n) * MINUTE);
        assert_eq!(server.post_json(&export("svc", spans)).await.0, 200);
    }
    let held = until_at_most(&server, 50).await;
    assert!(held >= 30, "deleted a segment at a time: {held} left");
    assert!(server.spans_of(&trace_id(1)).await.is_none());
    for n in 8..=10 {
        assert_eq!(server.spans_of(&trace_id(n)).await.unwrap().len(), 10);
    }
}

#[tokio::test]
async fn retention_by_count_keeps_new_arrivals_over_spans_dated_ahead() {
    let server = TestServer::start(|c| c.retention_max_spans = 50).await;
    let now = now_ns();
    // 50 spans dated 10 minutes ahead (within --max-future) fill the store.
    let ahead = trace_spans(&trace_id(1), 100, 50, now + 10 * MINUTE);
    assert_eq!(server.post_json(&export("svc", ahead)).await.0, 200);
    for n in 2..=4u64 {
        let spans = trace_spans(&trace_id(n), n * 100, 10, now - MINUTE);
        assert_eq!(server.post_json(&export("svc", spans)).await.0, 200);
    }
    // The new spans stay; the ones that arrived first made room.
    until_at_most(&server, 50).await;
    for n in 2..=4u64 {
        assert_eq!(server.spans_of(&trace_id(n)).await.unwrap().len(), 10);
    }
    assert!(server.spans_of(&trace_id(1)).await.is_none());
}

#[tokio::test]
async fn a_trace_over_the_span_limit_is_cut_to_its_first_spans() {
    let server = TestServer::start(|_| {}).await;
    let trace = trace_id(1);
    let start = now_ns() - 60 * MINUTE;
    // 5,000 spans, then 6,000 that started before them: 11,000, over the 10,000 returned.
    let later = trace_spans(&trace, 1, 5_000, start);
    let mut earlier = trace_spans(&trace, 5_001, 6_000, start - 6_000 * 1000);
    for span in &mut earlier {
        span["parentSpanId"] = json!(span_id(1));
    }
    assert_eq!(server.post_json(&export("svc", later)).await.0, 200);
    assert_eq!(server.post_json(&export("svc", earlier)).await.0, 200);

    let (status, body) = server.get_json(&format!("/api/traces/{trace}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["truncated"],
        json!({"spans": 11_000, "returned": 10_000})
    );
    let spans = server.spans_of(&trace).await.unwrap();
    assert_eq!(spans.len(), 10_000);
    let starts: Vec<u64> = spans
        .iter()
        .map(|s| s["startTimeUnixNano"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(starts.is_sorted());
    // All 6,000 earlier spans, then the first 4,000 of the later ones.
    assert_eq!(starts[0], start - 6_000 * 1000);
    assert_eq!(starts[9_999], start + 3_999 * 1000);
    assert_eq!(spans[9_999]["spanId"], span_id(4_000));
    // The listing still counts every span.
    assert_eq!(server.traces("").await[0]["spanCount"], 11_000);
}

#[tokio::test]
async fn a_listing_cuts_long_names_and_a_trace_keeps_them() {
    // Names this long are refused by default (--max-field-length): allow them here.
    let server =
        TestServer::start(|c| c.max_field_length = collector::config::ByteSize(64 << 10)).await;
    let trace = trace_id(1);
    let name = "é".repeat(20_000);
    let service = "s".repeat(30_000);
    let spans = vec![span(
        &trace,
        &span_id(1),
        "",
        &name,
        now_ns() - MINUTE,
        now_ns(),
    )];
    assert_eq!(server.post_json(&export(&service, spans)).await.0, 200);

    let listed = &server.traces("").await[0];
    let cut_name = listed["rootSpanName"].as_str().unwrap();
    assert_eq!(cut_name, format!("{}…", "é".repeat(256)));
    assert_eq!(listed["service"], format!("{}…", "s".repeat(256)));
    // A name of exactly 256 characters is listed whole.
    let trace2 = trace_id(2);
    let exact = "x".repeat(256);
    let spans = vec![span(
        &trace2,
        &span_id(2),
        "",
        &exact,
        now_ns() - 1000,
        now_ns(),
    )];
    assert_eq!(server.post_json(&export("svc", spans)).await.0, 200);
    assert_eq!(
        server.traces("?service=svc").await[0]["rootSpanName"],
        exact
    );

    let full = server.spans_of(&trace).await.unwrap();
    assert_eq!(full[0]["name"], name);
}

#[tokio::test]
async fn retention_by_age_removes_old_segments_also_at_start_up() {
    // Heads sealed at 3 spans: each trace below becomes a segment of its own.
    let small = |c: &mut collector::config::Config| c.retention_max_spans = 12;
    let mut server = TestServer::start(|c| {
        small(c);
        c.retention_max_age = Age(None);
    })
    .await;
    let now = now_ns();
    let old = trace_spans(&trace_id(1), 1, 3, now - 120 * MINUTE);
    let new = trace_spans(&trace_id(2), 10, 3, now - MINUTE);
    assert_eq!(server.post_json(&export("svc", old)).await.0, 200);
    assert_eq!(server.post_json(&export("svc", new)).await.0, 200);
    assert_eq!(server.traces("").await.len(), 2);

    server
        .restart(|c| {
            small(c);
            c.retention_max_age = Age(Some(Duration::from_secs(3600)));
        })
        .await;
    until_at_most(&server, 3).await;
    assert!(server.spans_of(&trace_id(1)).await.is_none());
    assert_eq!(server.spans_of(&trace_id(2)).await.unwrap().len(), 3);

    // Spans older than the retention age are refused on arrival.
    let old = trace_spans(&trace_id(3), 20, 2, now - 90 * MINUTE);
    assert_eq!(server.post_json(&export("svc", old)).await.0, 200);
    assert!(server.spans_of(&trace_id(3)).await.is_none());
}

#[tokio::test]
async fn a_graceful_restart_keeps_the_data() {
    let mut server = TestServer::start(|_| {}).await;
    let now = now_ns();
    let spans = trace_spans(&trace_id(1), 1, 5, now - MINUTE);
    assert_eq!(server.post_json(&export("svc", spans)).await.0, 200);
    server.restart(|_| {}).await;
    assert_eq!(server.spans_of(&trace_id(1)).await.unwrap().len(), 5);
}

/// The search filters over HTTP, from memory and from segments: one span must meet
/// every condition.
#[tokio::test]
async fn search_by_operation_attribute_and_duration() {
    // Heads sealed at 2 spans: the first traces are in segments, the last in memory.
    let server = TestServer::start(|c| c.retention_max_spans = 8).await;
    let now = now_ns() - 10 * MINUTE;
    let mut slow = span(
        &trace_id(1),
        &span_id(1),
        "",
        "checkout",
        now,
        now + 2_000_000_000,
    );
    slow["attributes"][1]["value"]["intValue"] = json!("500");
    let fast = span(
        &trace_id(2),
        &span_id(2),
        "",
        "checkout",
        now + 1,
        now + 3_000_000,
    );
    let other = span(
        &trace_id(3),
        &span_id(3),
        "",
        "search",
        now + 2,
        now + 2_000_000_000,
    );
    for (service, span) in [("shop", slow), ("shop", fast), ("search", other)] {
        assert_eq!(server.post_json(&export(service, vec![span])).await.0, 200);
    }
    assert_eq!(
        ids(server.traces("?operation=checkout").await),
        [trace_id(2), trace_id(1)]
    );
    assert_eq!(
        ids(server.traces("?attr=http.response.status_code%3D500").await),
        [trace_id(1)]
    );
    assert_eq!(
        ids(server
            .traces("?service=shop&attr=http.request.method=GET&minDuration=1.5s")
            .await),
        [trace_id(1)]
    );
    assert_eq!(ids(server.traces("?maxDuration=3ms").await), [trace_id(2)]);
    assert_eq!(
        ids(server.traces("?minDuration=1s&operation=search").await),
        [trace_id(3)]
    );
    assert!(
        server
            .traces("?operation=search&service=shop")
            .await
            .is_empty()
    );

    let (status, body) = server.get_json("/api/services").await;
    assert_eq!(
        (status, body["services"].clone()),
        (200, json!(["search", "shop"]))
    );
    let (status, body) = server.get_json("/api/services/shop/operations").await;
    assert_eq!(
        (status, body["operations"].clone()),
        (200, json!(["checkout"]))
    );
    assert_eq!(
        server.get_json("/api/services/nobody/operations").await.0,
        404
    );

    for (query, message) in [
        ("?minDuration=fast", "minDuration"),
        ("?maxDuration=10", "maxDuration"),
        ("?attr=novalue", "attr=key=value"),
        ("?operaton=checkout", "unknown parameter"),
        ("?limit=1&limit=2", "twice"),
    ] {
        let (status, body) = server.get_json(&format!("/api/traces{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(
            body["error"].as_str().unwrap().contains(message),
            "{query}: {body}"
        );
    }
    let (_, status) = server.get_json("/api/status").await;
    assert_eq!(status["spans"], 3);
}

/// A span with `session.id` set to `session`.
fn in_session(mut span: serde_json::Value, session: &str) -> serde_json::Value {
    span["attributes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "session.id", "value": {"stringValue": session}}));
    span
}

/// The trace IDs of an OTLP JSON answer's spans, sorted, once each.
fn trace_ids_of(body: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = body["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["scopeSpans"].as_array().unwrap())
        .flat_map(|s| s["spans"].as_array().unwrap())
        .map(|s| s["traceId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[tokio::test]
async fn a_session_answers_the_spans_of_its_traces_bounded() {
    let server = TestServer::start(|_| {}).await;
    let now = now_ns() - MINUTE;
    // Traces 1 and 2 are session s-1 (its ID on one span of each), trace 3 is s-2.
    let mut first = trace_spans(&trace_id(1), 10, 2, now);
    first[0] = in_session(first[0].clone(), "s-1");
    let mut second = trace_spans(&trace_id(2), 20, 3, now + 1000);
    second[2] = in_session(second[2].clone(), "s-1");
    let mut third = trace_spans(&trace_id(3), 30, 1, now + 2000);
    third[0] = in_session(third[0].clone(), "s-2");
    for spans in [first, second, third] {
        assert_eq!(server.post_json(&export("web", spans)).await.0, 200);
    }
    let (status, body) = server.get_json("/api/sessions/s-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(trace_ids_of(&body), [trace_id(1), trace_id(2)]);
    assert_eq!(
        (body["traces"].clone(), body["truncated"].clone()),
        (json!(2), json!(false))
    );
    let spans: usize = body["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scopeSpans"][0]["spans"].as_array().unwrap().len())
        .sum();
    assert_eq!(spans, 5, "every span of both traces");
    let (status, body) = server.get_json("/api/sessions/nobody").await;
    assert_eq!(status, 404, "{body}");
    // Over the trace limit: the most recent traces, and the flag.
    let many: Vec<_> = (0..collector::query::MAX_SESSION_TRACES as u64 + 1)
        .map(|n| {
            in_session(
                span(
                    &trace_id(100 + n),
                    &span_id(100 + n),
                    "",
                    "op",
                    now + n,
                    now + n + 1,
                ),
                "s-3",
            )
        })
        .collect();
    assert_eq!(server.post_json(&export("web", many)).await.0, 200);
    let (status, body) = server.get_json("/api/sessions/s-3").await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["traces"].clone(), body["truncated"].clone()),
        (json!(collector::query::MAX_SESSION_TRACES), json!(true))
    );
    assert!(
        !trace_ids_of(&body).contains(&trace_id(100)),
        "the oldest is left out"
    );
}
