//! The front door: a connection's requests for cached tiles are answered straight from
//! the socket, before hyper; the first request the door does not answer hands the
//! connection, with the bytes already read, to hyper for the rest of its life.
//!
//! A map viewer's traffic is mostly requests for tiles already drawn. For those, hyper's
//! own work (building a `Request` and its `HeaderMap`, the dispatcher, encoding the
//! answer's `HeaderMap`) and ours (building that `HeaderMap`) cost more than the answer
//! itself: 4.9 µs of user time per tile against nginx's 2.5 µs for the same bytes from a
//! file (BENCHMARKS.md, "Tile speed, raised"). Here a request head is parsed with
//! `httparse` (as hyper does) into a stack array, the tile looked up in the cache, and
//! the answer written as three slices: the tile's head, kept with the tile
//! ([`crate::tiles::cache::CachedTile::wire_head`]) and made once from the very headers
//! the routed handler sends; the `Date` line; the tile's bytes. A big tile's bytes are
//! sent from its memory file with `sendfile` instead ([`crate::tiles::cache::Spills`]).
//!
//! The door answers only what it is sure of, and hands everything else to hyper: a
//! `GET` over HTTP/1.1 of today's tile, already drawn (or cheap enough to draw here), in
//! a coding it can send now, with a whole head that arrived in one read, no body, no
//! `Connection` but `keep-alive`, no `Expect`, `Upgrade` or `If-None-Match`, a target of
//! plain characters, and within the stack's size limits. A test compares the door's
//! bytes with hyper's for the routed application (`tests/suite/hot_path.rs`).
//!
//! Limits are hyper's: the wait for a request (idle keep-alive included) is the header
//! timeout; a shutdown closes an idle connection; a head the door does not finish
//! reading in one read goes to hyper, whose timer and size limit then apply.

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use axum::response::Response;
use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::guard::{MAX_HEADER_BYTES, MAX_URI};
use super::hot::Hot;
use crate::tiles::cache::{CachedTile, Coding};

/// The door of one server: the hot path's state ([`super::hot::Front::door`]).
#[derive(Clone)]
pub struct Door(pub(super) Arc<Hot>);

/// What a connection is when the door lets go of it.
pub(super) enum Left {
    /// Closed: the client went, timed out, or the server is stopping.
    Closed,
    /// For hyper, with what was read and not answered.
    ToHyper(Prefixed),
}

/// A request head is read into a buffer this big; a head that does not fit, or did not
/// arrive whole in one read, is hyper's.
const READ_BYTES: usize = 8 << 10;

/// Headers the door parses; a request with more is hyper's.
const HEADERS: usize = 32;

impl Door {
    /// Answers the connection's requests until one is not the door's (then the
    /// connection is hyper's) or the connection ends. `wait` bounds the wait for each
    /// request head, as hyper's header timeout does; `stop` turning true closes the
    /// connection between requests.
    pub(super) async fn serve(
        &self,
        mut stream: TcpStream,
        stop: &mut watch::Receiver<bool>,
        wait: Duration,
    ) -> Left {
        let mut buf = BytesMut::new();
        loop {
            // The buffer is empty here: reserving reclaims its space without copying.
            buf.reserve(READ_BYTES);
            let read = tokio::select! {
                r = tokio::time::timeout(wait, stream.read_buf(&mut buf)) => r,
                _ = stop.wait_for(|s| *s) => return Left::Closed,
            };
            match read {
                Ok(Ok(n)) if n > 0 => {}
                _ => return Left::Closed,
            }
            // Every whole request read is answered in turn (a client may pipeline).
            while !buf.is_empty() {
                let started = Instant::now();
                let Some((len, wire)) = self.answer(&buf) else {
                    return Left::ToHyper(Prefixed {
                        pre: buf,
                        io: stream,
                    });
                };
                if write(&mut stream, &wire).await.is_err() {
                    return Left::Closed;
                }
                let target = buf[..len].split(|b| *b == b' ').nth(1).unwrap_or_default();
                let target = std::str::from_utf8(target).unwrap_or_default();
                self.0.done(wire.status, &target, started);
                self.0.answered_at_door();
                buf.advance(len);
            }
        }
    }

    /// The length of the request at the start of `buf` and its answer, if the door may
    /// give it (see the module doc).
    fn answer(&self, buf: &[u8]) -> Option<(usize, Wire)> {
        let mut headers = [httparse::EMPTY_HEADER; HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        let httparse::Status::Complete(len) = req.parse(buf).ok()? else {
            return None;
        };
        if req.method != Some("GET") || req.version != Some(1) {
            return None;
        }
        let target = req.path?;
        if target.len() > MAX_URI || !target.bytes().all(plain) {
            return None;
        }
        let mut accept = None;
        let mut size = 0;
        for h in req.headers.iter() {
            size += h.name.len() + h.value.len();
            let name = h.name;
            if name.eq_ignore_ascii_case("accept-encoding") {
                // As `HeaderMap::get`: the first of several.
                accept = accept.or(Some(h.value));
            } else if name.eq_ignore_ascii_case("connection") {
                if !h.value.eq_ignore_ascii_case(b"keep-alive") {
                    return None;
                }
            } else if [
                "content-length",
                "transfer-encoding",
                "expect",
                "upgrade",
                "if-none-match",
            ]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
            {
                return None;
            }
        }
        if size > MAX_HEADER_BYTES {
            return None;
        }
        Some((len, self.0.wire(target, accept)?))
    }
}

/// The characters of a tile's request target (its path and `v=` query); anything else
/// goes to hyper, which knows what the routed application makes of it.
fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"/_-.,=?".contains(&b)
}

