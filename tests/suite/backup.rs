//! `heritage-atlas backup DIR` against a register in use: the copy serves on its own with
//! every complaint, photo, document and audit entry, and a second backup into the same
//! place is refused.

use crate::common;

use common::{add_user, post, upload_document, TestServer};
use heritage_atlas::model::Role;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_while_serving_serves_everything_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atlas.db");
    let srv = TestServer::start(&db, true).await;
    let client = reqwest::Client::new();

    // A complaint with a photo, an officer's document and inspection (audited).
    let form = Form::new()
        .text("lon", "88.3425")
        .text("lat", "22.5449")
        .text("category", "heritage_damage")
        .text("description", "Plaster falling from the east porch")
        .text("attributes[damage_type]", "structural")
        .part("photo", Part::bytes(common::jpeg(0)).file_name("p.jpg"));
    let r = client
        .post(srv.url("/complaints"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let filed: Value = r.json().await.unwrap();
    let ticket = filed["ticket"].as_str().unwrap().to_string();
    let token = add_user(&srv, "officer1", Role::Officer, None).await;
    let token = token.as_str();
    let doc = b"%PDF-1.4\n% a conservation report\n%%EOF\n".to_vec();
    let (status, v) = upload_document(
        &srv,
        token,
        "HER-0001",
        Form::new()
            .part("file", Part::bytes(doc.clone()))
            .text("title", "Conservation report"),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let doc_url = v["url"].as_str().unwrap().to_string();
    let (status, v) = post(
        &srv,
        "/assets/HER-0001/inspections",
        Some(token),
        &json!({"condition": "fair", "notes": "Porch plaster loose"}),
    )
    .await;
    assert_eq!(status, 201, "{v}");

    let (_, before_health) = srv.get("/health").await;
    let (_, before_complaint) = srv.get(&format!("/complaints/{ticket}")).await;
    let (_, before_record) = srv.get("/assets/HER-0001").await;
    let (_, before_audit) = srv.get("/audit/verify").await;

    // Backed up from another process while the server keeps the file open.
    let out_dir = dir.path().join("backup-1");
    let run = |d: &std::path::Path| {
        common::bin()
            .args([
                "--db",
                common::db_arg(&db).as_str(),
                "backup",
                d.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let out = run(&out_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["audit"]["ok"], true);
    assert_eq!(report["complaints"], 1);
    assert!(report["files"].as_u64().unwrap() >= 4, "{report}");
    // The server was not disturbed.
    assert_eq!(srv.get("/health").await.0, 200);
    let again = run(&out_dir);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    srv.stop().await;

    // The copy, served on its own, says and shows the same.
    let copy = TestServer::start(&out_dir.join("heritage-atlas.db"), true).await;
    assert_eq!(copy.get("/health").await.1, before_health);
    assert_eq!(
        copy.get(&format!("/complaints/{ticket}")).await.1,
        before_complaint
    );
    assert_eq!(copy.get("/assets/HER-0001").await.1, before_record);
    assert_eq!(copy.get("/audit/verify").await.1, before_audit);
    let photo = before_complaint["photos"][0].as_str().unwrap();
    let r = reqwest::get(copy.url(photo)).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let got = reqwest::get(copy.url(&doc_url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.to_vec(), doc);
    copy.stop().await;
}
