//! A hostile client against the real server on loopback: each test is a way the server
//! could once be crashed, exhausted or made to write someone else's links, and checks the
//! answer is now a clear 4xx in our JSON shape (or a cut connection) and that the server
//! serves on.

use crate::common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TestServer;
use heritage_atlas::http::guard::{Limits, Proxies, UploadBudget};
use heritage_atlas::http::serve::{serve, ServeOptions};
use heritage_atlas::model::{now_rfc3339, Role};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends raw bytes and reads until the server answers or closes; returns what came back.
async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let mut chunk = [0u8; 8192];
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    // One whole answer is enough (heads end with a blank line; our bodies
                    // are small JSON).
                    if let Some(i) = find(&buf, b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok());
                        if len.is_some_and(|n| buf.len() >= i + 4 + n) {
                            break;
                        }
                    }
                }
            }
        }
    })
    .await;
    String::from_utf8_lossy(&buf).into_owned()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn json_body(answer: &str) -> Value {
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"))
}

/// Asserts an answer is our JSON error with this status and code.
async fn expect_error(r: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], code, "{v}");
    assert!(v["description"].as_str().is_some_and(|d| !d.is_empty()));
    v
}

async fn healthy(srv: &TestServer) {
    let (status, v) = srv.get("/health").await;
    assert_eq!(status, 200, "{v}");
}

fn complaint() -> Value {
    json!({"lon": 88.3426, "lat": 22.5448, "category": "heritage_damage",
           "description": "Broken railing", "attributes": {"damage_type": "vandalism"}})
}

#[tokio::test]
async fn deep_cql2_nesting_is_a_400_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("h.db"), true).await;
    let c = reqwest::Client::new();
    for (filter, want) in [
        (
            format!("{}ward=1{}", "(".repeat(2_000), ")".repeat(2_000)),
            "deeper than 64",
        ),
        ("NOT ".repeat(2_000) + "ward=1", "deeper than 64"),
    ] {
        for f in ["json", "csv", "fgb"] {
            let r = c
                .get(srv.url("/collections/heritage/items"))
                .query(&[("filter", filter.as_str()), ("f", f)])
                .send()
                .await
                .unwrap();
            let v = expect_error(r, 400, "invalid_parameter").await;
            assert!(v["description"].as_str().unwrap().contains(want), "{v}");
        }
    }
    // Longer than a request target may be: refused before it is parsed.
    let r = c
        .get(srv.url("/collections/water_bodies/items"))
        .query(&[("filter", "NOT ".repeat(10_000) + "ward=1")])
        .send()
        .await
        .unwrap();
    expect_error(r, 414, "uri_too_long").await;
    // A wide filter is fine.
    let wide = vec!["ward = 1"; 500].join(" OR ") + " OR ward = 63";
    let r = c
        .get(srv.url("/collections/heritage/items"))
        .query(&[("filter", wide.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    healthy(&srv).await;
    srv.stop().await;
}

#[tokio::test]
async fn a_login_flood_is_refused_before_hashing() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("h.db"), false).await;
    common::put_user(&srv, "officer", Role::Officer, None).await;
    let c = reqwest::Client::new();
    let attempts = (0..100).map(|i| {
        let c = c.clone();
        let url = srv.url("/auth/login");
        async move {
            c.post(url)
                .json(&json!({"name": "officer", "password": format!("guess {i}")}))
                .send()
                .await
                .unwrap()
        }
    });
    let started = std::time::Instant::now();
    let answers = futures_util::future::join_all(attempts).await;
    let took = started.elapsed();
    let mut refused = 0;
    let mut checked = 0;
    for r in answers {
        match r.status().as_u16() {
            429 => {
                let wait: u64 = r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=60).contains(&wait));
                refused += 1;
            }
            401 => checked += 1,
            s => panic!("status {s}"),
        }
    }
    // One guess at a time per name and per client, each after the back-off of the
    // failures before it (250 ms, 500 ms, 1 s …): the rest never reach argon2. On a slow
    // machine the hundred guesses arrive over longer, and may meet more back-offs ended.
    let mut may_check = 1;
    let mut waited = std::time::Duration::ZERO;
    loop {
        waited += std::time::Duration::from_millis(250 << (may_check - 1));
        if waited > took {
            break;
        }
        may_check += 1;
    }
    assert!(
        (1..=may_check).contains(&checked),
        "{checked} passwords were hashed in {took:?}"
    );
    assert_eq!(refused + checked, 100);
    // The right password is refused while backing off, then accepted.
    let r = c
        .post(srv.url("/auth/login"))
        .json(&json!({"name": "officer", "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("retry-after"));
    expect_error(r, 429, "too_many_requests").await;
    let (status, v) = common::login_once_allowed(&srv, "officer", common::PASSWORD).await;
    assert_eq!(status, 200, "{v}");
    srv.stop().await;
}

#[tokio::test]
async fn bodies_are_bounded_before_and_while_they_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("h.db"), true).await;
    // Declared too large: refused at once, unread (no body is sent at all).
    for (path, ct) in [
        ("/complaints", "application/json"),
        ("/auth/login", "application/json"),
        ("/complaints", "multipart/form-data; boundary=x"),
    ] {
        let t = Instant::now();
        let a = raw(
            srv.addr,
            format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ct}\r\nContent-Length: 999999999999\r\n\r\n")
                .as_bytes(),
        )
        .await;
        assert_eq!(status_of(&a), 413, "{a}");
        assert_eq!(json_body(&a)["code"], "payload_too_large");
        assert!(t.elapsed() < Duration::from_secs(5));
    }
    // A JSON complaint is at most 64 KiB, even on the route that takes 51 MB of photos.
    let mut big = complaint();
    big["pad"] = json!(vec![1; 40_000]);
    let r = reqwest::Client::new()
        .post(srv.url("/complaints"))
        .json(&big)
        .send()
        .await
        .unwrap();
    expect_error(r, 413, "payload_too_large").await;
    // Chunked, with no length: cut off once past the limit while streaming.
    let mut req = b"POST /complaints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let chunk = vec![b' '; 16 << 10];
    for _ in 0..8 {
        req.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend(&chunk);
        req.extend(b"\r\n");
    }
    req.extend(b"0\r\n\r\n");
    let a = raw(srv.addr, &req).await;
    assert_eq!(status_of(&a), 413, "{a}");
    // Chunked uploads are refused: their size must be known before they are read.
    let a = raw(srv.addr, b"POST /complaints HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").await;
    assert_eq!(status_of(&a), 411, "{a}");
    // A text field of a multipart form is small too.
    let form = reqwest::multipart::Form::new().text("description", "x".repeat(100 << 10));
    let r = reqwest::Client::new()
        .post(srv.url("/complaints"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "invalid_field").await;
    healthy(&srv).await;
    srv.stop().await;
}