/// A tile's answer as the door writes it.
pub(super) struct Wire {
    /// The status line and headers, all but `Date`.
    pub head: Bytes,
    pub body: Bytes,
    pub status: u16,
    /// The cached tile whose memory file holds `body` in this coding, if it has one.
    pub spilled: Option<(Arc<CachedTile>, Coding)>,
}

/// Writes `wire` with this second's `Date`, as hyper does.
async fn write(stream: &mut TcpStream, wire: &Wire) -> std::io::Result<()> {
    let date = date_line();
    #[cfg(target_os = "linux")]
    if let Some(file) = wire
        .spilled
        .as_ref()
        .and_then(|(t, coding)| t.spilled(*coding))
        .map(|s| (s.file(), s.len()))
    {
        return send_file(stream, &[&wire.head, &date], file).await;
    }
    let mut slices = [
        IoSlice::new(&wire.head),
        IoSlice::new(&date),
        IoSlice::new(&wire.body),
    ];
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        let n = stream.write_vectored(rest).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut rest, n);
    }
    Ok(())
}

/// Sends the head (`head`'s pieces) and then the file's first `len` bytes with
/// `sendfile`: the socket takes the file's pages, and our copy of the bytes into the
/// socket is saved. The head goes with `MSG_MORE`, so it leaves in one segment with the
/// start of the file rather than alone (`TCP_NODELAY` is on).
#[cfg(target_os = "linux")]
async fn send_file(
    stream: &TcpStream,
    head: &[&[u8]],
    (file, len): (&std::fs::File, usize),
) -> std::io::Result<()> {
    use rustix::net::SendFlags;
    let head = head.concat();
    let mut sent = 0;
    while sent < head.len() {
        sent += nonzero(
            writable(stream, || {
                rustix::net::send(stream, &head[sent..], SendFlags::MORE | SendFlags::NOSIGNAL)
            })
            .await?,
        )?;
    }
    let mut offset = 0u64;
    while (offset as usize) < len {
        let left = len - offset as usize;
        nonzero(
            writable(stream, || {
                rustix::fs::sendfile(stream, file, Some(&mut offset), left)
            })
            .await?,
        )?;
    }
    Ok(())
}

/// `call` (a non-blocking write to `stream`) once the socket can take it.
#[cfg(target_os = "linux")]
async fn writable(
    stream: &TcpStream,
    mut call: impl FnMut() -> rustix::io::Result<usize>,
) -> std::io::Result<usize> {
    loop {
        stream.writable().await?;
        match stream.try_io(tokio::io::Interest::WRITABLE, || {
            call().map_err(std::io::Error::from)
        }) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            r => return r,
        }
    }
}

/// A write of no bytes is a closed connection.
fn nonzero(n: usize) -> std::io::Result<usize> {
    if n == 0 {
        return Err(std::io::ErrorKind::WriteZero.into());
    }
    Ok(n)
}

/// `date: …\r\n\r\n`, the end of a head: formatted once a second per thread.
fn date_line() -> Bytes {
    thread_local! {
        static DATE: std::cell::RefCell<(u64, Bytes)> =
            const { std::cell::RefCell::new((u64::MAX, Bytes::new())) };
    }
    let now = SystemTime::now();
    let second = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    DATE.with_borrow_mut(|(at, line)| {
        if *at != second {
            *at = second;
            *line = Bytes::from(format!("date: {}\r\n\r\n", httpdate::fmt_http_date(now)));
        }
        line.clone()
    })
}

/// An answer's status line and headers as hyper writes them for the routed application
/// (lower-case names, one line per value, in the map's order, then `Content-Length` from
/// the body's length: none for a `204` or `304`), without `Date` and the blank line, which
/// the door adds.
pub(super) fn head_bytes(r: &Response, body_len: usize) -> Bytes {
    use axum::http::{header, StatusCode};
    let status = r.status();
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in r.headers() {
        if name == header::CONTENT_LENGTH {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED) {
        out.extend_from_slice(format!("content-length: {body_len}\r\n").as_bytes());
    }
    Bytes::from(out)
}

/// A connection handed to hyper: the bytes read and not answered come first.
pub(super) struct Prefixed {
    pre: BytesMut,
    io: TcpStream,
}

impl Prefixed {
    /// A connection the door never saw.
    pub(super) fn new(io: TcpStream) -> Prefixed {
        Prefixed {
            pre: BytesMut::new(),
            io,
        }
    }
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if !self.pre.is_empty() {
            let n = self.pre.len().min(buf.remaining());
            buf.put_slice(&self.pre[..n]);
            self.pre.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
