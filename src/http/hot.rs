//! The tile hot path: a plain `GET` of today's tile is answered here, before routing and
//! the middleware stack — from the tile cache, or drawn.
//!
//! A map viewer's traffic is mostly such requests, and for a cached tile the stack cost
//! more than the answer: route matching and four path `String`s, a `HeaderMap` copy for
//! the handler, a clone of the application state, a deadline timer, the CORS layer's
//! per-request `Vary` value, boxed middleware futures (BENCHMARKS.md, "Tile speed,
//! raised", has the profiles). A tile few features could be in is drawn right here, on
//! the worker ([`super::tiles::draw_here`]): handing it to the blocking pool cost more in
//! thread wake-ups than drawing it. A city-wide tile is drawn on the blocking pool, as
//! the routed handler does.
//!
//! The answer is the one the handler gives — the head from
//! [`super::tiles::tile_head_with`], the security headers from [`super::guard::secure`],
//! the permissive CORS layer's headers — and a test compares the two header for header
//! and byte for byte (`tests/suite/hot_path.rs`). It is counted in `/metrics` under the tile
//! route and logged (at debug, as the stack's trace layer does).
//!
//! Everything else goes down the stack unchanged: other methods, other paths, a query
//! other than `v=…` (`as_of` included), percent-encoded or unknown layers, archives, a
//! request with a body, a head over the limits.

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::IntoResponse;
use axum::response::Response;
use futures_util::future::{ready, BoxFuture, Either, Ready};
use tower::Service;

use super::door::{head_bytes, Door, Wire};
use super::metrics::RouteMetrics;
use super::tiles::{
    cache_control, draw_elsewhere, draw_here, encoded, encoded_here, tile_body, tile_coord,
    tile_head_with, Accepted, Head,
};
use super::{guard, AppState};
use crate::tiles::cache::{CachedTile, Coding, TileKey};
use crate::tiles::LayerSet;

/// The tile route's pattern, as axum's `MatchedPath` writes it (the metrics' label).
pub const TILE_ROUTE: &str = "/tiles/{layers}/{z}/{x}/{y}";

/// The service `serve` runs: the hot path in front of the routed application.
#[derive(Clone)]
pub struct Front<S> {
    hot: std::sync::Arc<Hot>,
    inner: S,
}

/// What the hot path needs, made once.
pub(super) struct Hot {
    state: AppState,
    metrics: RouteMetrics,
    /// `Cache-Control` of asset tiles and of tiles holding complaints.
    cc: [HeaderValue; 2],
}

impl<S> Front<S> {
    /// `inner` (the routed application, [`super::app`]) behind the hot path.
    pub fn new(state: AppState, inner: S) -> Front<S> {
        let cc = [
            cache_control(&state, false, false),
            cache_control(&state, true, false),
        ];
        let metrics = state.metrics.for_route(TILE_ROUTE);
        Front {
            hot: std::sync::Arc::new(Hot { state, metrics, cc }),
            inner,
        }
    }
}

impl<S> Front<S> {
    /// The front door ([`super::door`]) to this hot path's cache.
    pub fn door(&self) -> Door {
        Door(self.hot.clone())
    }
}

/// How the hot path answers: now, or after drawing on the blocking pool.
enum Answer {
    Now(Response),
    Later(BoxFuture<'static, Response>),
}

impl<S> Service<Request> for Front<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<
        Either<
            Ready<Result<Response, Infallible>>,
            BoxFuture<'static, Result<Response, Infallible>>,
        >,
        S::Future,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let started = Instant::now();
        let Some(tile) = self.hot.tile_of(&req) else {
            return Either::Right(self.inner.call(req));
        };
        match self.hot.answer(tile, req.headers()) {
            Answer::Now(r) => {
                self.hot.done(r.status().as_u16(), req.uri(), started);
                Either::Left(Either::Left(ready(Ok(r))))
            }
            Answer::Later(f) => {
                let hot = self.hot.clone();
                Either::Left(Either::Right(Box::pin(async move {
                    let r = f.await;
                    hot.done(r.status().as_u16(), req.uri(), started);
                    Ok(r)
                })))
            }
        }
    }
}

/// A plain request for today's tile, as the hot path takes it.
struct TileAsk {
    key: TileKey,
    coding: Coding,
}

impl Hot {
    /// The tile `req` asks for, if it is one the hot path answers (see the module doc).
    fn tile_of(&self, req: &Request) -> Option<TileAsk> {
        if req.method() != Method::GET {
            return None;
        }
        let (uri, headers) = (req.uri(), req.headers());
        if !within_limits(uri, headers) {
            return None;
        }
        let accept = headers.get(header::ACCEPT_ENCODING).map(|v| v.as_bytes());
        self.tile_at(uri.path(), uri.query(), accept)
    }

    /// The tile a `GET` of `path` and `query` asks for, in the coding `accept` (the
    /// request's `Accept-Encoding`) prefers, if the hot path answers it: the request's
    /// method and limits are checked by the caller.
    fn tile_at(&self, path: &str, query: Option<&str>, accept: Option<&[u8]>) -> Option<TileAsk> {
        if let Some(q) = query {
            // `v` (any value, one of it) is all a tile takes that the cache serves.
            if !q.starts_with("v=") || q.contains('&') {
                return None;
            }
        }
        let rest = path.strip_prefix("/tiles/")?;
        let mut parts = rest.split('/');
        let (layers, z, x, y) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || layers.contains('%') {
            return None;
        }
        let s = &self.state;
        if !s.archives.is_empty() && s.archives.contains_key(layers) {
            return None;
        }
        let layers = LayerSet::parse(layers).ok()?;
        let tile = tile_coord(z, x, y).ok()?;
        Some(TileAsk {
            key: TileKey { layers, tile },
            coding: Accepted::from_bytes(accept.unwrap_or_default()).best(),
        })
    }

