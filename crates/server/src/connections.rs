//! The accept loop, in place of `axum::serve` (which has no timeouts and no cap):
//! HTTP/1.1 connections served by hyper under a cap, each watched for the time it
//! spends without progress.
//!
//! - **Cap**: a connection takes a permit of a semaphore of `max_connections`; at the
//!   cap a new connection is answered `503` with the API's JSON error, `Retry-After: 1`
//!   and `Connection: close` as soon as its request head is in (its body is not read
//!   and nothing is done, so any request may be retried on another node), then closed.
//!   At most [`REFUSING`] refusals are in progress at a time (each a second at most);
//!   past that a connection is closed unanswered. The cap is kept below the file-descriptor limit ([`fd_budget`]), so
//!   the process never runs out of descriptors to accept with.
//! - **Header timeout**: a connection's first request head must be complete within
//!   `header_timeout` of the accept, and a later one within `header_timeout` of its
//!   first byte (slowloris).
//! - **Idle timeout**: a connection with no request in flight is closed after
//!   `idle_timeout` without a new request's first byte; one whose client reads nothing
//!   for `idle_timeout` while the server has something to write is closed too (a
//!   stalled reader). A request in flight, a watch stream included, is never cut by
//!   either: streams end on their own terms (keep-alives, revocation, shutdown).
//! - **Shutdown**: the listener closes, `AppState::closing` ends the watch streams,
//!   every connection finishes its request in flight and closes, and [`serve`] returns
//!   when the last one has.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::Request;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tower::ServiceExt;

use crate::metrics::Metrics;

/// Refusals (503 at the cap) being written at once, at most.
pub const REFUSING: usize = 64;

/// Descriptors kept for everything but client connections: the database pool, the
/// SQLite files, the listener, logs, refusals in progress.
pub const FD_RESERVE: u64 = 256 + REFUSING as u64;

/// How a server treats its connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// See [`crate::Config::header_timeout`] (zero: none).
    pub header_timeout: Duration,
    /// See [`crate::Config::idle_timeout`] (zero: none).
    pub idle_timeout: Duration,
    /// Connections open at once, at most.
    pub max_connections: usize,
}

/// Raises the soft limit on open files to the hard limit (where the system has one),
/// and answers how many connections the limit leaves room for (`None`: no known limit).
pub fn fd_budget() -> Option<usize> {
    #[cfg(unix)]
    {
        let soft = match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read or raise the open-file limit");
                rlimit::getrlimit(rlimit::Resource::NOFILE).ok()?.0
            }
        };
        if soft == rlimit::INFINITY {
            return None;
        }
        Some(usize::try_from(soft.saturating_sub(FD_RESERVE).max(16)).unwrap_or(usize::MAX))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The cap to use: `configured` (0: none asked), never above what the descriptor limit
/// leaves room for.
pub fn effective_cap(configured: usize, budget: Option<usize>) -> usize {
    match (configured, budget) {
        (0, Some(b)) => b,
        (0, None) => 100_000,
        (c, Some(b)) if c > b => {
            tracing::warn!(
                configured = c,
                allowed = b,
                "max_connections lowered below the open-file limit"
            );
            b
        }
        (c, _) => c,
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, sets
/// `closing`, lets every connection finish what it is doing and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    metrics: Metrics,
    closing: watch::Sender<bool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max));
    let refusing = Arc::new(Semaphore::new(REFUSING));
    let refusal = Arc::new(refusal_response(max));
    let stop = closing.subscribe();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_error_log: Option<Instant> = None;
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of descriptors or memory: should not happen under the cap, but
                    // never spin, and log at most once a second.
                    if last_error_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                        tracing::error!(error = %e, "accept error");
                        last_error_log = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            metrics.connections_refused.inc();
            if let Ok(p) = refusing.clone().try_acquire_owned() {
                let refusal = refusal.clone();
                tokio::spawn(async move {
                    refuse(stream, &refusal).await;
                    drop(p);
                });
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        metrics.connections_open.inc();
        let (app, metrics, stop) = (app.clone(), metrics.clone(), stop.clone());
        tokio::spawn(async move {
            connection(stream, peer, app, limits, &metrics, stop).await;
            metrics.connections_open.dec();
            drop(permit);
        });
    }
    drop(listener);
    closing.send_replace(true);
    drop(stop);
    // Every connection has ended when every permit is back.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// The bytes of the 503 written at the cap.
