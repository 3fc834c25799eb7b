//! What every request passes before and after its handler, so that nothing an anonymous
//! client sends can take the server down: the limits on the request line, headers and
//! body; who the client is (behind trusted proxies only); the per-client upload budget;
//! a deadline for each request; and on the way out, the security headers every answer
//! carries and our JSON error shape for the errors axum and tower produce themselves
//! (405, 413, 408 …).
//!
//! The limits live here, in one place, so a new route is small-bodied and bounded by
//! default; the routes that take uploads are listed in [`upload_limit`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;

use super::{ApiError, AppState};
use crate::model::epoch_now;
use crate::store::Store;

/// JSON, form and other small bodies: a complaint is a few hundred bytes, 64 KiB is
/// plenty. Past it, 413 — and a body with a larger `Content-Length` is refused unread.
pub const SMALL_BODY: usize = 64 << 10;
/// Longest request target (path and query) we read; longer is a 414. Hyper itself cuts
/// at 64 KiB with an empty answer; below that the client gets our JSON.
pub const MAX_URI: usize = 16 << 10;
/// Most header bytes (names and values) in one request; more is a 431.
pub const MAX_HEADER_BYTES: usize = 32 << 10;

/// Deadlines and budgets, set from the command line (see `config::ServeArgs`).
#[derive(Debug, Clone)]
pub struct Limits {
    /// How long a request may take, body and handler together (uploads excepted).
    pub request_timeout: Duration,
    /// How long an upload (photos, documents) may take to arrive and be stored.
    pub upload_timeout: Duration,
    /// How long the body may pause between two chunks before the request is dropped.
    pub body_idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_timeout: Duration::from_secs(crate::config::defaults::REQUEST_TIMEOUT_S),
            upload_timeout: Duration::from_secs(crate::config::defaults::UPLOAD_TIMEOUT_S),
            body_idle_timeout: Duration::from_secs(30),
        }
    }
}

/// The routes that take uploads: the body limit for a multipart (or raw-bytes) body, and
/// whether an anonymous client may send one (then the client's hourly upload budget is
/// charged). Every other route takes at most [`SMALL_BODY`].
fn upload_limit(method: &Method, route: &str) -> Option<(usize, bool)> {
    let photos = super::complaints::MAX_BODY;
    let documents = super::documents::MAX_BODY;
    match (method.as_str(), route) {
        ("POST", "/complaints") => Some((photos, true)),
        ("PATCH", "/complaints/{ticket}") => Some((photos, false)),
        ("POST", "/documents/verify") => Some((documents, true)),
        ("POST", "/assets/{code}/documents") => Some((documents, false)),
        ("POST", "/documents") => Some((documents, false)),
        // Applicants are not staff: their files count against the client's budget.
        ("PUT", "/applications/{key}/files/{doc}") => Some((documents, true)),
        ("PUT", "/hcc/meetings/{id}/minutes") => Some((documents, false)),
        _ => None,
    }
}

/// The body limit of a JSON route: a whole feature for the OGC edits, [`SMALL_BODY`]
/// for every other.
fn json_limit(method: &Method, route: &str) -> usize {
    match (method.as_str(), route) {
        ("POST", "/collections/{id}/items")
        | ("PUT" | "PATCH", "/collections/{id}/items/{fid}") => super::ogc::edits::FEATURE_BODY,
        // A proposed work to screen: an alignment may have many vertices.
        ("POST", "/screening") => super::ogc::edits::FEATURE_BODY,
        _ => SMALL_BODY,
    }
}

/// The media type of a request, without parameters, lower case (`""` when absent).
pub fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .map(|m| m.essence_str().to_ascii_lowercase())
        .unwrap_or_default()
}

/// `application/json` or a `+json` type; `application/jsonfoo` is not JSON.
pub fn is_json(media_type: &str) -> bool {
    media_type == "application/json"
        || media_type
            .strip_prefix("application/")
            .is_some_and(|s| s.ends_with("+json"))
}