#[tokio::test]
async fn links_are_ours_whatever_the_host_header_says() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("h.db"), true).await;
    let ours = format!("http://{}", srv.addr);
    let c = reqwest::Client::new();
    for path in [
        "/tiles/heritage.json",
        "/styles/heritage.json",
        "/collections?f=json",
        "/?f=json",
        "/api",
    ] {
        let text = c
            .get(srv.url(path))
            .header("host", "evil.example")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "evil.example")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.contains("evil.example"), "{path}: {text}");
        assert!(text.contains(&ours), "{path}: {text}");
    }
    srv.stop().await;

    // Behind a trusted proxy (here: loopback) its headers name the public origin.
    let srv = TestServer::start_with(&dir.path().join("h.db"), false, |s| {
        let mut s = s.with_rate_limit(0);
        s.proxies = Some(Arc::new(Proxies::loopback()));
        s
    })
    .await;
    let tj: Value = c
        .get(srv.url("/tiles/heritage.json"))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "atlas.example.org")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        tj["tiles"][0]
            .as_str()
            .unwrap()
            .starts_with("https://atlas.example.org/tiles/"),
        "{tj}"
    );
    // Even from a proxy, a host that could break out of a URL is not written.
    let tj: Value = c
        .get(srv.url("/tiles/heritage.json"))
        .header("x-forwarded-host", "evil.example/\"><script>")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ours = format!("http://{}", srv.addr);
    assert!(tj["tiles"][0].as_str().unwrap().starts_with(&ours), "{tj}");
    srv.stop().await;
}

