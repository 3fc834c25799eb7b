//! `notify::Webhook` against a receiver in this process (axum on a loopback port) that
//! checks the Standard Webhooks signature itself with the `hmac` crate, and records what
//! arrived and whether the sender's commit had run by then.

use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use heritage_atlas::model::{Action, Category, Status};
use heritage_atlas::notify::{render, Lang, Notice, SendError, Webhook};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// 32 key bytes, given to the sender as `whsec_` + base64.
const KEY: &[u8; 32] = b"heritage-atlas-webhook-test-key!";

struct Arrival {
    headers: HeaderMap,
    body: Bytes,
    committed: bool,
}

struct Receiver {
    arrivals: Mutex<Vec<Arrival>>,
    status: AtomicU16,
    delay: Mutex<Duration>,
    /// Set by the sender's commit callback.
    committed: Arc<AtomicBool>,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.arrivals.lock().expect("arrivals").push(Arrival {
        headers,
        body,
        committed: r.committed.load(Ordering::SeqCst),
    });
    let delay = *r.delay.lock().expect("delay");
    tokio::time::sleep(delay).await;
    StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap_or(StatusCode::IM_A_TEAPOT)
}

/// A receiver answering `status`; its URL.
async fn receiver(status: u16) -> (String, Arc<Receiver>) {
    let r = Arc::new(Receiver {
        arrivals: Mutex::new(Vec::new()),
        status: AtomicU16::new(status),
        delay: Mutex::new(Duration::ZERO),
        committed: Arc::new(AtomicBool::new(false)),
    });
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(Arc::clone(&r));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), r)
}

fn webhook(url: &str, timeout: Duration) -> Webhook {
    Webhook::new(url, &format!("whsec_{}", BASE64.encode(KEY)), timeout).expect("webhook")
}

fn notice() -> Notice {
    Notice {
        delivery_id: 77,
        ticket: "EH-2026-000456".into(),
        category: Category::TreeFelling,
        action: Action::Duplicate,
        status: Status::Duplicate,
        note: None,
        duplicate_of: Some("EH-2026-000400".into()),
        at: "2026-02-01T08:00:00+05:30".into(),
        lang: Lang::Bn,
        reporter_name: Some("Rahul Das".into()),
        email: None,
        phone: Some("+919830000000".into()),
        ticket_url: "https://atlas.example/#/track/EH-2026-000456".into(),
        optout_url: "https://atlas.example/notify/stop?t=xyz".into(),
    }
}

/// A commit callback that sets the receiver's flag and answers `ok`.
fn commit(r: &Receiver, ok: bool) -> impl FnOnce() -> std::future::Ready<Result<(), String>> {
    let flag = Arc::clone(&r.committed);
    move || {
        flag.store(true, Ordering::SeqCst);
        std::future::ready(if ok { Ok(()) } else { Err("disk full".into()) })
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test]
async fn a_signed_notice_arrives_after_the_commit() {
    let (url, r) = receiver(204).await;
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    webhook(&url, Duration::from_secs(10))
        .send(&notice(), commit(&r, true))
        .await
        .expect("delivered");

    let arrivals = r.arrivals.lock().expect("arrivals");
    assert_eq!(arrivals.len(), 1);
    let a = &arrivals[0];
    assert!(a.committed, "the request went out before the commit");

    let h = &a.headers;
    assert_eq!(header(h, "webhook-id"), "ntf_77");
    assert_eq!(header(h, "content-type"), "application/json");
    assert!(header(h, "user-agent").starts_with("heritage-atlas/"));
    let ts: i64 = header(h, "webhook-timestamp")
        .parse()
        .expect("unix seconds");
    assert!((before..=before + 10).contains(&ts), "{ts} vs {before}");

    // The receiver's own check, as the Standard Webhooks libraries do it.
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).expect("key");
    mac.update(format!("ntf_77.{ts}.").as_bytes());
    mac.update(&a.body);
    let sig = header(h, "webhook-signature");
    let sig = sig.strip_prefix("v1,").expect("v1 signature");
    mac.verify_slice(&BASE64.decode(sig).expect("base64"))
        .expect("the signature verifies");

    let body: Value = serde_json::from_slice(&a.body).expect("JSON");
    assert_eq!(body["type"], "complaint.updated");
    assert_eq!(body["timestamp"], "2026-02-01T08:00:00+05:30");
    let d = &body["data"];
    assert_eq!(d["delivery_id"], 77);
    assert_eq!(d["ticket"], "EH-2026-000456");
    assert_eq!(d["action"], "duplicate");
    assert_eq!(d["duplicate_of"], "EH-2026-000400");
    assert_eq!(d["language"], "bn");
    assert_eq!(d["reporter"]["phone"], "+919830000000");
    assert_eq!(d["reporter"]["email"], Value::Null);
    assert_eq!(d["message"]["text"], render(&notice()).text.as_str());
}

#[tokio::test]
async fn a_failed_commit_sends_nothing() {
    let (url, r) = receiver(204).await;
    let err = webhook(&url, Duration::from_secs(10))
        .send(&notice(), commit(&r, false))
        .await
        .expect_err("the commit failed");
    assert!(
        matches!(
            err,
            SendError::NotSent {
                permanent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(r.committed.load(Ordering::SeqCst), "the commit was asked");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(r.arrivals.lock().expect("arrivals").len(), 0);
}

#[tokio::test]
async fn a_refusal_is_not_sent_and_says_whether_to_try_again() {
    let (url, r) = receiver(204).await;
    let w = webhook(&url, Duration::from_secs(10));
    for (status, permanent) in [
        (410, true),
        (400, true),
        (429, false),
        (503, false),
        (307, false),
    ] {
        r.status.store(status, Ordering::SeqCst);
        let err = w
            .send(&notice(), commit(&r, true))
            .await
            .expect_err("refused");
        assert!(
            matches!(err, SendError::NotSent { permanent: p, .. } if p == permanent),
            "{status}: {err:?}"
        );
    }
    // One request each: no retries inside the sender, no redirect followed.
    assert_eq!(r.arrivals.lock().expect("arrivals").len(), 5);
}

#[tokio::test]
async fn no_connection_is_not_sent() {
    // A port nothing listens on: bound, then let go.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let (_, r) = receiver(204).await;
    let err = webhook(&format!("http://{addr}/hook"), Duration::from_secs(5))
        .send(&notice(), commit(&r, true))
        .await
        .expect_err("refused connection");
    assert!(
        matches!(
            err,
            SendError::NotSent {
                permanent: false,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn no_answer_in_time_is_uncertain() {
    let (url, r) = receiver(204).await;
    *r.delay.lock().expect("delay") = Duration::from_secs(3);
    let err = webhook(&url, Duration::from_millis(500))
        .send(&notice(), commit(&r, true))
        .await
        .expect_err("timed out");
    assert!(matches!(err, SendError::Uncertain(_)), "{err:?}");
    // The receiver had it: exactly why the worker must not send it again.
    assert_eq!(r.arrivals.lock().expect("arrivals").len(), 1);
}