pub fn is_multipart(media_type: &str) -> bool {
    media_type == "multipart/form-data"
}

/// A `--trusted-proxies` entry that is neither an address nor a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an address or CIDR block")]
pub struct BadProxy(pub String);

/// Who may speak for the client: with `--trust-proxy`, the proxies in
/// `--trusted-proxies`. A request that comes from one of them is attributed to the
/// right-most address in `X-Forwarded-For` that is not a trusted proxy — the left part
/// of that header is whatever the client wrote, so it is never believed.
#[derive(Debug, Clone)]
pub struct Proxies {
    trusted: Vec<IpNet>,
}

impl Proxies {
    /// `127.0.0.0/8` and `::1`: a proxy on the same machine.
    pub fn loopback() -> Proxies {
        Proxies {
            trusted: vec![
                "127.0.0.0/8".parse().expect("valid net"),
                "::1/128".parse().expect("valid net"),
            ],
        }
    }

    /// A comma-separated list of addresses or CIDR blocks.
    pub fn parse(list: &str) -> Result<Proxies, BadProxy> {
        let mut trusted = Vec::new();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let net = part
                .parse::<IpNet>()
                .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| BadProxy(part.to_string()))?;
            trusted.push(net);
        }
        Ok(Proxies { trusted })
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    /// The client behind `peer`, given the request's `X-Forwarded-For` values.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        let hops = forwarded_for.iter().rev().flat_map(|v| v.rsplit(','));
        for hop in hops {
            let Some(ip) = parse_hop(hop) else {
                // Garbage where an address should be: the hop that wrote it is the
                // last we can vouch for.
                return client;
            };
            client = canonical(ip);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// An `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Ok(sa) = hop.parse::<std::net::SocketAddr>() {
        return Some(sa.ip());
    }
    None
}

/// IPv4-mapped IPv6 addresses as the IPv4 address they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client for rate limits and budgets (see [`Proxies`]): its IPv4 address, or the
/// /64 its IPv6 address is in — one subscriber's line gets a whole /64, and an address
/// per request from it must not be a new client per request.
pub fn client_ip(s: &AppState, headers: &HeaderMap, peer: Option<IpAddr>) -> String {
    let Some(peer) = peer else {
        return "unknown".into();
    };
    let ip = match &s.proxies {
        Some(p) => {
            let xff: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            canonical(p.client(peer, &xff))
        }
        None => canonical(peer),
    };
    client_key(ip)
}

/// An address as a rate-limit key: IPv4 whole, IPv6 by its /64.
fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
    }
}

fn peer(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// A per-client limit kept in the database, so that every server on it counts a client
/// once (`Store::limit_take`: a GCRA bucket of `window` seconds, a unit costing
/// `per_unit` of them). Each server keeps a count of its own too, checked first: a
/// client over its limit on one server is over it on all, and is refused without a
/// word to the database, so a flood costs the database nothing.
#[derive(Debug)]
pub struct SharedBucket {
    /// Keys are `kind:client`.
    kind: &'static str,
    per_unit: f64,
    window: f64,
    checks: AtomicU32,
}

/// How many takes pass between sweeps of the refilled buckets (and of the login
/// throttle's quiet records) from the database.
const SWEEP_EVERY: u32 = 1024;

impl SharedBucket {
    pub fn new(kind: &'static str, per_unit: f64, window: f64) -> SharedBucket {
        SharedBucket {
            kind,
            per_unit,
            window,
            checks: AtomicU32::new(0),
        }
    }

    /// Takes `cost` units from `client`'s bucket, or says in how many seconds they fit.
    pub async fn take(&self, store: &Store, client: &str, cost: f64) -> Result<(), ApiError> {
        let now = epoch_now();
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            let store = store.clone();
            tokio::spawn(async move {
                let forget = crate::auth::FORGET_AFTER.as_secs_f64();
                if let Err(e) = store.limits_sweep(now, forget).await {
                    tracing::warn!("sweeping the limits: {e}");
                }
            });
        }
        let key = format!("{}:{client}", self.kind);
        match store
            .limit_take(&key, now, self.per_unit, cost, self.window)
            .await?
        {
            None => Ok(()),
            Some(wait) => Err(ApiError::TooManyRequests {
                retry_after_s: wait.ceil().max(1.0) as u64,
            }),
        }
    }
}

