//! Connection limits against hostile clients: slow heads, idle connections, many
//! connections, trickled bodies and huge heads. Where memory matters the collector runs
//! as its own process (the binary), so its peak RSS can be read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use collector::config::{ByteSize, Timeout};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};

use crate::common::*;

/// Reads until the server closes the connection (or `limit` passes): what it sent, and
/// when it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<(Vec<u8>, Instant)> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some((received, Instant::now())),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

async fn healthz(client: &reqwest::Client, base: &str) -> Duration {
    let started = Instant::now();
    let response = timeout(
        Duration::from_secs(5),
        client.get(format!("{base}/healthz")).send(),
    )
    .await
    .expect("/healthz answered")
    .unwrap();
    assert_eq!(response.status(), 200);
    started.elapsed()
}

/// Starts an export of `length` bytes and sends its first byte of body only: the
/// connection, to be dropped when done.
async fn start_export(addr: std::net::SocketAddr, length: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Reads one response (head and body) from a connection.
async fn response_of(stream: &mut TcpStream) -> String {
    let (received, _) = read_until_closed(stream, Duration::from_secs(2))
        .await
        .expect("answered and closed");
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn slow_heads_are_cut_after_the_header_timeout() {
    let server = TestServer::start(|c| {
        c.header_timeout = Timeout(Duration::from_secs(1));
        c.idle_timeout = Timeout(Duration::from_secs(10));
    })
    .await;
    let addr = server.running.as_ref().unwrap().local_addr();
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..200 {
        clients.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let head = b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
            stream.write_all(head).await.unwrap();
            // One more byte every 100 ms, until the server closes the connection.
            let (mut reader, mut writer) = stream.into_split();
            let trickle = tokio::spawn(async move {
                while writer.write_all(b"a").await.is_ok() {
                    sleep(Duration::from_millis(100)).await;
                }
            });
            let mut buf = [0u8; 1024];
            let closed = timeout(Duration::from_secs(5), async {
                while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {}
            })
            .await;
            trickle.abort();
            closed.is_ok()
        }));
    }
    for client in clients {
        assert!(client.await.unwrap(), "a slow head was not cut");
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    post_good(&server.client, &server.base, 1).await;
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let server = TestServer::start(|c| c.idle_timeout = Timeout(Duration::from_millis(800))).await;
    let addr = server.running.as_ref().unwrap().local_addr();

    // A kept-alive connection that sends nothing after its first request.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let answered = Instant::now();
    // A connection that never sends anything.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let opened = Instant::now();

    let (rest, closed) = read_until_closed(&mut kept, Duration::from_secs(5))
        .await
        .expect("the kept-alive connection was closed");
    assert!(rest.is_empty());
    let idle = closed - answered;
    assert!(
        idle >= Duration::from_millis(700) && idle < Duration::from_secs(3),
        "{idle:?}"
    );
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(5))
        .await
        .expect("the silent connection was closed");
    let idle = closed - opened;
    assert!(
        idle >= Duration::from_millis(700) && idle < Duration::from_secs(3),
        "{idle:?}"
    );

    // A connection in use is not closed while its request is in progress: a body sent
    // slowly but within the upload rate, over more than the idle timeout.
    let mut busy = TcpStream::connect(addr).await.unwrap();
    let body = serde_json::to_vec(&export(
        "slow",
        trace_spans(&trace_id(7), 1, 1, now_ns() - 1_000_000),
    ))
    .unwrap();
    busy.write_all(
        format!(
            "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let (first, second) = body.split_at(body.len() / 2);
    busy.write_all(first).await.unwrap();
    sleep(Duration::from_millis(1200)).await;
    busy.write_all(second).await.unwrap();
    let n = timeout(Duration::from_secs(5), busy.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
}

#[tokio::test]
async fn when_all_connections_are_taken_the_longest_idle_make_room() {
    let server = TestServer::start(|c| {
        c.max_connections = 50;
        c.connection_reserve = 10;
    })
    .await;
    let addr = server.running.as_ref().unwrap().local_addr();
    let mut idle = Vec::new();
    for _ in 0..120 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    // /healthz answers on a new connection (reqwest's), and so does a good export.
    let client = reqwest::Client::new();
    assert!(healthz(&client, &server.base).await < Duration::from_secs(2));
    post_good(&client, &server.base, 2).await;
    // The oldest idle connections were closed to make room.
    let (_, _) = read_until_closed(&mut idle[0], Duration::from_secs(2))
        .await
        .expect("the oldest idle connection was closed");
}

#[tokio::test]
async fn many_idle_connections_do_not_stop_healthz() {
    // Soft limit 1024 files at start: the collector raises it to hold 1,100 connections.
    let collector = Binary::start(&["--idle-timeout", "30s"], 1024);
    // This test process holds 1,100 sockets too.
    collector::connections::fit_to_open_files(1);
    let (soft, hard) = collector.open_file_limits();
    assert_eq!(soft, hard, "the soft open-file limit was raised");
    let mut idle = Vec::new();
    for _ in 0..1100 {
        idle.push(TcpStream::connect(&collector.addr).await.unwrap());
    }
    // Give the accept loop time to take them all.
    sleep(Duration::from_millis(300)).await;
    let client = reqwest::Client::new();
    let base = collector.url("");
    assert!(healthz(&client, &base).await < Duration::from_secs(2));
    post_good(&client, &base, 3).await;
    // None was closed to make room: the first and the last still serve requests.
    for index in [0, 1099] {
        let stream = &mut idle[index];
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    }
}

#[tokio::test]
async fn trickled_bodies_get_408_and_do_not_delay_a_good_post() {
    let server = TestServer::start(|c| {
        c.body_timeout = Timeout(Duration::from_secs(1));
        c.min_upload_rate = ByteSize(1 << 10);
        // Room for the four trickled bodies' declared sizes and a small one beside them.
        c.max_bytes_in_flight = ByteSize(1 << 20);
        c.in_flight_wait = Timeout(Duration::from_millis(500));
    })
    .await;
    let addr = server.running.as_ref().unwrap().local_addr();
    let started = Instant::now();
    let mut tricklers = Vec::new();
    for _ in 0..6 {
        tricklers.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream
                .write_all(
                    b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                      Content-Type: application/json\r\nContent-Length: 150000\r\n\r\n{",
                )
                .await
                .unwrap();
            let (mut reader, mut writer) = stream.into_split();
            let trickle = tokio::spawn(async move {
                while writer.write_all(b" ").await.is_ok() {
                    sleep(Duration::from_secs(1)).await;
                }
            });
            let response = timeout(Duration::from_secs(6), async {
                let mut response = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = reader.read(&mut buf).await {
                    response.extend_from_slice(&buf[..n]);
                    if response.ends_with(b"}") {
                        break;
                    }
                }
                response
            })
            .await;
            trickle.abort();
            (
                String::from_utf8_lossy(&response.unwrap_or_default()).into_owned(),
                started.elapsed(),
            )
        }));
    }
    // Six reservations of 150,000 bytes fit in 1 MiB, and the good POST beside them.
    sleep(Duration::from_millis(300)).await;
    let waited = post_good(&server.client, &server.base, 4).await;
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    for trickler in tricklers {
        let (response, elapsed) = trickler.await.unwrap();
        assert!(response.starts_with("HTTP/1.1 408"), "{response}");
        assert!(response.contains("--min-upload-rate"), "{response}");
        assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    }
    post_good(&server.client, &server.base, 5).await;
}

