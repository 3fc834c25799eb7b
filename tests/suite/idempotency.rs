//! `Idempotency-Key` on POST: a request sent again with its key is answered once.

use crate::common;

use common::{add_user, jpeg, TestServer};
use heritage_atlas::model::Role;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

const VM: (f64, f64) = (88.3426, 22.5448);

async fn inspections(srv: &TestServer, code: &str) -> usize {
    let (_, v) = srv.get(&format!("/assets/{code}")).await;
    v["inspections"].as_array().map_or(0, |a| a.len())
}

fn inspect(srv: &TestServer, token: &str, key: &str, body: &Value) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(srv.url("/assets/HER-0001/inspections"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
}

#[tokio::test]
async fn an_inspection_sent_twice_is_recorded_once_and_answered_alike() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("i.db"), true).await;
    let officer = add_user(&srv, "officer", Role::Officer, None).await;
    let other = add_user(&srv, "other", Role::Officer, None).await;
    let before = inspections(&srv, "HER-0001").await;
    let body = json!({"condition": "fair", "inspected_at": "2026-11-30", "notes": "offline"});

    let first = inspect(&srv, &officer, "k-1", &body).send().await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first_body = first.bytes().await.unwrap();
    let again = inspect(&srv, &officer, "k-1", &body).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert_eq!(again.bytes().await.unwrap(), first_body);
    assert_eq!(inspections(&srv, "HER-0001").await, before + 1);
    // Signed in again (a session that ran out while offline): the key is still theirs.
    let renewed = common::login(&srv, "officer").await;
    assert_ne!(renewed, officer);
    let r = inspect(&srv, &renewed, "k-1", &body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    assert_eq!(inspections(&srv, "HER-0001").await, before + 1);

    // The same key with another body is a mistake of the client's.
    let other_body = json!({"condition": "poor", "inspected_at": "2026-11-30"});
    let r = inspect(&srv, &officer, "k-1", &other_body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "unprocessable");
    // Another user's key of the same name is theirs.
    let r = inspect(&srv, &other, "k-1", &body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    assert!(r.headers().get("idempotent-replayed").is_none());
    assert_eq!(inspections(&srv, "HER-0001").await, before + 2);

    // Sent at once, five times: one write, and each answer is it or "still being answered".
    let sends = (0..5).map(|_| inspect(&srv, &officer, "k-2", &body).send());
    let answers = futures_util::future::join_all(sends).await;
    let mut created = 0;
    for r in answers {
        match r.unwrap().status().as_u16() {
            201 => created += 1,
            409 => {}
            s => panic!("status {s}"),
        }
    }
    assert!(created >= 1);
    assert_eq!(inspections(&srv, "HER-0001").await, before + 3);

    // A refused request is answered the same way again (a 4xx is the answer).
    let bad = json!({"condition": "splendid"});
    let r1 = inspect(&srv, &officer, "k-3", &bad).send().await.unwrap();
    assert_eq!(r1.status().as_u16(), 400);
    let r2 = inspect(&srv, &officer, "k-3", &bad).send().await.unwrap();
    assert_eq!(r2.status().as_u16(), 400);
    assert_eq!(r2.headers()["idempotent-replayed"], "true");

    // Kept uncompressed whatever the first request took, so any retry reads it.
    let gz = |key: &str| {
        inspect(&srv, &officer, key, &body)
            .header("Accept-Encoding", "gzip, br")
            .send()
    };
    let first = gz("k-4").await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    assert!(first.headers().get("content-encoding").is_none());
    let first: Value = first.json().await.unwrap();
    let again = gz("k-4").await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert!(again.headers().get("content-encoding").is_none());
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again);
    assert_eq!(inspections(&srv, "HER-0001").await, before + 4);

    // A new session's token is never kept (Cache-Control: no-store): the second login with
    // the same key is a login of its own.
    let login = || {
        reqwest::Client::new()
            .post(srv.url("/auth/login"))
            .header("Idempotency-Key", "login-1")
            .json(&json!({"name": "officer", "password": common::PASSWORD}))
            .send()
    };
    let a = login().await.unwrap();
    assert_eq!(a.status().as_u16(), 200);
    let b = login().await.unwrap();
    assert_eq!(b.status().as_u16(), 200);
    assert!(b.headers().get("idempotent-replayed").is_none());
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_ne!(a["token"], b["token"]);
    let pool = common::raw_pool(&srv.db).await;
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys WHERE key = $1")
        .bind("login-1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, 0);

    // Keys that are not keys.
    for k in ["", "a b", &"x".repeat(256)] {
        let r = inspect(&srv, &officer, k, &body).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400, "{k:?}");
    }
    assert_eq!(inspections(&srv, "HER-0001").await, before + 4);
    srv.stop().await;
}

/// A citizen's complaint with a photo, sent again as a browser would build it again (a new
/// multipart boundary): one complaint, one ticket.
#[tokio::test]
async fn a_complaint_sent_twice_files_one_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("c.db"), true).await;
    let form = || {
        Form::new()
            .text("lon", VM.0.to_string())
            .text("lat", VM.1.to_string())
            .text("category", "park_maintenance")
            .text("description", "Sent from the field, twice")
            .part(
                "photo",
                Part::bytes(jpeg(7))
                    .file_name("p.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            )
    };
    let send = || {
        reqwest::Client::new()
            .post(srv.url("/complaints"))
            .header("Idempotency-Key", "0f9a4c1e-complaint")
            .multipart(form())
            .send()
    };
    let a = send().await.unwrap();
    assert_eq!(a.status().as_u16(), 201);
    let a: Value = a.json().await.unwrap();
    let b = send().await.unwrap();
    assert_eq!(b.status().as_u16(), 201);
    assert_eq!(b.headers()["idempotent-replayed"], "true");
    let b: Value = b.json().await.unwrap();
    assert_eq!(a["ticket"], b["ticket"]);
    let pool = common::raw_pool(&dir.path().join("c.db")).await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM complaints WHERE description = $1")
        .bind("Sent from the field, twice")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Without a key, a second send is a second complaint, as before.
    for _ in 0..2 {
        let r = reqwest::Client::new()
            .post(srv.url("/complaints"))
            .multipart(form())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM complaints WHERE description = $1")
        .bind("Sent from the field, twice")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 3);
    srv.stop().await;
}
