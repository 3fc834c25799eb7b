//! `heritage-atlas migrate`: a SQLite register with a history, an edit, a complaint with
//! a photo and staff accounts, made through the real server, is moved into a fresh
//! PostgreSQL database by the binary; a server on that database then serves the same
//! register, the audit chain verifies there, and a second move into it is refused.
//!
//! Runs when `HERITAGE_ATLAS_TEST_POSTGRES` names a server (`scripts/test-postgres.sh`);
//! without it the test says so and passes.

use crate::common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use common::{jpeg_with_exif, TestServer, PASSWORD};
use heritage_atlas::atlas::{Atlas, AtlasOptions};
use heritage_atlas::model::{now_rfc3339, Role};
use heritage_atlas::store::Store;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MATCH, LOCATION};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

/// A spot in ward 79 where the bundled register has nothing (as in tests/suite/edits.rs).
const SPOT: (f64, f64) = (88.3440, 22.5390);
/// Beside Victoria Memorial (bundled HER-0001), where complaints are accepted.
const VM: (f64, f64) = (88.3426, 22.5448);

/// The server over the SQLite source. `common::TestServer` runs over PostgreSQL when
/// the tests do, and the source of a move must be a SQLite file.
struct SqliteServer {
    base: String,
    atlas: Arc<Atlas>,
    handle: tokio::task::JoinHandle<()>,
    shutdown: tokio::sync::oneshot::Sender<()>,
}