/// Bytes of uploads one client may send an hour, as a bucket that refills evenly: kept
/// by this server ([`UploadBudget::charge`]) and in the database ([`UploadBudget::shared`]).
#[derive(Debug)]
pub struct UploadBudget {
    per_hour: u64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    shared: SharedBucket,
}

impl UploadBudget {
    /// 0 turns the budget off.
    pub fn new(per_hour: u64) -> UploadBudget {
        UploadBudget {
            per_hour,
            buckets: Mutex::default(),
            shared: SharedBucket::new("uploads", 3600.0 / per_hour.max(1) as f64, 3600.0),
        }
    }

    /// Takes `bytes` from `client`'s budget in the database, shared by every server on
    /// it, after [`UploadBudget::charge`] has taken them from this server's.
    pub async fn shared(&self, store: &Store, client: &str, bytes: u64) -> Result<(), ApiError> {
        if self.per_hour == 0 || bytes == 0 {
            return Ok(());
        }
        self.shared.take(store, client, bytes as f64).await
    }

    /// Takes `bytes` from `client`'s budget on this server, or says in how many seconds
    /// they will fit.
    pub fn charge(&self, client: &str, bytes: u64) -> Result<(), ApiError> {
        if self.per_hour == 0 {
            return Ok(());
        }
        let cap = self.per_hour as f64;
        let per_s = cap / 3600.0;
        let want = bytes as f64;
        if want > cap {
            return Err(ApiError::TooLarge(format!(
                "{bytes} bytes is more than a client may upload in an hour ({} MB)",
                self.per_hour >> 20
            )));
        }
        let now = Instant::now();
        let mut m = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 100_000 {
            m.retain(|_, (left, t)| *left + now.duration_since(*t).as_secs_f64() * per_s < cap);
        }
        let (left, t) = m.entry(client.to_string()).or_insert((cap, now));
        *left = (*left + now.duration_since(*t).as_secs_f64() * per_s).min(cap);
        *t = now;
        if *left >= want {
            *left -= want;
            Ok(())
        } else {
            Err(ApiError::TooManyRequests {
                retry_after_s: ((want - *left) / per_s).ceil().max(1.0) as u64,
            })
        }
    }
}

/// Before the handler: the request line, headers and body are within bounds, uploads are
/// within the client's budget, and the whole request runs under a deadline.
pub async fn limits(State(s): State<AppState>, req: Request, next: Next) -> Response {
    match admit(&s, req) {
        // The upload's share of the in-flight budget is held until the answer is made.
        Ok(Admitted {
            req,
            deadline,
            uploading: _uploading,
            charge,
        }) => {
            let run = async {
                if let Some((client, n)) = charge {
                    let store = s.atlas.store();
                    if let Err(e) = s.uploads.shared(store, &client, n).await {
                        return e.into_response();
                    }
                }
                next.run(req).await
            };
            match tokio::time::timeout(deadline, run).await {
                Ok(r) => r,
                Err(_) => ApiError::Unavailable(format!(
                    "the request took longer than {} s and was stopped",
                    deadline.as_secs()
                ))
                .into_response(),
            }
        }
        Err(e) => e.into_response(),
    }
}

/// Upload bytes in flight across all clients, in MiB: uploads are read into memory
/// (photos are hashed and stripped whole), so many clients uploading at once must not add
/// up past this. Each upload holds its declared size until it is answered.
pub const UPLOADS_IN_FLIGHT_MB: u32 = 512;