fn refusal_response(max: usize) -> Vec<u8> {
    let body = serde_json::json!({"error": {
        "code": "too_many_connections",
        "message": format!("the server holds its most connections ({max}); retry in a second, or on another node"),
    }})
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads the request's head (clients treat an answer before their request as a broken
/// connection), writes the refusal, then reads (and drops) what else the client sends
/// for a moment before closing: closing with unread data would reset the connection,
/// and the client could lose the answer. Every step is bounded by a second.
async fn refuse(mut stream: TcpStream, response: &[u8]) {
    let quick = Duration::from_secs(1);
    let mut buf = [0u8; 4096];
    let mut head: Vec<u8> = Vec::new();
    let got_head = tokio::time::timeout(quick, async {
        while head.len() < 16 * 1024 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => {
                    head.extend_from_slice(buf.get(..n).unwrap_or_default());
                    if head.windows(4).any(|w| w == b"\r\n\r\n") {
                        return true;
                    }
                }
            }
        }
        true
    })
    .await;
    if !matches!(got_head, Ok(true)) {
        return;
    }
    if matches!(
        tokio::time::timeout(quick, stream.write_all(response)).await,
        Ok(Ok(()))
    ) {
        let _ = tokio::time::timeout(quick, stream.shutdown()).await;
        let _ = tokio::time::timeout(quick, async {
            let mut left: usize = 64 * 1024;
            while left > 0 {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => left = left.saturating_sub(n),
                }
            }
        })
        .await;
    }
}