impl SqliteServer {
    async fn start(db: &Path) -> SqliteServer {
        let store = Store::open(db.to_str().unwrap())
            .await
            .expect("open SQLite");
        let opts = AtlasOptions {
            load_bundled: true,
            photos_dir: db.with_extension("photos"),
            ..Default::default()
        };
        let atlas = Arc::new(Atlas::open(store, &opts).await.expect("open atlas"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let state = heritage_atlas::AppState::new(atlas.clone())
            .with_public_url(&base)
            .with_rate_limit(0);
        let app = heritage_atlas::app(state);
        let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            heritage_atlas::http::serve::serve(listener, app, Default::default(), async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        SqliteServer {
            base,
            atlas,
            handle,
            shutdown,
        }
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.handle.await;
        self.atlas.store().close().await;
    }
}

/// Sends a request; returns (status, ETag, Location, JSON body or null).
async fn send(r: reqwest::RequestBuilder) -> (u16, Option<String>, Option<String>, Value) {
    let r = r.send().await.expect("request");
    let header = |h| {
        r.headers()
            .get(h)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let (etag, location) = (header(ETAG), header(LOCATION));
    let status = r.status().as_u16();
    (
        status,
        etag,
        location,
        r.json().await.unwrap_or(Value::Null),
    )
}

async fn login(base: &str, name: &str) -> String {
    let body = json!({"name": name, "password": PASSWORD});
    let (s, _, _, v) = send(
        reqwest::Client::new()
            .post(format!("{base}/auth/login"))
            .json(&body),
    )
    .await;
    assert_eq!(s, 200, "login as {name}: {v}");
    v["token"].as_str().unwrap().to_owned()
}

fn square(lon: f64, lat: f64) -> Value {
    let d = 0.001;
    json!({"type": "Polygon", "coordinates": [[
        [lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]
    ]]})
}

/// Creates a heritage asset as `token`; returns its item path.
async fn create_asset(base: &str, token: &str, name: &str, spot: (f64, f64)) -> String {
    let f = json!({"type": "Feature",
        "properties": {"name": name, "kind": "building", "grade": "IIB"},
        "geometry": square(spot.0, spot.1)});
    let (s, _, location, v) = send(
        reqwest::Client::new()
            .post(format!("{base}/collections/heritage/items"))
            .bearer_auth(token)
            .header(CONTENT_TYPE, "application/geo+json")
            .body(f.to_string()),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    location
        .expect("Location")
        .trim_start_matches(base)
        .to_owned()
}

/// What the source holds when it is moved.
struct Made {
    health: Value,
    item: String,
    code: String,
    ticket: String,
    photo: String,
    photo_sha256: String,
}

/// A register over the bundled data, with an asset made and edited, a complaint with a
/// photo, and two staff accounts.
async fn make_register(db: &Path) -> Made {
    let srv = SqliteServer::start(db).await;
    let base = srv.base.clone();
    let hash = heritage_atlas::auth::hash_password(PASSWORD).unwrap();
    for (name, role) in [("officer1", Role::Officer), ("admin1", Role::Admin)] {
        srv.atlas
            .store()
            .put_user(name, role, None, &hash, &now_rfc3339())
            .await
            .unwrap();
    }
    let officer = login(&base, "officer1").await;

    let item = create_asset(&base, &officer, "Old Mint gatehouse", SPOT).await;
    let (s, etag, _, v) = send(reqwest::Client::new().get(format!("{base}{item}"))).await;
    assert_eq!(s, 200, "{v}");
    let code = v["properties"]["code"].as_str().unwrap().to_owned();
    let patch = json!({"properties": {"name": "Old Mint Gate House"}, "note": "spelling"});
    let (s, _, _, v) = send(
        reqwest::Client::new()
            .patch(format!("{base}{item}"))
            .bearer_auth(&officer)
            .header(IF_MATCH, etag.expect("ETag"))
            .json(&patch),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["properties"]["version"], 2);

    let form = Form::new()
        .text("lon", VM.0.to_string())
        .text("lat", VM.1.to_string())
        .text("category", "heritage_damage")
        .text("attributes[damage_type]", "structural")
        .text("description", "A crack in the dome")
        .part(
            "photo",
            Part::bytes(jpeg_with_exif(b"Model Pixel 7", b"dome")).file_name("IMG_1.JPG"),
        );
    let (s, _, _, filed) = send(
        reqwest::Client::new()
            .post(format!("{base}/complaints"))
            .multipart(form),
    )
    .await;
    assert_eq!(s, 201, "{filed}");
    let ticket = filed["ticket"].as_str().unwrap().to_owned();
    let photo = filed["photos"][0].as_str().unwrap().to_owned();
    let bytes = reqwest::get(format!("{base}{photo}"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let (_, _, _, health) = send(reqwest::Client::new().get(format!("{base}/health"))).await;
    srv.stop().await;
    Made {
        health,
        item,
        code,
        ticket,
        photo,
        photo_sha256: common::sha256_hex(&bytes),
    }
}

fn migrate(from: &Path, to: &str) -> std::process::Output {
    common::bin()
        .args(["migrate", "--from", from.to_str().unwrap(), "--to", to])
        .output()
        .expect("run heritage-atlas migrate")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_register_moves_to_postgres_whole() {
    if !common::on_postgres() {
        eprintln!(
            "skipped: HERITAGE_ATLAS_TEST_POSTGRES is not set (scripts/test-postgres.sh sets it)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("register.db");
    let made = make_register(&source).await;

    // The target: a fresh PostgreSQL database, the one `TestServer` opens for this path.
    let target_path = dir.path().join("moved.db");
    let target = common::database_url(&target_path).await;
    let out = migrate(&source, &target);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "migrate failed: {stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert!(report["rows"].as_u64().unwrap() > 300, "{report}");
    assert_eq!(report["photos"], 1, "{report}");
    assert_eq!(report["documents"], 2, "the bundled documents: {report}");
    assert_eq!(report["audit"]["ok"], true);
    let versions = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "asset_versions")
        .expect("asset_versions copied");
    assert!(versions["rows"].as_u64().unwrap() > 200, "{report}");

    // A server on the target serves the same register.
    let srv = TestServer::start(&target_path, false).await;
    let (s, health) = srv.get("/health").await;
    assert_eq!(s, 200);
    assert_eq!(health["layers"], made.health["layers"]);
    let (s, item) = srv.get(&made.item).await;
    assert_eq!(s, 200, "{item}");
    assert_eq!(item["properties"]["name"], "Old Mint Gate House");
    assert_eq!(item["properties"]["version"], 2);
    let (s, history) = srv.get(&format!("/assets/{}/versions", made.code)).await;
    assert_eq!(s, 200, "{history}");
    let actions: Vec<&str> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["asset.create", "asset.update"]);
    assert_eq!(history["versions"][1]["note"], "spelling");
    let (s, complaint) = srv.get(&format!("/complaints/{}", made.ticket)).await;
    assert_eq!(s, 200, "{complaint}");
    assert_eq!(complaint["description"], "A crack in the dome");
    let r = reqwest::get(srv.url(&made.photo)).await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "the photo is served");
    assert_eq!(
        common::sha256_hex(&r.bytes().await.unwrap()),
        made.photo_sha256
    );
    // Staff sign in with their passwords, and new rows get ids past the copied ones.
    let base = srv.url("");
    let admin = login(&base, "admin1").await;
    let next = create_asset(&base, &admin, "Mint annexe", (SPOT.0 + 0.01, SPOT.1)).await;
    assert_ne!(next, made.item);
    srv.stop().await;

    let verify = common::bin()
        .args(["--db", &target, "audit", "verify"])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "audit verify on the target: {}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // The target now holds a register: a second move is refused, and writes nothing.
    let again = migrate(&source, &target);
    assert!(!again.status.success());
    let why = String::from_utf8_lossy(&again.stderr);
    assert!(why.contains("already holds a register"), "{why}");
}
