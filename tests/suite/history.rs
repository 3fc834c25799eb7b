//! An asset's history over real HTTP: the bundled sample records, inspections and
//! maintenance recorded by staff (and what they change on the map), documents put on
//! record, served and verified by their SHA-256, the staff list, and bad input.

use crate::common;

use std::path::Path;

use common::{add_user, get_as, post, sha256_hex, upload_document, TestServer};
use geozero::mvt::{tile, Message, Tile};
use heritage_atlas::model::{now_rfc3339, Role};
use heritage_atlas::tiles::TileCoord;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

/// Inside Victoria Memorial (HER-0001), ward 79.
const VM: (f64, f64) = (88.3425, 22.5449);

fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {text}\n%%EOF\n").into_bytes()
}

/// The `condition` of HER-0001's feature in the heritage tile over it.
async fn tile_condition(srv: &TestServer) -> String {
    let t = TileCoord::containing(VM.0, VM.1, 16);
    let r = reqwest::get(srv.url(&format!("/tiles/heritage/{}/{}/{}.mvt", t.z, t.x, t.y)))
        .await
        .unwrap();
    let tile = Tile::decode(r.bytes().await.unwrap()).unwrap();
    let layer = tile.layers.iter().find(|l| l.name == "heritage").unwrap();
    let key = |name: &str| layer.keys.iter().position(|k| k == name).unwrap() as u32;
    let value = |f: &tile::Feature, k: u32| -> Option<String> {
        f.tags
            .chunks(2)
            .find(|kv| kv[0] == k)
            .and_then(|kv| layer.values[kv[1] as usize].string_value.clone())
    };
    let vm = layer
        .features
        .iter()
        .find(|f| value(f, key("code")).as_deref() == Some("HER-0001"))
        .expect("HER-0001 in its tile");
    value(vm, key("condition")).unwrap()
}

/// When every bundled asset was last changed, for [`start_with_old_assets`].
const LONG_AGO: &str = "2020-01-01T00:00:00Z";