/// One connection: hyper's HTTP/1.1 with keep-alive, the watchdog beside it.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    metrics: &Metrics,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        io: stream,
        activity: activity.clone(),
    });
    let served = activity.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let guard = InFlight::begin(&served);
        req.extensions_mut().insert(ConnectInfo(peer));
        let call = app.clone().oneshot(req.map(Body::new));
        async move {
            let res = match call.await {
                Ok(res) => res,
                Err(never) => match never {},
            };
            Ok::<_, Infallible>(res.map(|inner| Guarded {
                inner,
                _guard: guard,
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // The watchdog keeps the header and idle timeouts (hyper's header timer would
        // also run while the connection waits idle for its next request).
        .header_read_timeout(None)
        .keep_alive(true);
    let conn = builder.serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    let mut stopping = false;
    loop {
        let deadline = activity.deadline(&limits);
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            () = sleep_until(deadline) => {
                if let Some(why) = activity.expired(&limits) {
                    tracing::debug!(%peer, reason = why, "connection closed");
                    metrics.connections_timed_out.with_label_values(&[why]).inc();
                    return;
                }
            }
            () = activity.wake.notified() => {}
            res = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                if res.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// "Not set" in the millisecond fields of [`Activity`].
const NONE: u64 = u64::MAX;

/// What a connection is doing, as its I/O and its requests report it (all on the
/// connection's own task; atomics only to be shareable).
#[derive(Debug)]
struct Activity {
    start: Instant,
    /// Requests whose response has not been written to the end.
    in_flight: AtomicUsize,
    /// Whether a request has begun on this connection.
    served: AtomicBool,
    /// Milliseconds since `start` when the last request in flight ended.
    idle_since: AtomicU64,
    /// Milliseconds since `start` of the first byte read with no request in flight.
    head_since: AtomicU64,
    /// Milliseconds since `start` a write first found the socket full (NONE: writes flow).
    blocked_since: AtomicU64,
    /// Wakes the watchdog when a deadline moves closer.
    wake: Notify,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            idle_since: AtomicU64::new(0),
            head_since: AtomicU64::new(NONE),
            blocked_since: AtomicU64::new(NONE),
            wake: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn at(&self, ms: u64, plus: Duration) -> Instant {
        self.start + Duration::from_millis(ms) + plus
    }

    fn read_some(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.head_since.load(Ordering::Relaxed) == NONE
        {
            self.head_since.store(self.now_ms(), Ordering::Relaxed);
            self.wake.notify_one();
        }
    }

    fn write_blocked(&self) {
        if self.blocked_since.load(Ordering::Relaxed) == NONE {
            self.blocked_since.store(self.now_ms(), Ordering::Relaxed);
            self.wake.notify_one();
        }
    }

    fn wrote_some(&self) {
        self.blocked_since.store(NONE, Ordering::Relaxed);
    }

    /// The next instant a limit may be passed, and which.
    fn next(&self, l: &ConnectionLimits) -> Option<(Instant, &'static str)> {
        let mut out: Option<(Instant, &'static str)> = None;
        let mut consider = |at: Instant, why: &'static str| {
            if out.is_none_or(|(o, _)| at < o) {
                out = Some((at, why));
            }
        };
        let blocked = self.blocked_since.load(Ordering::Relaxed);
        if blocked != NONE && !l.idle_timeout.is_zero() {
            consider(self.at(blocked, l.idle_timeout), "stalled_reader");
        }
        if self.in_flight.load(Ordering::Relaxed) == 0 {
            let head = self.head_since.load(Ordering::Relaxed);
            if !self.served.load(Ordering::Relaxed) {
                if !l.header_timeout.is_zero() {
                    consider(self.at(0, l.header_timeout), "header");
                }
            } else if head != NONE {
                if !l.header_timeout.is_zero() {
                    consider(self.at(head, l.header_timeout), "header");
                }
            } else if !l.idle_timeout.is_zero() {
                let idle = self.idle_since.load(Ordering::Relaxed);
                consider(self.at(idle, l.idle_timeout), "idle");
            }
        }
        out
    }

    fn deadline(&self, l: &ConnectionLimits) -> Option<Instant> {
        self.next(l).map(|(at, _)| at)
    }

    /// The limit passed now, if any.
    fn expired(&self, l: &ConnectionLimits) -> Option<&'static str> {
        self.next(l)
            .filter(|(at, _)| *at <= Instant::now())
            .map(|(_, why)| why)
    }
}

/// A request in flight on a connection, until its response body is dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(a: &Arc<Activity>) -> Self {
        a.in_flight.fetch_add(1, Ordering::Relaxed);
        a.served.store(true, Ordering::Relaxed);
        a.head_since.store(NONE, Ordering::Relaxed);
        InFlight(a.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        if a.in_flight.fetch_sub(1, Ordering::Relaxed) == 1 {
            a.idle_since.store(a.now_ms(), Ordering::Relaxed);
            a.wake.notify_one();
        }
    }
}

/// A response body that keeps its request counted in flight until it is dropped.
struct Guarded {
    inner: Body,
    _guard: InFlight,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, reporting reads and stalled writes to the connection's [`Activity`].
struct Watched {
    io: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(&mut this.io).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.read_some();
        }
        res
    }
}

impl Watched {
    fn wrote(&self, res: &Poll<io::Result<usize>>) {
        match res {
            Poll::Pending => self.activity.write_blocked(),
            Poll::Ready(Ok(n)) if *n > 0 => self.activity.wrote_some(),
            Poll::Ready(_) => {}
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let res = Pin::new(&mut this.io).poll_write(cx, buf);
        this.wrote(&res);
        res
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let res = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.wrote(&res);
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10,
        }
    }

    #[test]
    fn deadlines_follow_the_connection() {
        let a = Arc::new(Activity::new());
        let l = limits();
        // A fresh connection: its first head within the header timeout of the accept.
        let (at, why) = a.next(&l).unwrap_or((Instant::now(), "none"));
        assert_eq!(why, "header");
        assert!(at <= a.start + Duration::from_secs(10));
        // A request in flight: no deadline at all (streams are never cut).
        let g = InFlight::begin(&a);
        assert!(a.next(&l).is_none());
        a.read_some();
        assert!(
            a.next(&l).is_none(),
            "bytes read during a request start no head"
        );
        // Done: idle until the next request's first byte, then the header timeout.
        drop(g);
        assert_eq!(a.next(&l).map(|(_, w)| w), Some("idle"));
        a.read_some();
        assert_eq!(a.next(&l).map(|(_, w)| w), Some("header"));
        let g = InFlight::begin(&a);
        // A client that reads nothing while a response waits to be written.
        a.write_blocked();
        assert_eq!(a.next(&l).map(|(_, w)| w), Some("stalled_reader"));
        a.wrote_some();
        assert!(a.next(&l).is_none());
        drop(g);
        assert!(a.expired(&l).is_none());
        let none = ConnectionLimits {
            header_timeout: Duration::ZERO,
            idle_timeout: Duration::ZERO,
            max_connections: 1,
        };
        assert!(a.next(&none).is_none());
    }

    #[test]
    fn the_cap_stays_below_the_descriptor_limit() {
        assert_eq!(effective_cap(10_000, Some(700)), 700);
        assert_eq!(effective_cap(500, Some(700)), 500);
        assert_eq!(effective_cap(0, Some(700)), 700);
        assert_eq!(effective_cap(10_000, None), 10_000);
        let r = String::from_utf8(refusal_response(7)).unwrap_or_default();
        assert!(r.starts_with("HTTP/1.1 503 "), "{r}");
        assert!(r.contains("\r\nretry-after: 1\r\n"), "{r}");
        let body = r.split("\r\n\r\n").nth(1).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(v["error"]["code"], "too_many_connections");
    }
}