/// A request within bounds ([`admit`]), and what it holds or still owes.
struct Admitted {
    req: Request,
    deadline: Duration,
    /// An upload's share of [`UPLOADS_IN_FLIGHT_MB`].
    uploading: Option<tokio::sync::OwnedSemaphorePermit>,
    /// An anonymous upload's bytes, taken from this server's budget for the client and
    /// still to be taken from the one in the database (`UploadBudget::shared`).
    charge: Option<(String, u64)>,
}

/// The request target within [`MAX_URI`] and its headers within [`MAX_HEADER_BYTES`].
pub(super) fn head_within_limits(uri: &axum::http::Uri, h: &HeaderMap) -> Result<(), ApiError> {
    let target = uri.path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_URI {
        return Err(ApiError::UriTooLong(format!(
            "the request target is {target} bytes; at most {MAX_URI} are read"
        )));
    }
    let head: usize = h.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
    if head > MAX_HEADER_BYTES {
        return Err(ApiError::HeadersTooLarge(format!(
            "the headers are {head} bytes; at most {MAX_HEADER_BYTES} are read"
        )));
    }
    Ok(())
}

fn admit(s: &AppState, req: Request) -> Result<Admitted, ApiError> {
    head_within_limits(req.uri(), req.headers())?;
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let media = media_type(req.headers());
    let upload = upload_limit(req.method(), &route).filter(|_| !is_json(&media));
    let limit = upload.map_or(json_limit(req.method(), &route), |(n, _)| n);
    let declared = match req.headers().get(header::CONTENT_LENGTH) {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| ApiError::BadRequest("Content-Length is not a number".into()))?,
        ),
    };
    if let Some(n) = declared.filter(|n| *n > limit as u64) {
        return Err(ApiError::TooLarge(format!(
            "the body is {n} bytes; this resource takes at most {limit}"
        )));
    }
    let mut deadline = s.limits.request_timeout;
    let mut uploading = None;
    let mut charge = None;
    if let Some((_, public)) = upload {
        deadline = s.limits.upload_timeout;
        let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
        let Some(n) = declared.or((!chunked).then_some(0)) else {
            return Err(ApiError::LengthRequired(
                "uploads need a Content-Length (the size is checked before they are read)".into(),
            ));
        };
        if public && n > 0 {
            let client = client_ip(s, req.headers(), peer(&req));
            s.uploads.charge(&client, n)?;
            charge = Some((client, n));
        }
        let mib = u32::try_from(n.div_ceil(1 << 20))
            .unwrap_or(u32::MAX)
            .max(1);
        uploading = Some(
            s.uploads_in_flight
                .clone()
                .try_acquire_many_owned(mib)
                .map_err(|_| {
                    ApiError::Unavailable(
                        "too many uploads are arriving at once; try again in a moment".into(),
                    )
                })?,
        );
    }
    let idle = s.limits.body_idle_timeout;
    let req = req.map(|b| {
        Body::new(http_body_util::Limited::new(
            tower_http::timeout::TimeoutBody::new(idle, b),
            limit,
        ))
    });
    Ok(Admitted {
        req,
        deadline,
        uploading,
        charge,
    })
}

/// Sent with every answer (OWASP ASVS 14.4): no MIME sniffing, no framing by other
/// sites, no referrer leaking a ticket URL elsewhere.
const SECURITY_HEADERS: [(header::HeaderName, &str); 3] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
];

/// The page's policy: everything from us (MapLibre's workers start from `blob:` URLs,
/// photos preview as `blob:`), inline styles for MapLibre's own elements, nothing framed.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; worker-src 'self' blob:; \
child-src 'self' blob:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// After the handler: security headers on every answer, and our JSON error body on error
/// answers that axum or tower made as plain text or empty (405, 413, 408 …).
pub async fn answer(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let status = r.status();
    let ct = r
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let starts = |p: &str| ct.len() >= p.len() && ct[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    let is_html = starts("text/html");
    if (status.is_client_error() || status.is_server_error())
        && (ct.is_empty() || starts("text/plain"))
    {
        let keep = r.headers().clone();
        let text = http_body_util::BodyExt::collect(std::mem::take(r.body_mut()))
            .await
            .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
            .unwrap_or_default();
        let mut json = ApiError::from_status(status, text.trim(), &keep).into_response();
        for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
            if let Some(v) = keep.get(&name) {
                json.headers_mut().insert(name, v.clone());
            }
        }
        r = json;
    }
    secure(r.headers_mut(), is_html);
    r
}