/// Starts over the bundled data with every asset last changed [`LONG_AGO`], as in a
/// register that has been in use a while: a write now moves the collection's temporal
/// extent without waiting for the clock to reach the next second (timestamps are stored
/// to the second).
async fn start_with_old_assets(db: &Path) -> TestServer {
    TestServer::start(db, true).await.stop().await;
    let pool = common::raw_pool(db).await;
    // A write to the register must say who makes it (the version triggers refuse
    // it otherwise); this one changes no version.
    let mut tx = pool.begin().await.unwrap();
    for sql in [
        "INSERT INTO edit_context (id, at, actor, action) VALUES (1, $1, 'test', 'backdate')",
        "UPDATE assets SET updated_at = $1",
        "DELETE FROM edit_context",
    ] {
        sqlx::query(sql)
            .bind(LONG_AGO)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    pool.close().await;
    TestServer::start(db, true).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bundled_history_is_there_once_and_its_documents_verify() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atlas.db");
    let srv = TestServer::start(&db, true).await;

    let (s, vm) = srv.get("/assets/HER-0001").await;
    assert_eq!(s, 200);
    let insp = vm["inspections"].as_array().unwrap();
    assert_eq!(insp.len(), 2);
    assert_eq!(insp[0]["inspected_at"], "2026-09-18", "newest first");
    // The register's summary agrees with the history.
    assert_eq!(vm["properties"]["condition"], insp[0]["condition"]);
    assert_eq!(vm["properties"]["condition_assessed_at"], "2026-09-18");
    assert_eq!(vm["properties"]["last_maintained_at"], "2026-04-30");
    assert_eq!(vm["maintenance"][0]["cost_inr"], 1850000);
    let doc = &vm["documents"][0];
    let sha = doc["sha256"].as_str().unwrap().to_string();

    // The document's bytes are the ones its hash names, and anyone can check a copy.
    let r = reqwest::get(srv.url(&format!("/documents/{sha}")))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(sha256_hex(&bytes), sha);
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(doc["size"], bytes.len());

    let verify = |body: Vec<u8>| {
        let req = reqwest::Client::new()
            .post(srv.url("/documents/verify"))
            .header("content-type", "application/pdf")
            .body(body);
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, v) = verify(bytes.clone()).await;
    assert_eq!(s, 200);
    assert_eq!(v["on_record"], true);
    assert_eq!(v["assets"][0]["code"], "HER-0001");
    assert_eq!(v["title"], doc["title"]);
    let mut forged = bytes.clone();
    let n = forged.len();
    forged[n / 2] ^= 1;
    let (_, v) = verify(forged).await;
    assert_eq!(v["on_record"], false);
    let (s, v) = post(
        &srv,
        "/documents/verify",
        None,
        &json!({"sha256": sha.to_uppercase()}),
    )
    .await;
    assert_eq!((s, &v["on_record"]), (200, &json!(true)));

    // A restart loads nothing twice.
    srv.stop().await;
    let srv = TestServer::start(&db, true).await;
    let (_, again) = srv.get("/assets/HER-0001").await;
    assert_eq!(again["inspections"].as_array().unwrap().len(), 2);
    assert_eq!(again["documents"].as_array().unwrap().len(), 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_record_inspections_and_maintenance_and_the_map_follows() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start_with_old_assets(&dir.path().join("atlas.db")).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let here = add_user(&srv, "field79", Role::FieldStaff, Some(79)).await;
    let elsewhere = add_user(&srv, "field5", Role::FieldStaff, Some(5)).await;
    assert_eq!(tile_condition(&srv).await, "good");
    // The collection's temporal extent is worked out now, and must move with the write.
    let (_, before) = srv.get("/collections/heritage").await;
    let before_end = before["extent"]["temporal"]["interval"][0][1].clone();
    assert_eq!(before_end, LONG_AGO);

    let path = "/assets/HER-0001/inspections";
    let today = now_rfc3339()[..10].to_string();
    let body = json!({"condition": "critical", "inspected_at": today, "notes": "Crack across the south dome after the storm."});
    let (s, _) = post(&srv, path, None, &body).await;
    assert_eq!(s, 401, "signed in only");
    let (s, v) = post(&srv, path, Some(&elsewhere), &body).await;
    assert_eq!(s, 403, "{v}");
    assert!(v["description"].as_str().unwrap().contains("ward 79"));
    let (s, v) = post(&srv, path, Some(&here), &body).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["asset"]["properties"]["condition"], "critical");

    // The record, the tile and the collection's temporal extent all say so at once.
    let (_, vm) = srv.get("/assets/HER-0001").await;
    assert_eq!(vm["properties"]["condition"], "critical");
    let (_, heritage) = srv.get("/collections/heritage").await;
    assert_eq!(
        heritage["extent"]["temporal"]["interval"][0][1],
        vm["properties"]["updated_at"]
    );
    assert_ne!(heritage["extent"]["temporal"]["interval"][0][1], before_end);
    assert_eq!(vm["inspections"][0]["inspector"], "field79");
    assert_eq!(vm["inspections"][0]["notes"], body["notes"]);
    assert_eq!(tile_condition(&srv).await, "critical");

    // An older inspection is history, not the current state.
    let (s, _) = post(
        &srv,
        path,
        Some(&officer),
        &json!({"condition": "good", "inspected_at": "2020-01-01"}),
    )
    .await;
    assert_eq!(s, 201);
    let (_, vm) = srv.get("/assets/HER-0001").await;
    assert_eq!(vm["properties"]["condition"], "critical");
    assert_eq!(vm["inspections"].as_array().unwrap().len(), 4);

    // Maintenance: ongoing work leaves last_maintained_at; completed work moves it.
    let m = "/assets/HER-0001/maintenance";
    let (s, v) = post(
        &srv,
        m,
        Some(&officer),
        &json!({"description": "Propping the south dome", "started_on": today}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["asset"]["properties"]["last_maintained_at"], "2026-04-30");
    let (s, v) = post(&srv, m, Some(&officer), &json!({"description": "Dome crack grouted", "started_on": today, "completed_on": today, "contractor": "M/s Example", "cost_inr": 250000})).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["asset"]["properties"]["last_maintained_at"], json!(today));

    // Bad input is a 4xx naming the field; nothing is recorded.
    for (body, field) in [
        (json!({"condition": "splendid"}), None),
        (
            json!({"condition": "good", "inspected_at": "2999-01-01"}),
            Some("inspected_at"),
        ),
        (
            json!({"condition": "good", "inspected_at": "31/12/2025"}),
            Some("inspected_at"),
        ),
        (json!({"condition": "good", "colour": "red"}), None),
        (
            json!({"condition": "good", "notes": "x".repeat(5000)}),
            Some("notes"),
        ),
    ] {
        let (s, v) = post(&srv, path, Some(&officer), &body).await;
        assert_eq!(s, 400, "{body}: {v}");
        if let Some(f) = field {
            assert_eq!(v["field"], f, "{v}");
        }
    }
    let (s, _) = post(
        &srv,
        m,
        Some(&officer),
        &json!({"description": "x", "started_on": "2026-05-01", "completed_on": "2026-04-01"}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = post(
        &srv,
        "/assets/HER-9999/inspections",
        Some(&officer),
        &json!({"condition": "good"}),
    )
    .await;
    assert_eq!(s, 404);
    let r = reqwest::Client::new()
        .post(srv.url(path))
        .bearer_auth(&officer)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let (_, vm) = srv.get("/assets/HER-0001").await;
    assert_eq!(vm["inspections"].as_array().unwrap().len(), 4);
    assert_eq!(vm["maintenance"].as_array().unwrap().len(), 3);

    // The staff list is for officers (they assign complaints).
    let (s, staff) = get_as(&srv, Some(&officer), "/auth/staff").await;
    assert_eq!(s, 200, "{staff}");
    let names: Vec<&str> = staff
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["field5", "field79", "officer1"]);
    assert!(staff[0].get("password_hash").is_none());
    let (s, _) = get_as(&srv, Some(&here), "/auth/staff").await;
    assert_eq!(s, 403);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn officers_put_documents_on_record_public_or_private() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atlas.db");
    let srv = TestServer::start(&db, true).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let field = add_user(&srv, "field79", Role::FieldStaff, Some(79)).await;
    let form = |bytes: Vec<u8>, title: &str, public: &str| {
        Form::new()
            .part("file", Part::bytes(bytes).file_name("x.pdf"))
            .text("title", title.to_string())
            .text("public", public.to_string())
    };

    let notice = pdf("NOC for repainting the railings");
    let (s, v) = upload_document(
        &srv,
        &officer,
        "WAT-0003",
        form(notice.clone(), "NOC: railings", "true"),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["sha256"], sha256_hex(&notice));
    assert_eq!(v["assets"][0]["code"], "WAT-0003");
    let url = v["url"].as_str().unwrap().to_string();
    let got = reqwest::get(srv.url(&url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.to_vec(), notice);
    let (_, rec) = srv.get("/assets/WAT-0003").await;
    assert_eq!(rec["documents"][0]["title"], "NOC: railings");

    // The same bytes twice, a type we do not take, no title, field staff: refused.
    let (s, _) = upload_document(
        &srv,
        &officer,
        "WAT-0003",
        form(notice.clone(), "again", "true"),
    )
    .await;
    assert_eq!(s, 409);
    let (s, _) = upload_document(
        &srv,
        &officer,
        "WAT-0003",
        form(b"<html><script>".to_vec(), "page", "true"),
    )
    .await;
    assert_eq!(s, 415);
    let (s, v) = upload_document(
        &srv,
        &officer,
        "WAT-0003",
        form(pdf("untitled"), " ", "true"),
    )
    .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("title")));
    let (s, _) = upload_document(
        &srv,
        &field,
        "HER-0001",
        form(pdf("field"), "by field staff", "true"),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) =
        upload_document(&srv, &officer, "WAT-0003", form(pdf("odd"), "odd", "maybe")).await;
    assert_eq!(s, 400);

    // A private document: not listed, not served, but its holder can verify it.
    let private = pdf("Legal opinion on the encroachment");
    let (s, v) = upload_document(
        &srv,
        &officer,
        "WAT-0012",
        form(private.clone(), "Legal opinion", "false"),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["public"], false);
    // Its address answers only staff.
    let path = format!("/documents/{}", sha256_hex(&private));
    assert_eq!(v["url"], path.as_str());
    assert_eq!(
        reqwest::get(srv.url(&path))
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    let r = reqwest::Client::new()
        .get(srv.url(&path))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    let (_, rec) = srv.get("/assets/WAT-0012").await;
    assert!(rec["documents"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["title"] != "Legal opinion"));
    let (_, v) = post(
        &srv,
        "/documents/verify",
        None,
        &json!({"sha256": sha256_hex(&private)}),
    )
    .await;
    assert_eq!(v["on_record"], true);
    assert!(
        v.get("title").is_none(),
        "a bare hash learns nothing more: {v}"
    );
    let r = reqwest::Client::new()
        .post(srv.url("/documents/verify"))
        .multipart(Form::new().part("file", Part::bytes(private.clone())))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["on_record"], &v["title"]),
        (&json!(true), &json!("Legal opinion"))
    );

    // Malformed: a hash that is not one, an empty body, an unknown path hash.
    let (s, v) = post(&srv, "/documents/verify", None, &json!({"sha256": "abc"})).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("sha256")));
    let r = reqwest::Client::new()
        .post(srv.url("/documents/verify"))
        .header("content-type", "application/octet-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        reqwest::get(srv.url("/documents/nothex"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );

    // Documents survive a restart.
    srv.stop().await;
    let srv = TestServer::start(&db, true).await;
    let got = reqwest::get(srv.url(&url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.to_vec(), notice);
    srv.stop().await;
}

/// What an outsider re-computes from a listed entry.
fn rehash(e: &Value) -> String {
    let canonical = json!([
        e["seq"],
        e["at"],
        e["actor"],
        e["role"],
        e["action"],
        e["subject"],
        e["public"],
        heritage_atlas::store::audit::canonical(&e["detail"]),
        e["prev_hash"],
    ])
    .to_string();
    sha256_hex(canonical.as_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_staff_change_is_in_a_hash_chained_audit_trail() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atlas.db");
    let srv = TestServer::start(&db, true).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;

    let (s, _) = post(
        &srv,
        "/assets/HER-0002/inspections",
        Some(&officer),
        &json!({"condition": "poor", "notes": "Cornice fell"}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = post(
        &srv,
        "/assets/HER-0002/maintenance",
        Some(&officer),
        &json!({"description": "Cornice rebuilt", "started_on": "2026-01-01"}),
    )
    .await;
    assert_eq!(s, 201);
    let form = Form::new()
        .part("file", Part::bytes(pdf("private opinion")))
        .text("title", "Opinion")
        .text("public", "false");
    let (s, _) = upload_document(&srv, &officer, "HER-0002", form).await;
    assert_eq!(s, 201);
    let (s, filed) = post(&srv, "/complaints", None, &json!({"lon": VM.0, "lat": VM.1, "category": "park_maintenance", "description": "Broken bench by the gate"})).await;
    assert_eq!(s, 201, "{filed}");
    let ticket = filed["ticket"].as_str().unwrap();
    let (s, v) = common::patch(
        &srv,
        &format!("/complaints/{ticket}"),
        Some(&officer),
        &json!({"action": "acknowledge", "note": "Seen; the parks team is told."}),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // The public trail: every public change, each hash re-computable by anyone and
    // linked to the one before.
    let (s, public) = srv.get("/audit").await;
    assert_eq!(s, 200);
    let entries = public["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    // The bundled data's load is the first entry: the register's changes are on the
    // chain like staff's.
    assert_eq!(
        actions,
        [
            "import",
            "inspection.add",
            "maintenance.add",
            "complaint.acknowledge"
        ]
    );
    assert_eq!(entries[0]["actor"], "import:bundled data");
    for e in entries {
        assert_eq!(e["hash"].as_str().unwrap(), rehash(e), "{e}");
    }
    for e in &entries[1..] {
        assert_eq!(e["actor"], "officer1");
    }
    assert_eq!(entries[0]["prev_hash"], "0".repeat(64));
    assert_eq!(entries[1]["prev_hash"], entries[0]["hash"]);
    assert_eq!(entries[3]["detail"]["to"], "acknowledged");
    assert_eq!(entries[3]["subject"], ticket);
    let (_, one) = srv.get("/audit?subject=HER-0002").await;
    assert_eq!(
        one["entries"].as_array().unwrap().len(),
        2,
        "the private upload is not public"
    );

    // Staff see the private entry too, and the chain runs through it.
    let (_, all) = get_as(&srv, Some(&officer), "/audit").await;
    let all = all["entries"].as_array().unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[3]["action"], "document.add");
    assert_eq!(all[4]["prev_hash"], all[3]["hash"]);
    let (_, check) = srv.get("/audit/verify").await;
    assert_eq!((&check["ok"], &check["entries"]), (&json!(true), &json!(5)));
    assert_eq!(check["head"], all[4]["hash"]);
    let (s, _) = srv.get("/audit?limit=0").await;
    assert_eq!(s, 400);
    let (s, _) = srv.get("/audit?colour=red").await;
    assert_eq!(s, 400);
    srv.stop().await;

    // The database refuses edits; someone who gets round that is caught by the chain.
    let pool = common::raw_pool(&db).await;
    let refused = sqlx::query("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
        .execute(&pool)
        .await;
    assert!(refused.unwrap_err().to_string().contains("append-only"));
    assert!(sqlx::query("DELETE FROM audit_log")
        .execute(&pool)
        .await
        .is_err());
    sqlx::query(if common::on_postgres() {
        "DROP TRIGGER audit_log_no_update ON audit_log"
    } else {
        "DROP TRIGGER audit_log_no_update"
    })
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("UPDATE audit_log SET detail = replace(detail, 'Cornice rebuilt', 'Nothing done') WHERE seq = 3")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let out = common::bin()
        .args(["--db", common::db_arg(&db).as_str(), "audit", "verify"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let check: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&check["ok"], &check["broken_at"]),
        (&json!(false), &json!(3))
    );
}