#[tokio::test]
async fn huge_half_sent_heads_are_refused_and_memory_stays_bounded() {
    let collector = Binary::start(&[], 4096);
    let head: Arc<Vec<u8>> = Arc::new({
        let mut head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_vec();
        while head.len() < 390 << 10 {
            head.extend_from_slice(
                b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
            );
        }
        head
    });
    let mut clients = Vec::new();
    for _ in 0..500 {
        let head = Arc::clone(&head);
        let addr = collector.addr.clone();
        clients.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut reader, mut writer) = stream.into_split();
            // The head never ends; the server refuses it once it passes the limit.
            let writing = tokio::spawn(async move {
                let _ = writer.write_all(&head).await;
                writer
            });
            let mut response = Vec::new();
            let mut buf = [0u8; 1024];
            let closed = timeout(Duration::from_secs(10), async {
                while let Ok(n @ 1..) = reader.read(&mut buf).await {
                    response.extend_from_slice(&buf[..n]);
                }
            })
            .await;
            assert!(closed.is_ok(), "a huge head's connection stayed open");
            let _ = writing.await;
            String::from_utf8_lossy(&response).into_owned()
        }));
    }
    let mut refused = 0;
    for client in clients {
        let response = client.await.unwrap();
        // 431, or reset before the answer could be read (the head was still being sent).
        assert!(
            response.is_empty() || response.starts_with("HTTP/1.1 431"),
            "{response}"
        );
        refused += usize::from(!response.is_empty());
    }
    assert!(refused > 0);
    let peak_kb = collector.status_kb("VmHWM");
    assert!(peak_kb < 256 << 10, "peak RSS {peak_kb} kB");
    let client = reqwest::Client::new();
    post_good(&client, &collector.url(""), 6).await;
}

#[tokio::test]
async fn an_export_that_finds_no_room_waits_then_gets_503() {
    let server = TestServer::start(|c| {
        c.max_bytes_in_flight = ByteSize(200_000);
        c.in_flight_wait = Timeout(Duration::from_millis(300));
    })
    .await;
    let addr = server.running.as_ref().unwrap().local_addr();
    let _holding = start_export(addr, 150_000).await;
    sleep(Duration::from_millis(100)).await;
    // 150,000 more bytes do not fit within the wait; a small export does.
    let started = Instant::now();
    let mut refused = start_export(addr, 150_000).await;
    let response = response_of(&mut refused).await;
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(response.contains("retry-after: 1"), "{response}");
    assert!(response.contains("--max-bytes-in-flight"), "{response}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    post_good(&server.client, &server.base, 8).await;
    let metrics = metrics_at(&server.client, &server.base).await;
    assert_eq!(
        metrics["wasm_otlp_collector_requests_total{outcome=\"rejected\",reason=\"busy\",signal=\"traces\"}"],
        1.0
    );
}

#[tokio::test]
async fn exports_leave_the_reserved_connections_to_queries() {
    let server = TestServer::start(|c| {
        c.max_connections = 20;
        c.connection_reserve = 18;
    })
    .await;
    let addr = server.running.as_ref().unwrap().local_addr();
    let _first = start_export(addr, 1000).await;
    let _second = start_export(addr, 1000).await;
    sleep(Duration::from_millis(100)).await;
    let mut third = start_export(addr, 1000).await;
    let response = response_of(&mut third).await;
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(response.contains("--connection-reserve"), "{response}");
    let client = reqwest::Client::new();
    assert!(healthz(&client, &server.base).await < Duration::from_secs(1));
    assert!(server.traces("").await.is_empty());
}