/// Adds the security headers every answer carries: no sniffing, no framing, no referrer,
/// and a content policy (the page's for HTML; otherwise, unless the answer set its own,
/// only framing — a script answer's policy is its worker's policy, and MapLibre's worker
/// is one of our files, so anything stricter would stop it fetching tiles).
pub(super) fn secure(h: &mut HeaderMap, html: bool) {
    for (name, value) in SECURITY_HEADERS {
        h.insert(name, HeaderValue::from_static(value));
    }
    if html {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
    } else if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let p = Proxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
        // Rate-limit keys: IPv6 by its /64, IPv4 whole.
        let v6 = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(v6("2001:db8:1:2:aaaa::1"), v6("2001:db8:1:2:bbbb::9"));
        assert_ne!(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1"));
        assert_eq!(v6("203.0.113.7"), "203.0.113.7");
        // Not from a proxy: the header is the client's own words.
        assert_eq!(p.client(ip("203.0.113.9"), &["1.1.1.1"]), ip("203.0.113.9"));
        // From the proxy: its entry (right-most) is believed, the client's are not.
        assert_eq!(
            p.client(ip("127.0.0.1"), &["10.0.9.1, 198.51.100.7"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            p.client(ip("127.0.0.1"), &["6.6.6.6, 198.51.100.7, 10.1.2.3"]),
            ip("198.51.100.7")
        );
        // Several header lines read as one list, in order.
        assert_eq!(
            p.client(ip("127.0.0.1"), &["6.6.6.6", "198.51.100.7:443"]),
            ip("198.51.100.7")
        );
        // Garbage stops the walk at the last address we can vouch for.
        assert_eq!(
            p.client(ip("127.0.0.1"), &["evil, 10.0.0.5"]),
            ip("10.0.0.5")
        );
        assert_eq!(
            p.client(ip("::ffff:127.0.0.1"), &["[2001:db8::1]:80"]),
            ip("2001:db8::1")
        );
        assert_eq!(p.client(ip("127.0.0.1"), &[]), ip("127.0.0.1"));
        assert_eq!(
            Proxies::parse("10.0.0.0/33").unwrap_err().to_string(),
            "\"10.0.0.0/33\" is not an address or CIDR block"
        );
    }

    #[test]
    fn media_types_match_exactly() {
        let h = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(v).unwrap());
            media_type(&h)
        };
        assert!(is_json(&h("application/json")));
        assert!(is_json(&h("Application/JSON; charset=utf-8")));
        assert!(is_json(&h("application/merge-patch+json")));
        assert!(!is_json(&h("application/jsonfoo")));
        assert!(!is_json(&h("text/json-ish")));
        assert!(is_multipart(&h("multipart/form-data; boundary=x")));
        assert!(!is_multipart(&h("multipart/form-datax; boundary=x")));
    }

    #[test]
    fn the_upload_budget_refills_by_the_hour() {
        let b = UploadBudget::new(3600 << 10);
        assert!(b.charge("a", 3000 << 10).is_ok());
        match b.charge("a", 1000 << 10) {
            Err(ApiError::TooManyRequests { retry_after_s }) => {
                assert!((399..=401).contains(&retry_after_s), "{retry_after_s}")
            }
            other => panic!("{other:?}"),
        }
        assert!(b.charge("b", 1000 << 10).is_ok(), "budgets are per client");
        assert!(matches!(
            b.charge("c", 4000 << 10),
            Err(ApiError::TooLarge(_))
        ));
        assert!(UploadBudget::new(0).charge("a", u64::MAX).is_ok());
    }
}
