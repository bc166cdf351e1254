//! The accept loop: HTTP/1.1 connections served by hyper with the router as the service,
//! under limits that keep slow or idle clients from holding sockets and memory.
//!
//! - **Timeouts.** A connection waiting for a request (a new one, or a kept-alive one
//!   after a response) is closed when it sends nothing for the idle timeout; once the
//!   first byte of a request head arrives, the whole head must follow within the header
//!   timeout. While a request is in progress neither applies: the export handler bounds
//!   its body by an upload rate, and the other routes do not read bodies.
//! - **Head size.** hyper buffers at most the largest head allowed (431 beyond it), so a
//!   half-sent head holds at most that much memory.
//! - **Connection cap and reserve.** At most `max_connections` sockets are open (fitted
//!   under the open-file limit, see [`fit_to_open_files`]). When all are taken, a new
//!   connection closes the one that has waited longest for a request (idle, or sending
//!   its head): such a connection has nothing in progress to lose, and a newcomer is
//!   never the oldest. Only when every connection has a request in progress does a
//!   newcomer wait for one to finish. The export handler admits at most
//!   `max_connections` less a reserve of export requests at once (the rest get 503), so
//!   connections with requests in progress always leave room for `/healthz`, the viewer
//!   and queries, which answer quickly.
//! - **Graceful shutdown.** Accepting stops; idle connections close; requests in progress
//!   finish and their connections then close; [`serve`] returns when all are closed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prometheus_client::metrics::gauge::Gauge;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// Open files kept for everything but connections (the store's files, the listener, the
/// runtime) when the connection cap is fitted under the open-file limit.
pub const FILE_HEADROOM: u64 = 128;

/// The smallest head-size limit: hyper's smallest read buffer.
pub const MIN_HEADER_SIZE: usize = 8192;

/// How long the accept loop pauses after failing to accept (out of file descriptors).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The connection limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// From the first byte of a request head to its end.
    pub header_timeout: Duration,
    /// Silence allowed while no request is in progress.
    pub idle_timeout: Duration,
    /// Largest request head, in bytes (at least [`MIN_HEADER_SIZE`]).
    pub max_header_size: usize,
}

/// Raises the soft open-file limit to the hard one and returns the connection cap that
/// fits under it: `wanted`, or less so that [`FILE_HEADROOM`] files stay free.
pub fn fit_to_open_files(wanted: usize) -> usize {
    let soft = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => soft,
        Err(error) => {
            tracing::warn!(%error, "cannot raise the open-file limit");
            return wanted;
        }
    };
    let fits = usize::try_from(soft.saturating_sub(FILE_HEADROOM).max(1)).unwrap_or(usize::MAX);
    if wanted > fits {
        tracing::warn!(
            open_file_limit = soft,
            max_connections = fits,
            "--max-connections lowered to fit under the open-file limit"
        );
    }
    wanted.min(fits)
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then shuts
/// down gracefully and returns once every connection is closed; `open` follows the
/// connections open.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    open: Gauge,
    shutdown: impl Future<Output = ()>,
) {
    let max_connections = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max_connections));
    let registry = Arc::new(Registry::default());
    let (stopping, stop) = watch::channel(false);
    let mut next_id = 0u64;
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
        };
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                registry.close_longest_waiting();
                tokio::select! {
                    () = &mut shutdown => break,
                    slot = Arc::clone(&slots).acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break, // never closed
                    },
                }
            }
        };
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let conn = registry.add(next_id);
        open.inc();
        let registered = Registered {
            registry: Arc::clone(&registry),
            id: next_id,
            open: open.clone(),
            _slot: slot,
        };
        tokio::spawn(serve_connection(
            stream,
            conn,
            router.clone(),
            limits,
            stop.clone(),
            registered,
        ));
    }
    drop(listener);
    let _ = stopping.send(true);
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

