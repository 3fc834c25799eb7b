//! The accept loop: hyper's HTTP/1.1 server with the limits `axum::serve` does not
//! expose. A client that sends its headers a line every few seconds (slowloris) is cut
//! off after the header timeout — which also closes an idle keep-alive connection; the
//! request head is read into a bounded buffer; connections are capped in total and per
//! client address, so one client cannot hold every file descriptor. Waiting for a free
//! slot happens before `accept`, so the kernel's backlog, not our memory, holds the queue.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use super::door::{Door, Left, Prefixed};

/// A service `serve` runs, and the front door to it if it has one ([`super::door`]).
pub trait Doorway {
    fn door(&self) -> Option<Door>;
}

/// The routed application alone: every request through hyper.
impl Doorway for axum::Router {
    fn door(&self) -> Option<Door> {
        None
    }
}

impl<S> Doorway for super::hot::Front<S> {
    fn door(&self) -> Option<Door> {
        Some(super::hot::Front::door(self))
    }
}

/// Connection limits (flags of `serve`).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Connections open at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Connections open at once from one address (0: no per-address cap). Peers that are
    /// trusted proxies are not capped: every client behind them shares their address.
    pub max_connections_per_client: usize,
    /// Time to receive a request's headers, counted from when the server starts waiting
    /// for them (so it is also how long an idle keep-alive connection stays open).
    pub header_timeout: Duration,
    /// The most bytes of a request head hyper buffers; past it hyper answers 431 itself.
    pub max_head_bytes: usize,
    /// How long in-flight requests may finish after a shutdown signal.
    pub drain: Duration,
    /// Addresses exempt from the per-address cap (trusted proxies).
    pub uncapped: Option<Arc<super::guard::Proxies>>,
}

impl ServeOptions {
    /// The accept loop's options from `serve`'s arguments; the trusted proxies
    /// (`AppState::proxies`, set with `--trust-proxy`) are exempt from the per-address cap.
    pub fn from_args(
        args: &crate::config::ServeArgs,
        trusted: Option<Arc<super::guard::Proxies>>,
    ) -> ServeOptions {
        ServeOptions {
            max_connections: args.max_connections,
            max_connections_per_client: args.max_connections_per_client,
            header_timeout: Duration::from_secs(args.header_timeout.max(1)),
            uncapped: trusted,
            ..ServeOptions::default()
        }
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        use crate::config::defaults;
        ServeOptions {
            max_connections: defaults::MAX_CONNECTIONS,
            max_connections_per_client: defaults::MAX_CONNECTIONS_PER_CLIENT,
            header_timeout: Duration::from_secs(defaults::HEADER_TIMEOUT_S),
            max_head_bytes: 64 << 10,
            drain: Duration::from_secs(10),
            uncapped: None,
        }
    }
}

/// Open connections per address.
#[derive(Default)]
struct PerClient(Mutex<HashMap<IpAddr, usize>>);

impl PerClient {
    fn enter(&self, ip: IpAddr, cap: usize) -> bool {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(ip).or_insert(0);
        if cap > 0 && *n >= cap {
            return false;
        }
        *n += 1;
        true
    }

    fn leave(&self, ip: IpAddr) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&ip);
            }
        }
    }
}

/// Serves `app` (a [`Router`](axum::Router), or [`super::front`] with its front door)
/// on `listener` until `shutdown` completes, then lets in-flight requests finish (up to
/// `opts.drain`). Handlers see the peer as `ConnectInfo<SocketAddr>`.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>
        + Doorway
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let slots = Arc::new(Semaphore::new(opts.max_connections.max(1)));
    let per_client = Arc::new(PerClient::default());
    // Turns true when the server stops; every connection holds a receiver, so the
    // sender's `closed()` is "every connection has ended".
    let (stopping, stop) = watch::channel(false);
    let door = app.door();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_timeout)
        .max_buf_size(opts.max_head_bytes.max(8192))
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait and go on.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let ip = peer.ip();
        let capped = !opts.uncapped.as_ref().is_some_and(|p| p.trusts(ip));
        let cap = if capped {
            opts.max_connections_per_client
        } else {
            0
        };
        if !per_client.enter(ip, cap) {
            tracing::debug!(%ip, "too many connections from one address");
            tokio::spawn(refuse(stream, permit));
            continue;
        }
        let _ = stream.set_nodelay(true);
        let mut stop = stop.clone();
        let door = door.clone();
        let wait = opts.header_timeout;
        let builder = builder.clone();
        let svc = app
            .clone()
            .map_request(move |req: hyper::Request<hyper::body::Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let svc = TowerToHyperService::new(svc);
        let per_client = per_client.clone();
        tokio::spawn(async move {
            let io = match door {
                Some(door) => match door.serve(stream, &mut stop, wait).await {
                    Left::ToHyper(io) => Some(io),
                    Left::Closed => None,
                },
                None => Some(Prefixed::new(stream)),
            };
            if let Some(io) = io {
                let conn = builder.serve_connection(TokioIo::new(io), svc);
                tokio::pin!(conn);
                let done = tokio::select! {
                    r = conn.as_mut() => Some(r),
                    _ = stop.wait_for(|s| *s) => None,
                };
                let r = match done {
                    Some(r) => r,
                    None => {
                        conn.as_mut().graceful_shutdown();
                        conn.await
                    }
                };
                if let Err(e) = r {
                    tracing::debug!(%peer, "connection: {e}");
                }
            }
            per_client.leave(ip);
            drop(permit);
            drop(stop);
        });
    }
    drop(listener);
    drop(stop);
    let _ = stopping.send(true);
    tokio::select! {
        _ = stopping.closed() => {}
        _ = tokio::time::sleep(opts.drain) => {
            tracing::warn!("requests still running after {:?}; stopping anyway", opts.drain);
        }
    }
    Ok(())
}

/// Tells a client over its connection cap why, in our JSON error shape, and closes.
/// The request is not parsed: the answer is canned and the connection's slot is held
/// for a second at most.
async fn refuse(mut stream: tokio::net::TcpStream, _permit: tokio::sync::OwnedSemaphorePermit) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const BODY: &str = r#"{"code":"too_many_requests","description":"too many connections from this address; close some and try again"}"#;
    let answer = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\nx-content-type-options: nosniff\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        // Read what the client sent first, so closing does not reset the answer away.
        let mut buf = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await;
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// The address a listener is reachable at, as a URL origin: `0.0.0.0` and `::` (every
/// interface) are written as loopback, the one address sure to reach them from here.
pub fn origin_of(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}