    /// The front door's answer to a `GET` of `target` (path and query) with
    /// `Accept-Encoding: accept`: a tile in the cache (or cheap enough to draw now) whose
    /// bytes in that coding are at hand, as the hot path would answer it, with its head
    /// as written on the wire (made once per tile and coding). `None`: hyper's to answer.
    pub(super) fn wire(&self, target: &str, accept: Option<&[u8]>) -> Option<Wire> {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        let TileAsk { key, coding } = self.tile_at(path, query, accept)?;
        let atlas = &self.state.atlas;
        let (t, cached) = match atlas.tiles().get(&key) {
            Some(t) => (t, true),
            None => (draw_here(atlas, key, coding).ok().flatten()?, false),
        };
        let body = if t.is_empty() {
            bytes::Bytes::new()
        } else {
            encoded_here(&t, coding)?
        };
        // A big cached tile goes out from its memory file (`Spills`); one drawn for this
        // request only is not worth the file.
        let spilled = cached && t.spill(coding, &body, atlas.tiles().spills()).is_some();
        let head = t.wire_head(coding, || {
            let cc = self.cc[usize::from(key.layers.has_complaints())].clone();
            head_bytes(
                &respond(cc, &t, &HeaderMap::new(), coding, body.clone()),
                body.len(),
            )
        });
        let status = if t.is_empty() { 204 } else { 200 };
        Some(Wire {
            head,
            body,
            status,
            spilled: spilled.then_some((t, coding)),
        })
    }

    /// The tile's answer: from the cache, else drawn here if cheap, else drawn on the
    /// blocking pool ([`super::tiles::draw_elsewhere`]).
    fn answer(&self, ask: TileAsk, request: &HeaderMap) -> Answer {
        let TileAsk { key, coding } = ask;
        let atlas = &self.state.atlas;
        let cc = self.cc[usize::from(key.layers.has_complaints())].clone();
        let cached = match atlas
            .tiles()
            .get(&key)
            .map(Ok)
            .or_else(|| draw_here(atlas, key, coding).transpose())
        {
            Some(Ok(t)) => Some(t),
            Some(Err(e)) => return Answer::Now(failed(e)),
            None => None,
        };
        if let Some(t) = &cached {
            if let Some(body) = encoded_here(t, coding) {
                return Answer::Now(respond(cc, t, request, coding, body));
            }
        }
        let atlas = atlas.clone();
        let request = request.clone();
        Answer::Later(Box::pin(async move {
            let drawn = match cached {
                Some(t) => Ok(t),
                None => draw_elsewhere(&atlas, key, coding).await,
            };
            let answer = match drawn {
                Ok(t) => encoded(&t, coding)
                    .await
                    .map(|body| respond(cc, &t, &request, coding, body)),
                Err(e) => Err(e),
            };
            answer.unwrap_or_else(failed)
        }))
    }

    /// Counts a tile answered at the front door (besides [`Hot::done`]).
    pub(super) fn answered_at_door(&self) {
        self.state.metrics.door_answered();
    }

    /// Counts and logs an answer of the hot path (or of the front door) to a `GET`
    /// of `uri`.
    pub(super) fn done(&self, status: u16, uri: &dyn std::fmt::Display, started: Instant) {
        self.metrics.observe(&Method::GET, status, started);
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!(
                method = "GET",
                %uri,
                status,
                latency_us = started.elapsed().as_micros() as u64,
                "tile answered before routing"
            );
        }
    }
}

/// The answer for tile `t` with `body` in `coding`, as the routed handler gives it, with
/// what the stack's outer layers add ([`finish`]).
fn respond(
    cc: HeaderValue,
    t: &CachedTile,
    request: &HeaderMap,
    coding: Coding,
    body: bytes::Bytes,
) -> Response {
    let mut r = match tile_head_with(cc, t, request) {
        Head::Body(h) => tile_body(h, coding, body),
        Head::Done(done) => done,
    };
    finish(&mut r);
    r
}

/// An error's answer, with what the stack adds to every answer.
fn failed(e: super::ApiError) -> Response {
    let mut r = e.into_response();
    finish(&mut r);
    r
}

/// Whether the stack's limits would let the request through unchanged
/// ([`guard::head_within_limits`]), and it has no body.
fn within_limits(uri: &axum::http::Uri, h: &HeaderMap) -> bool {
    !h.contains_key(header::CONTENT_LENGTH)
        && !h.contains_key(header::TRANSFER_ENCODING)
        && guard::head_within_limits(uri, h).is_ok()
}

/// What the stack adds to every answer: the body's `Content-Length` (axum's route does),
/// the security headers ([`guard::answer`]) and the permissive CORS layer's (any origin,
/// every header exposed, and its `Vary`).
fn finish(r: &mut Response) {
    use axum::body::HttpBody;
    let length = r.body().size_hint().exact();
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("*"),
    );
    h.append(
        header::VARY,
        HeaderValue::from_static(
            "origin, access-control-request-method, access-control-request-headers",
        ),
    );
    guard::secure(h, false);
    // Last, where the router's answer has it (hyper writes the map in order).
    if let Some(n) = length {
        h.entry(header::CONTENT_LENGTH)
            .or_insert_with(|| HeaderValue::from(n));
    }
}
