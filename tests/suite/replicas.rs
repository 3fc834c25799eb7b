//! Two servers on one database stay in step through the register's change feed: what is
//! written through one (or by `import` in another process) reaches the other's index,
//! search, nearby answers and tiles, and a process never undoes its own newer state.

use crate::common;

use std::time::{Duration, Instant};

use common::{asset, rect_polygon, TestServer};
use heritage_atlas::model::{AssetId, Kind, Layer, Role};
use heritage_atlas::store::EditContext;

fn change() -> EditContext {
    EditContext::import("replica test")
}

async fn search_ids(srv: &TestServer, q: &str) -> Vec<i64> {
    let (status, body) = srv.get(&format!("/search?q={}", common::enc(q))).await;
    assert_eq!(status, 200, "{body}");
    body["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_i64().expect("id"))
        .collect()
}

async fn tile(srv: &TestServer, z: u32, x: u32, y: u32) -> Vec<u8> {
    let r = reqwest::get(srv.url(&format!("/tiles/heritage/{z}/{x}/{y}.mvt")))
        .await
        .expect("tile");
    assert_eq!(r.status().as_u16(), 200);
    r.bytes().await.expect("bytes").to_vec()
}

/// The tile at zoom `z` holding lon/lat.
fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n) as u32;
    (x, y)
}