/// Serves one connection until it closes, is closed by a limit, or shutdown ends it.
async fn serve_connection(
    stream: TcpStream,
    conn: Arc<Conn>,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    _registered: Registered,
) {
    let io = TokioIo::new(Watched {
        stream,
        conn: Arc::clone(&conn),
    });
    let service_conn = Arc::clone(&conn);
    let service = service_fn(move |request: hyper::Request<Incoming>| {
        let busy = Busy::start(Arc::clone(&service_conn));
        let router = router.clone();
        async move {
            let Ok(response) = router.oneshot(request).await;
            Ok::<_, Infallible>(response.map(|body| Body::new(Tracked { body, _busy: busy })))
        }
    });
    let mut builder = http1::Builder::new();
    builder
        .max_buf_size(limits.max_header_size.max(MIN_HEADER_SIZE))
        .max_header_size(limits.max_header_size)
        .header_read_timeout(None);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        let deadline = conn.deadline(&limits);
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%error, "connection ended");
                }
                return;
            }
            () = conn.changed.notified() => {}
            () = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                if conn.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!("connection closed: it sent nothing, or its head too slowly");
                    return;
                }
            }
            _ = stop.wait_for(|stopping| *stopping), if !draining => {
                connection.as_mut().graceful_shutdown();
                draining = true;
            }
        }
        if matches!(*conn.phase(), Phase::Closed) {
            tracing::debug!("connection closed to let a new one in");
            return;
        }
    }
}

/// What a connection is doing.
#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request since then, nothing received yet.
    Idle(Instant),
    /// Receiving a request head since then.
    Head(Instant),
    /// Serving a request (from its complete head until its response is sent).
    Busy,
    /// Chosen to be closed to let a new connection in.
    Closed,
}

/// One connection's state, shared by its task, its socket reads and its requests.
#[derive(Debug)]
struct Conn {
    phase: Mutex<Phase>,
    /// Wakes the task when the phase changed.
    changed: Notify,
}

impl Conn {
    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves to `to` when `from` accepts the current phase, and wakes the task.
    fn change(&self, from: impl FnOnce(Phase) -> bool, to: Phase) {
        let mut phase = self.phase();
        if from(*phase) {
            *phase = to;
            drop(phase);
            self.changed.notify_one();
        }
    }

    /// When the connection is to be closed, unless its phase changes first.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        match *self.phase() {
            Phase::Idle(since) => Some(since + limits.idle_timeout),
            Phase::Head(since) => Some(since + limits.header_timeout),
            Phase::Busy | Phase::Closed => None,
        }
    }

    /// Since when it has waited for a request (`None` while one is in progress).
    fn waiting_since(&self) -> Option<Instant> {
        match *self.phase() {
            Phase::Idle(since) | Phase::Head(since) => Some(since),
            Phase::Busy | Phase::Closed => None,
        }
    }
}

/// The open connections, for choosing one to close when all are taken.
#[derive(Debug, Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    closed_to_make_room: AtomicU64,
}

impl Registry {
    fn conns(&self) -> MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn add(&self, id: u64) -> Arc<Conn> {
        let conn = Arc::new(Conn {
            phase: Mutex::new(Phase::Idle(Instant::now())),
            changed: Notify::new(),
        });
        self.conns().insert(id, Arc::clone(&conn));
        conn
    }

    /// Closes the connection that has waited longest for a request, if any waits.
    fn close_longest_waiting(&self) {
        let conns = self.conns();
        let longest = conns
            .values()
            .filter_map(|conn| Some((conn.waiting_since()?, conn)))
            .min_by_key(|(since, _)| *since);
        if let Some((_, conn)) = longest {
            conn.change(
                |p| matches!(p, Phase::Idle(_) | Phase::Head(_)),
                Phase::Closed,
            );
            let closed = self.closed_to_make_room.fetch_add(1, Ordering::Relaxed) + 1;
            if closed.is_power_of_two() {
                tracing::warn!(
                    closed,
                    "all connections taken (--max-connections): closing the longest waiting ones"
                );
            }
        }
    }
}

/// A connection's place: its registry entry and its slot, both given back on drop.
struct Registered {
    registry: Arc<Registry>,
    id: u64,
    open: Gauge,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.conns().remove(&self.id);
        self.open.dec();
    }
}

/// The socket, noting when a request head starts to arrive.
struct Watched {
    stream: TcpStream,
    conn: Arc<Conn>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.conn
                .change(|p| matches!(p, Phase::Idle(_)), Phase::Head(Instant::now()));
        }
        read
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// A request in progress on a connection: from its complete head until its response has
/// been sent (the guard lives in the response body).
struct Busy(Arc<Conn>);

impl Busy {
    fn start(conn: Arc<Conn>) -> Self {
        conn.change(|p| !matches!(p, Phase::Closed), Phase::Busy);
        Busy(conn)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0
            .change(|p| matches!(p, Phase::Busy), Phase::Idle(Instant::now()));
    }
}

/// A response body that ends its request's [`Busy`] when dropped.
struct Tracked {
    body: Body,
    _busy: Busy,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
