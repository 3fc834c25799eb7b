//! The one JSON body extractor (`http/body.rs`) as a client meets it on `POST /auth/login`
//! and a staff route: the media type checked, and a body that cannot be read told apart
//! from one that is too large or not JSON.

use crate::common;

use std::time::Duration;

use common::TestServer;
use heritage_atlas::model::Role;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn expect(r: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(r.status().as_u16(), status);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], code, "{v}");
    v["description"].as_str().unwrap_or("").to_string()
}

/// Sends raw bytes on one connection and returns the status line's code and the body.
async fn raw(srv: &TestServer, request: &[u8]) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text)
}

#[tokio::test]
async fn json_bodies_are_checked_the_same_way_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("b.db"), true).await;
    let token = common::add_user(&srv, "officer1", Role::Officer, None).await;
    let client = reqwest::Client::new();
    let login = srv.url("/auth/login");

    // Not JSON by its media type: 415, with or without a Content-Type.
    let r = client
        .post(&login)
        .header("content-type", "text/plain")
        .body(r#"{"name":"officer1","password":"x"}"#)
        .send()
        .await
        .unwrap();
    assert!(expect(r, 415, "unsupported_media_type")
        .await
        .contains("text/plain"));
    let r = client.post(&login).body("{}").send().await.unwrap();
    expect(r, 415, "unsupported_media_type").await;

    // JSON media type, broken JSON: 400 saying so; JSON of the wrong shape: 400 naming it.
    let r = client
        .post(&login)
        .header("content-type", "application/json")
        .body(r#"{"name": "officer1""#)
        .send()
        .await
        .unwrap();
    assert!(expect(r, 400, "bad_request")
        .await
        .contains("not valid JSON"));
    let r = client
        .post(srv.url("/assets/HER-0001/inspections"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"condition": "good", "castle": 1}"#)
        .send()
        .await
        .unwrap();
    assert!(expect(r, 400, "bad_request").await.contains("castle"));

    // A chunked body past 64 KiB is cut while streaming: 413, not "not JSON".
    let chunk = format!("{:x}\r\n{}\r\n", 70_000, "x".repeat(70_000));
    let req = format!(
        "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunk}0\r\n\r\n"
    );
    let (status, text) = raw(&srv, req.as_bytes()).await;
    assert_eq!(status, 413, "{text}");
    assert!(
        text.contains("\"payload_too_large\"") && text.contains("64 KiB"),
        "{text}"
    );
    srv.stop().await;
}