#[tokio::test]
async fn rotating_x_forwarded_for_does_not_escape_the_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&dir.path().join("h.db"), true, |s| {
        let mut s = s.with_rate_limit(3);
        s.proxies = Some(Arc::new(Proxies::loopback()));
        s
    })
    .await;
    let c = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..6 {
        // The proxy (loopback) appends the address it saw; what is left of it the client wrote.
        let r = c
            .post(srv.url("/complaints"))
            .header("x-forwarded-for", format!("10.0.{i}.1, 203.0.113.5"))
            .json(&complaint())
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 201, 429, 429, 429]);
    // Another real client behind the same proxy has its own budget.
    let r = c
        .post(srv.url("/complaints"))
        .header("x-forwarded-for", "203.0.113.6")
        .json(&complaint())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    srv.stop().await;

    // Without --trust-proxy the header is ignored: rotating it changes nothing.
    let srv =
        TestServer::start_with(&dir.path().join("h.db"), false, |s| s.with_rate_limit(2)).await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let r = c
            .post(srv.url("/complaints"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&complaint())
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [201, 201, 429]);
    srv.stop().await;
}

#[tokio::test]
async fn open311_posts_are_rate_limited_like_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let srv =
        TestServer::start_with(&dir.path().join("h.db"), true, |s| s.with_rate_limit(2)).await;
    let key = heritage_atlas::auth::new_secret();
    srv.atlas
        .store()
        .add_api_key(
            &heritage_atlas::auth::sha256_hex(&key),
            "test",
            &now_rfc3339(),
        )
        .await
        .unwrap();
    let form = [
        ("api_key", key.as_str()),
        ("service_code", "park_maintenance"),
        ("lat", "22.5448"),
        ("long", "88.3426"),
        ("description", "Broken bench"),
    ];
    let c = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = c
            .post(srv.url("/open311/v2/requests.json"))
            .form(&form)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status().as_u16() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            let v: Value = r.json().await.unwrap();
            assert_eq!(v[0]["code"], 429, "{v}");
        }
    }
    assert_eq!(statuses, [201, 201, 429]);
    // JSON is not a form.
    let r = c
        .post(srv.url("/open311/v2/requests.json"))
        .json(&json!({"api_key": key}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    srv.stop().await;
}

#[tokio::test]
async fn every_error_is_our_json_and_every_answer_has_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("h.db"), true).await;
    let c = reqwest::Client::new();
    // 405 from the router, with Allow kept.
    let r = c.delete(srv.url("/health")).send().await.unwrap();
    assert!(r.headers().contains_key("allow"));
    expect_error(r, 405, "method_not_allowed").await;
    // 414 and 431 below hyper's own cut-off are ours.
    let r = c
        .get(srv.url(&format!("/search?q={}", "a".repeat(20_000))))
        .send()
        .await
        .unwrap();
    expect_error(r, 414, "uri_too_long").await;
    let r = c
        .get(srv.url("/health"))
        .header("x-padding", "a".repeat(40_000))
        .send()
        .await
        .unwrap();
    expect_error(r, 431, "headers_too_large").await;
    // A Content-Type that only starts like JSON is not JSON.
    let r = c
        .post(srv.url("/complaints"))
        .header("content-type", "application/jsonfoo")
        .body(complaint().to_string())
        .send()
        .await
        .unwrap();
    expect_error(r, 415, "unsupported_media_type").await;
    // Unknown parameters are refused on every GET, not ignored.
    let (_, filed) = {
        let r = c
            .post(srv.url("/complaints"))
            .json(&complaint())
            .send()
            .await
            .unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    };
    let ticket = filed["ticket"].as_str().unwrap();
    for path in [
        format!("/complaints/{ticket}?x=1"),
        "/health?x=1".into(),
        "/assets/HER-0001?x=1".into(),
        "/styles/heritage.json?x=1".into(),
        "/tiles/heritage.json?x=1".into(),
        "/audit/verify?x=1".into(),
        "/metrics?x=1".into(),
        "/open311/v2/services/park_maintenance.json?x=1".into(),
    ] {
        let r = c.get(srv.url(&path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400, "{path}");
    }
    for path in [
        format!("/complaints/{ticket}"),
        "/tiles/heritage.json?v=2".into(),
        "/open311/v2/services/park_maintenance.json?jurisdiction_id=kolkata".into(),
    ] {
        let r = c.get(srv.url(&path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
    }
    // Security headers on pages, data, tiles, photos and errors alike.
    for path in [
        "/",
        "/health",
        "/tiles/heritage/14/12063/7178.mvt",
        "/photos/0000000000000000000000000000000000000000000000000000000000000000",
        "/no/such/thing",
        "/collections/heritage/items?filter=(((",
    ] {
        let r = c.get(srv.url(path)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
    srv.stop().await;
}

/// A server with its own connection limits and deadlines, for the tests that need them.
async fn start_limited(
    dir: &std::path::Path,
    opts: ServeOptions,
    limits: Limits,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let store = common::open_store(&dir.join("l.db")).await;
    let atlas = heritage_atlas::atlas::Atlas::open(
        store,
        &heritage_atlas::atlas::AtlasOptions {
            load_bundled: false,
            photos_dir: dir.join("l.photos"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut state = heritage_atlas::AppState::new(Arc::new(atlas)).with_rate_limit(0);
    state.limits = limits;
    state.uploads = Arc::new(UploadBudget::new(1 << 20));
    let app = heritage_atlas::app(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, opts, async {
        let _ = rx.await;
    }));
    (addr, tx)
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_connections_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop) = start_limited(
        dir.path(),
        ServeOptions {
            header_timeout: Duration::from_secs(2),
            max_connections_per_client: 8,
            ..ServeOptions::default()
        },
        Limits {
            body_idle_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
    )
    .await;
    // Slowloris: one header line a second is never a whole request; cut off at 2 s.
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    let mut closed = false;
    for i in 0..10 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if s.write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
            .await
            .is_err()
        {
            closed = true;
            break;
        }
        let mut b = [0u8; 512];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(10), s.read(&mut b)).await {
            closed = true;
            break;
        }
    }
    assert!(closed, "still open after {:?}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());

    // A body that stops arriving: the request ends after the idle timeout.
    let t = Instant::now();
    let a = raw(
        addr,
        b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":",
    )
    .await;
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(a.is_empty() || status_of(&a) >= 400, "{a}");

    // One address holds at most 8 connections; the 9th is told 429 and closed.
    let mut held = Vec::new();
    for _ in 0..8 {
        let s = TcpStream::connect(addr).await.unwrap();
        held.push(s);
    }
    // The server counts them once it has accepted them all.
    let a = common::eventually(
        "the 9th connection to be refused",
        Duration::from_secs(10),
        || async {
            let a = raw(addr, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await;
            (status_of(&a) == 429).then_some(a)
        },
    )
    .await;
    assert_eq!(json_body(&a)["code"], "too_many_requests");
    assert!(a.to_ascii_lowercase().contains("retry-after: "), "{a}");
    // Closed, they no longer count, as soon as the server sees them go.
    drop(held);
    common::eventually(
        "a connection to be let in again",
        Duration::from_secs(10),
        || async {
            let a = raw(
                addr,
                b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await;
            (status_of(&a) == 200).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn anonymous_uploads_have_an_hourly_budget() {
    let dir = tempfile::tempdir().unwrap();
    // 1 MiB an hour in start_limited.
    let (addr, _stop) = start_limited(dir.path(), ServeOptions::default(), Limits::default()).await;
    let c = reqwest::Client::new();
    let send = || {
        let form = reqwest::multipart::Form::new()
            .text("category", "other")
            .part(
                "photo",
                reqwest::multipart::Part::bytes(vec![0u8; 600 << 10]).file_name("a.jpg"),
            );
        c.post(format!("http://{addr}/complaints"))
            .multipart(form)
            .send()
    };
    // The first is read (and refused: not a photo); the second would pass the budget.
    let r = send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = send().await.unwrap();
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 60, "{wait}");
    expect_error(r, 429, "too_many_requests").await;
    // JSON complaints do not spend the upload budget.
    let r = c
        .post(format!("http://{addr}/complaints"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn uploads_in_flight_are_bounded_across_clients() {
    let dir = tempfile::tempdir().unwrap();
    // Room for 1 MiB of uploads at once (512 MiB by default).
    let srv = TestServer::start_with(&dir.path().join("h.db"), false, |mut s| {
        s.uploads_in_flight = Arc::new(tokio::sync::Semaphore::new(1));
        s.with_rate_limit(0)
    })
    .await;
    let send = |n: usize| {
        let form = reqwest::multipart::Form::new().part(
            "photo",
            reqwest::multipart::Part::bytes(vec![0u8; n]).file_name("a.jpg"),
        );
        reqwest::Client::new()
            .post(srv.url("/complaints"))
            .multipart(form)
            .send()
    };
    let r = send(3 << 20).await.unwrap();
    assert!(r.headers().contains_key("retry-after"));
    expect_error(r, 503, "unavailable").await;
    // A smaller one fits and reaches the form's own checks.
    let r = send(100 << 10).await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    srv.stop().await;
}
