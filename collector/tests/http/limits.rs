//! Size and count limits: 413 with a message, early and while reading.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use collector::config::ByteSize;
use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn a_declared_length_over_the_limit_gets_413_before_reading() {
    let server = TestServer::start(|c| c.max_body = ByteSize(64 << 10)).await;
    let response = server
        .post(
            vec![b' '; 100 << 10],
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 3);
    assert!(
        body["message"].as_str().unwrap().contains("65536 bytes"),
        "{body}"
    );
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_gets_413_while_reading() {
    let server = TestServer::start(|c| c.max_body = ByteSize(64 << 10)).await;
    let addr = server.running.as_ref().unwrap().local_addr();
    let response = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut request =
            b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n\
            Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                .to_vec();
        for _ in 0..5 {
            request.extend_from_slice(b"4000\r\n");
            request.extend(std::iter::repeat_n(0u8, 0x4000));
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
        stream.write_all(&request).unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("larger than 65536 bytes"), "{response}");
}

#[tokio::test]
async fn a_gzip_bomb_is_refused_quickly() {
    let server = TestServer::start(|_| {}).await;
    let bomb = gzip(&vec![0u8; 20 << 20]);
    assert!(bomb.len() < 64 << 10, "{} bytes", bomb.len());
    let started = Instant::now();
    let response = server
        .post(
            bomb,
            &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
        )
        .await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("inflates to more than 16777216 bytes"),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn too_many_spans_get_413_in_both_encodings() {
    let server = TestServer::start(|c| c.max_spans_per_request = 10).await;
    let now = now_ns();
    let request = export("svc", trace_spans(&trace_id(1), 1, 11, now - 100_000));
    let (status, body) = server.post_json(&request).await;
    assert_eq!(status, 413);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("more than 10 spans"),
        "{body}"
    );
    let response = server
        .post(
            to_protobuf(&request),
            &[("content-type", "application/x-protobuf")],
        )
        .await;
    assert_eq!(response.status(), 413);
    // Exactly at the limit is fine.
    let request = export("svc", trace_spans(&trace_id(2), 1, 10, now - 100_000));
    assert_eq!(server.post_json(&request).await.0, 200);
    assert!(server.spans_of(&trace_id(1)).await.is_none());
}

#[tokio::test]
async fn a_body_of_millions_of_empty_objects_is_refused_before_decoding() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    // One span with 1,200,000 empty links: 2.4 MB inflated (under the 16 MiB limit), which
    // would decode to ~120 MB; the limit is one object per 16 bytes of 16 MiB (1,048,576).
    let mut span = vec![0x0a, 0x10];
    span.extend([1u8; 16]);
    for _ in 0..1_200_000 {
        span.extend_from_slice(&[0x6a, 0x00]);
    }
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span::decode(&span[..]).unwrap()],
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    };
    let body = gzip(&request.encode_to_vec());
    let server = TestServer::start(|_| {}).await;
    let response = server
        .post(
            body,
            &[
                ("content-type", "application/x-protobuf"),
                ("content-encoding", "gzip"),
            ],
        )
        .await;
    assert_eq!(response.status(), 413);
}