/// Two servers on one new database (the directory lives as long as the value does).
async fn two_servers() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    TestServer,
    TestServer,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let a = TestServer::start(&db, true).await;
    let b = TestServer::start(&db, true).await;
    (dir, db, a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_through_one_server_reach_the_other() {
    let (dir, db, a, b) = two_servers().await;
    let (lon, lat) = (88.3512, 22.5448);
    let (x, y) = tile_of(lon, lat, 16);
    let before = tile(&b, 16, x, y).await;
    // B caches the tile; A creates a building inside it.
    assert_eq!(tile(&b, 16, x, y).await, before);
    let mut new = asset(
        Layer::Heritage,
        Kind::Building,
        "REPLICA-1".into(),
        rect_polygon(lon, lat, 0.0004, 0.0004, 0.0),
    );
    new.attrs.name = Some("Replica Test Hall".into());
    let made = a
        .atlas
        .upsert(&new, &change())
        .await
        .expect("created through A");
    assert!(search_ids(&b, "replica test hall").await.is_empty());
    // B follows the feed: the building is in its search, its record and its tile.
    assert_eq!(b.atlas.follow_register().await.expect("feed"), 1);
    assert_eq!(search_ids(&b, "replica test hall").await, vec![made.id.0]);
    let (status, item) = b
        .get(&format!("/collections/heritage/items/{}", made.id.0))
        .await;
    assert_eq!(status, 200, "{item}");
    assert_ne!(
        tile(&b, 16, x, y).await,
        before,
        "B's cached tile was dropped"
    );
    // A's own write is already in A: following the feed changes nothing there.
    assert_eq!(a.atlas.follow_register().await.expect("feed"), 0);

    // Renamed through A, then delisted through A.
    new.attrs.name = Some("Replica Renamed Hall".into());
    a.atlas
        .upsert(&new, &change())
        .await
        .expect("renamed through A");
    b.atlas.follow_register().await.expect("feed");
    assert!(search_ids(&b, "replica test hall").await.is_empty());
    assert_eq!(search_ids(&b, "replica renamed").await, vec![made.id.0]);
    a.atlas
        .delist(made.id, "replica test", &change())
        .await
        .expect("delisted through A")
        .expect("it was listed");
    b.atlas.follow_register().await.expect("feed");
    assert!(search_ids(&b, "replica renamed").await.is_empty());
    assert!(b.atlas.index().get(made.id).is_none());
    assert_eq!(tile(&b, 16, x, y).await, before, "the tile is as it was");

    // An import by another process on the same file, with B following on its own: how
    // long until B answers with it (not asserted beyond a generous bound).
    let follower = tokio::spawn(
        b.atlas
            .clone()
            .follow_register_every(Duration::from_millis(50)),
    );
    let file = dir.path().join("more.geojson");
    std::fs::write(
        &file,
        serde_json::json!({
            "type": "FeatureCollection",
            "features": [{
                "type": "Feature",
                "properties": {"code": "REPLICA-2", "name": "Replica Imported Tank", "kind": "pond"},
                "geometry": {"type": "Polygon", "coordinates": [[[88.36, 22.55], [88.3604, 22.55], [88.3604, 22.5504], [88.36, 22.5504], [88.36, 22.55]]]}
            }]
        })
        .to_string(),
    )
    .unwrap();
    let t = Instant::now();
    let out = common::bin()
        .args([
            "--db",
            common::db_arg(&db).as_str(),
            "import",
            file.to_str().unwrap(),
            "--layer",
            "water_bodies",
        ])
        .output()
        .expect("import runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let imported = t.elapsed();
    let id = common::eventually(
        "the import in B's search",
        Duration::from_secs(10),
        || async { search_ids(&b, "replica imported").await.first().copied() },
    )
    .await;
    eprintln!(
        "import took {imported:?}; in B's search {:?} after the import returned",
        t.elapsed() - imported
    );
    let (status, near) = b
        .get("/nearby?lon=88.3602&lat=22.5502&radius_m=50&layers=water_bodies")
        .await;
    assert_eq!(status, 200);
    assert!(
        near["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"].as_i64() == Some(id)),
        "{near}"
    );
    follower.abort();
    // A has not been following: one pass brings it level, and a second finds nothing.
    assert!(a.atlas.index().get(AssetId(id)).is_none());
    assert_eq!(a.atlas.follow_register().await.expect("feed"), 1);
    assert_eq!(search_ids(&a, "replica imported").await, vec![id]);
    assert_eq!(a.atlas.follow_register().await.expect("feed"), 0);
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complaints_filed_and_moved_through_one_server_reach_the_others_map() {
    let (_dir, _, a, b) = two_servers().await;
    let officer =
        common::add_user(&a, "officer1", heritage_atlas::model::Role::Officer, None).await;
    let (status, filed) = common::post(
        &a,
        "/complaints",
        None,
        &serde_json::json!({"lon": 88.3426, "lat": 22.5448, "category": "park_maintenance", "description": "Broken bench by the gate"}),
    )
    .await;
    assert_eq!(status, 201, "{filed}");
    let ticket = filed["ticket"].as_str().expect("ticket").to_string();
    let id = a
        .atlas
        .index()
        .complaints()
        .pins()
        .find(|p| p.ticket == ticket)
        .map(|p| p.id)
        .expect("A's pin");
    assert!(b.atlas.index().complaints().get(id).is_none());
    assert_eq!(b.atlas.follow_complaints().await.expect("feed"), 1);
    let pin = b
        .atlas
        .index()
        .complaints()
        .get(id)
        .cloned()
        .expect("B has the pin");
    assert_eq!(pin.ticket, ticket);
    assert_eq!(pin.status, heritage_atlas::model::Status::Submitted);
    // A's own pin learns its filing step from the feed; nothing else changes.
    a.atlas.follow_complaints().await.expect("feed");
    assert_eq!(a.atlas.follow_complaints().await.expect("feed"), 0);
    // Acknowledged through B: A's pin moves; B's own step is not applied twice.
    let (status, moved) = common::patch(
        &b,
        &format!("/complaints/{ticket}"),
        Some(&officer),
        &serde_json::json!({"action": "acknowledge"}),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(b.atlas.follow_complaints().await.expect("feed"), 0);
    assert_eq!(a.atlas.follow_complaints().await.expect("feed"), 1);
    let pin = a
        .atlas
        .index()
        .complaints()
        .get(id)
        .cloned()
        .expect("A's pin");
    assert_eq!(pin.status, heritage_atlas::model::Status::Acknowledged);
    assert!(pin.times.acknowledged.is_some());
    // An older state read late never replaces a newer one.
    let mut stale = (*pin).clone();
    stale.status = heritage_atlas::model::Status::Submitted;
    stale.event -= 1;
    a.atlas.index().complaints_mut().upsert(stale);
    assert_eq!(
        a.atlas.index().complaints().get(id).expect("pin").status,
        heritage_atlas::model::Status::Acknowledged
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_means_loaded_and_caught_up_with_the_feed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let a = TestServer::start(&db, true).await;
    // Not following: ready as soon as it listens.
    let (status, body) = a.get("/health/ready").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert!(body.get("follow_ms").is_none(), "{body}");
    assert!(
        ["built", "scanning"].contains(&body["search"]["heritage"].as_str().unwrap()),
        "{body}"
    );
    // Following: ready once a tick has read the feed to its end.
    let follower = tokio::spawn(
        a.atlas
            .clone()
            .follow_register_every(Duration::from_millis(50)),
    );
    common::eventually("ready while following", Duration::from_secs(5), || async {
        let (status, body) = a.get("/health/ready").await;
        (status == 200 && body["follow_ms"] == 50 && body["caught_up_ms_ago"].is_i64())
            .then_some(())
    })
    .await;
    // The database gone: the feed cannot be read, and within a few seconds the replica
    // says so (503 with Retry-After), so a balancer can send requests elsewhere.
    a.atlas.store().close().await;
    common::eventually(
        "not ready without its database",
        Duration::from_secs(10),
        || async {
            let r = reqwest::get(a.url("/health/ready")).await.expect("answer");
            (r.status().as_u16() == 503 && r.headers().contains_key("retry-after")).then_some(())
        },
    )
    .await;
    follower.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heritage_lock_recorded_through_one_server_shows_in_the_other() {
    let (_dir, _db, a, b) = two_servers().await;
    let building = a
        .atlas
        .index()
        .read(Layer::Heritage)
        .iter()
        .find(|x| x.attrs.grade.is_some())
        .cloned()
        .expect("a graded building");
    let lock_in = |srv: &TestServer| {
        srv.atlas
            .index()
            .get(building.id)
            .and_then(|x| x.lock.clone())
    };
    assert_eq!(lock_in(&b), None);
    let officer = a
        .atlas
        .store()
        .put_user(
            "lock-officer",
            heritage_atlas::model::Role::Officer,
            None,
            "x",
            &heritage_atlas::model::now_rfc3339(),
        )
        .await
        .expect("user");
    let log = heritage_atlas::store::AuditEntry {
        actor: "lock-officer".into(),
        role: Some("officer".into()),
        action: "asset.heritage_lock".into(),
        subject: building.code.clone(),
        public: true,
        detail: serde_json::json!({"to": "released"}),
    };
    a.atlas
        .record_heritage_lock(
            building.id,
            "released",
            None,
            "replica test",
            officer.id,
            &heritage_atlas::model::now_rfc3339(),
            &log,
        )
        .await
        .expect("recorded through A");
    assert_eq!(lock_in(&a).map(|l| l.state), Some("released"));
    // B shows it once it follows: the asset's record and its lock.
    assert_eq!(b.atlas.follow_locks().await.expect("locks"), 1);
    assert_eq!(lock_in(&b).map(|l| l.state), Some("released"));
    // Nothing more to apply, on either.
    assert_eq!(b.atlas.follow_locks().await.expect("locks"), 0);
    assert_eq!(a.atlas.follow_locks().await.expect("locks"), 0);
}

/// A client's limits are counted once for both servers, not once per server: complaints
/// through A and B together meet one limit, and failed logins through either make the
/// name back off on both (the counts are in the database).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_login_back_off_are_counted_once_for_both_servers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let a = TestServer::start_with(&db, false, |s| s.with_rate_limit(2)).await;
    let b = TestServer::start_with(&db, false, |s| s.with_rate_limit(2)).await;
    let complaint = serde_json::json!({"lon": 88.3426, "lat": 22.5448,
        "category": "other", "description": "Rubbish dumped by the tank"});
    let mut statuses = Vec::new();
    for srv in [&a, &b, &a, &b] {
        statuses.push(common::post(srv, "/complaints", None, &complaint).await.0);
    }
    assert_eq!(statuses, [201, 201, 429, 429]);

    common::put_user(&a, "officer", Role::Officer, None).await;
    let wrong = serde_json::json!({"name": "officer", "password": "not the password"});
    assert_eq!(common::post(&a, "/auth/login", None, &wrong).await.0, 401);
    let (status, _) = common::login_once_allowed(&b, "officer", "not the password").await;
    assert_eq!(status, 401);
    let (status, _) = common::login_once_allowed(&a, "officer", "not the password").await;
    assert_eq!(status, 401);
    // Three failures in a row, through both: the name waits a second, on B too, even
    // with the right password.
    let (status, body) = common::post(
        &b,
        "/auth/login",
        None,
        &serde_json::json!({"name": "officer", "password": common::PASSWORD}),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    let (status, body) = common::login_once_allowed(&b, "officer", common::PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    a.stop().await;
    b.stop().await;
}

/// Two servers started at once on a new database load the bundled register and its
/// sample history once between them, as one server alone does (each checks again once it
/// holds the writer's lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_starting_together_load_the_bundled_data_once() {
    let dir = tempfile::tempdir().unwrap();
    let alone = dir.path().join("alone.db");
    TestServer::start(&alone, true).await.stop().await;
    let together = dir.path().join("together.db");
    // Made (migrated) first: two pools migrating one new SQLite file at once is not what
    // this is about.
    common::open_store(&together).await.close().await;
    let (a, b) = tokio::join!(
        TestServer::start(&together, true),
        TestServer::start(&together, true)
    );
    a.stop().await;
    b.stop().await;
    let counts = |db: std::path::PathBuf| async move {
        let pool = common::raw_pool(&db).await;
        let mut n = Vec::new();
        for t in [
            "assets",
            "inspections",
            "maintenance",
            "asset_versions",
            "documents",
        ] {
            let c: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {t}"))
                .fetch_one(&pool)
                .await
                .unwrap();
            n.push((t, c));
        }
        n
    };
    let want = counts(alone).await;
    assert!(want[1].1 > 0, "{want:?}");
    assert_eq!(counts(together).await, want);
}
