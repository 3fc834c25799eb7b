//! Editing the register over real HTTP (OGC API - Features Part 4): who may do what,
//! optimistic locking (428/412, two editors racing), validation as strict as import,
//! Content-Crs, delisting, versions and their diff, restore, and tiles that show an edit
//! on the next request.

mod common;

use common::{add_user, get_as, TestServer};
use geozero::mvt::{Message, Tile};
use heritage_atlas::model::Role;
use heritage_atlas::tiles::TileCoord;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MATCH, LOCATION};
use serde_json::{json, Value};

/// A small square (about 110 m a side) with its south-west corner at (lon, lat).
fn square(lon: f64, lat: f64) -> Value {
    let d = 0.001;
    json!({"type": "Polygon", "coordinates": [[
        [lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]
    ]]})
}

fn feature(props: Value, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": props, "geometry": geometry})
}

struct Answer {
    status: u16,
    etag: Option<String>,
    location: Option<String>,
    body: Value,
}

async fn send(r: reqwest::RequestBuilder, token: Option<&str>) -> Answer {
    let r = match token {
        Some(t) => r.bearer_auth(t),
        None => r,
    };
    let r = r.send().await.expect("request");
    let header = |h| {
        r.headers()
            .get(h)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string())
    };
    let (etag, location) = (header(ETAG), header(LOCATION));
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        etag,
        location,
        body,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn create(srv: &TestServer, token: Option<&str>, layer: &str, f: &Value) -> Answer {
    let r = client()
        .post(srv.url(&format!("/collections/{layer}/items")))
        .header(CONTENT_TYPE, "application/geo+json")
        .body(f.to_string());
    send(r, token).await
}

async fn get_item(srv: &TestServer, path: &str) -> Answer {
    send(client().get(srv.url(path)), None).await
}

async fn patch_item(
    srv: &TestServer,
    token: &str,
    path: &str,
    etag: Option<&str>,
    patch: &Value,
) -> Answer {
    let mut r = client()
        .patch(srv.url(path))
        .header(CONTENT_TYPE, "application/merge-patch+json")
        .body(patch.to_string());
    if let Some(e) = etag {
        r = r.header(IF_MATCH, e);
    }
    send(r, Some(token)).await
}

async fn put_item(srv: &TestServer, token: &str, path: &str, etag: &str, f: &Value) -> Answer {
    let r = client()
        .put(srv.url(path))
        .header(CONTENT_TYPE, "application/geo+json")
        .header(IF_MATCH, etag)
        .body(f.to_string());
    send(r, Some(token)).await
}

async fn delete_item(srv: &TestServer, token: &str, path: &str, etag: Option<&str>) -> Answer {
    let mut r = client().delete(srv.url(path));
    if let Some(e) = etag {
        r = r.header(IF_MATCH, e);
    }
    send(r, Some(token)).await
}

/// The ids of the features of `layer` in the tile over (lon, lat) at z16.
async fn tile_ids(srv: &TestServer, layer: &str, lon: f64, lat: f64, query: &str) -> Vec<u64> {
    let t = TileCoord::containing(lon, lat, 16);
    let r = reqwest::get(srv.url(&format!(
        "/tiles/{layer}/{}/{}/{}.mvt{query}",
        t.z, t.x, t.y
    )))
    .await
    .unwrap();
    if r.status() == 204 {
        return Vec::new();
    }
    assert_eq!(r.status(), 200);
    let tile = Tile::decode(r.bytes().await.unwrap()).unwrap();
    tile.layers
        .iter()
        .filter(|l| l.name == layer)
        .flat_map(|l| l.features.iter().filter_map(|f| f.id))
        .collect()
}

/// A spot in ward 79 (south of Victoria Memorial) where the bundled register has nothing.
const SPOT: (f64, f64) = (88.3440, 22.5390);

#[tokio::test]
async fn roles_decide_who_edits_and_every_edit_is_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("atlas.db"), true).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let admin = add_user(&srv, "admin1", Role::Admin, None).await;
    let field = add_user(&srv, "field79", Role::FieldStaff, Some(79)).await;
    let new = feature(
        json!({"name": "Old Mint gatehouse", "kind": "building", "grade": "IIB", "note_for_field": "kept"}),
        square(SPOT.0, SPOT.1),
    );

    // Anonymous: 401. Field staff: 403 (they propose). An officer: 201.
    assert_eq!(create(&srv, None, "heritage", &new).await.status, 401);
    let a = create(&srv, Some(&field), "heritage", &new).await;
    assert_eq!(a.status, 403, "{}", a.body);
    let a = create(&srv, Some(&officer), "heritage", &new).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let location = a.location.clone().expect("Location");
    let path = location.trim_start_matches(&srv.url(""));
    let code = a.body["properties"]["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("HER-"), "{code}");
    assert_eq!(
        a.body["properties"]["ward"], 79,
        "ward found from the location"
    );
    let got = get_item(&srv, path).await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.etag, a.etag,
        "the item's ETag is the one the create gave"
    );
    assert_eq!(got.body["properties"]["name"], "Old Mint gatehouse");
    assert_eq!(got.body["properties"]["note_for_field"], "kept");

    // Ward boundaries: admins only.
    let ward = feature(
        json!({"ward": 145, "name": "Test ward"}),
        square(88.50, 22.50),
    );
    assert_eq!(
        create(&srv, Some(&officer), "wards", &ward).await.status,
        403
    );
    assert_eq!(create(&srv, Some(&admin), "wards", &ward).await.status, 201);
    // Complaints are not edited here.
    assert_eq!(
        create(&srv, Some(&officer), "complaints", &new)
            .await
            .status,
        405
    );

    // Updates need If-Match: 428 without, 412 with a stale one (and the current body).
    let etag = a.etag.clone().unwrap();
    let p = json!({"properties": {"name": "Old Mint Gate House", "grade": null}});
    let r = patch_item(&srv, &officer, path, None, &p).await;
    assert_eq!(r.status, 428, "{}", r.body);
    let r = patch_item(&srv, &officer, path, Some(&etag), &p).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["properties"]["name"], "Old Mint Gate House");
    assert!(r.body["properties"]["grade"].is_null(), "null clears");
    assert_eq!(r.body["properties"]["note_for_field"], "kept", "untouched");
    assert_eq!(r.body["properties"]["version"], 2);
    let etag2 = r.etag.clone().unwrap();
    assert_ne!(etag, etag2);
    let stale = patch_item(&srv, &officer, path, Some(&etag), &p).await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(stale.etag.as_deref(), Some(etag2.as_str()));
    assert_eq!(stale.body["current"]["properties"]["version"], 2);
    // Field staff cannot update either.
    let r = patch_item(&srv, &field, path, Some(&etag2), &p).await;
    assert_eq!(r.status, 403);

    // PUT replaces: properties not sent are gone.
    let r = put_item(
        &srv,
        &officer,
        path,
        &etag2,
        &feature(
            json!({"name": "Old Mint Gate House", "kind": "building", "grade": "III"}),
            square(SPOT.0, SPOT.1),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["properties"]["grade"], "III");
    assert!(r.body["properties"].get("note_for_field").is_none());
    let etag3 = r.etag.clone().unwrap();

    // DELETE delists, with a reason.
    let r = delete_item(&srv, &officer, path, Some(&etag3)).await;
    assert_eq!(r.status, 400, "a reason is required: {}", r.body);
    let gone = format!("{path}?reason=Demolished%20in%202026");
    let r = delete_item(&srv, &officer, &gone, None).await;
    assert_eq!(r.status, 428);
    let r = delete_item(&srv, &officer, &gone, Some(&etag3)).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(get_item(&srv, path).await.status, 404);
    let (_, items) = srv.get("/collections/heritage/items?limit=10000").await;
    assert!(items["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["properties"]["code"] != code.as_str()));

    // Its history stays: create, update, replace, delist; each on the audit chain.
    let (s, v) = srv.get(&format!("/assets/{code}/versions")).await;
    assert_eq!(s, 200, "{v}");
    let actions: Vec<&str> = v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "asset.create",
            "asset.update",
            "asset.replace",
            "asset.delist"
        ]
    );
    for v in v["versions"].as_array().unwrap() {
        assert_eq!(v["actor"], "officer1");
        assert_eq!(v["audit_hash"].as_str().map(str::len), Some(64), "{v}");
    }
    assert_eq!(v["versions"][3]["delisted"], true);
    assert_eq!(v["versions"][3]["note"], "Demolished in 2026");
    let (s, one) = srv.get(&format!("/assets/{code}/versions/1")).await;
    assert_eq!(s, 200);
    assert_eq!(one["properties"]["grade"], "IIB");
    let (s, d) = srv.get(&format!("/assets/{code}/diff?from=1&to=3")).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["properties"]["grade"]["before"], "IIB");
    assert_eq!(d["properties"]["grade"]["after"], "III");
    assert_eq!(d["properties"]["name"]["after"], "Old Mint Gate House");
    assert_eq!(d["geometry_changed"], false);

    // Restoring version 1 lists it again, as version 5.
    let (_, now) = get_as(&srv, None, &format!("/assets/{code}/versions")).await;
    assert_eq!(now["current"], 4);
    let r = send(
        client()
            .post(srv.url(&format!("/assets/{code}/versions/1/restore")))
            .header(
                IF_MATCH,
                format!("\"{}.4\"", path.rsplit('/').next().unwrap()),
            ),
        Some(&officer),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["properties"]["version"], 5);
    assert_eq!(r.body["properties"]["grade"], "IIB");
    assert_eq!(get_item(&srv, path).await.status, 200);
    srv.stop().await;
}

#[tokio::test]
async fn two_editors_race_and_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("atlas.db"), true).await;
    let a = add_user(&srv, "officer1", Role::Officer, None).await;
    let b = add_user(&srv, "officer2", Role::Officer, None).await;
    let item = get_item(&srv, "/collections/heritage/items/HER-0001").await;
    assert_eq!(item.status, 200);
    let id = item.body["id"].as_i64().unwrap();
    let path = format!("/collections/heritage/items/{id}");
    let etag = item.etag.unwrap();
    let (pa, pb) = (
        json!({"properties": {"owner": "A"}}),
        json!({"properties": {"owner": "B"}}),
    );
    let (ra, rb) = tokio::join!(
        patch_item(&srv, &a, &path, Some(&etag), &pa),
        patch_item(&srv, &b, &path, Some(&etag), &pb),
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [200, 412], "{} / {}", ra.body, rb.body);
    let winner = if ra.status == 200 { "A" } else { "B" };
    let now = get_item(&srv, &path).await;
    assert_eq!(now.body["properties"]["owner"], winner);
    let loser = if ra.status == 412 { &ra } else { &rb };
    assert_eq!(loser.etag, now.etag, "the 412 names the version that won");
    srv.stop().await;
}

#[tokio::test]
async fn edits_are_checked_like_imports() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("atlas.db"), true).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let t = Some(officer.as_str());
    let bad = [
        (
            feature(json!({"kind": "pond"}), square(SPOT.0, SPOT.1)),
            "does not belong in layer heritage",
        ),
        (
            feature(
                json!({}),
                json!({"type": "Polygon", "coordinates": [[[88.3, 22.5], [88.31, 22.5], [88.31, 22.51]]]}),
            ),
            "ring",
        ),
        (feature(json!({}), square(200.0, 22.5)), "outside longitude"),
        (
            feature(json!({"year_built": "long ago"}), square(SPOT.0, SPOT.1)),
            "year_built",
        ),
        (
            json!({"type": "FeatureCollection", "features": []}),
            "Feature",
        ),
        (
            feature(
                json!({}),
                json!({"type": "LineString", "coordinates": [[88.3, 22.5], [88.31, 22.5]]}),
            ),
            "does not belong",
        ),
    ];
    for (f, says) in bad {
        let r = create(&srv, t, "heritage", &f).await;
        assert_eq!(r.status, 400, "{f}: {}", r.body);
        let d = r.body["description"].as_str().unwrap_or_default();
        assert!(d.contains(says), "{f}: {d:?} should mention {says:?}");
    }
    // Not JSON: 415. Broken JSON: 400. Too large: 413.
    let r = send(
        client()
            .post(srv.url("/collections/heritage/items"))
            .header(CONTENT_TYPE, "text/plain")
            .body("{}"),
        t,
    )
    .await;
    assert_eq!(r.status, 415);
    let r = send(
        client()
            .post(srv.url("/collections/heritage/items"))
            .header(CONTENT_TYPE, "application/geo+json")
            .body("{\"type\": \"Feature\""),
        t,
    )
    .await;
    assert_eq!(r.status, 400);
    let r = send(
        client()
            .post(srv.url("/collections/heritage/items"))
            .header(CONTENT_TYPE, "application/geo+json")
            .body(vec![b' '; 17 << 20]),
        t,
    )
    .await;
    assert_eq!(r.status, 413);
    // A code already taken: 409.
    let f = feature(json!({"code": "HER-0001"}), square(SPOT.0, SPOT.1));
    assert_eq!(create(&srv, t, "heritage", &f).await.status, 409);
    // The code cannot be changed by a patch.
    let item = get_item(&srv, "/collections/heritage/items/HER-0001").await;
    let r = patch_item(
        &srv,
        &officer,
        "/collections/heritage/items/HER-0001",
        item.etag.as_deref(),
        &json!({"properties": {"code": "HER-9999"}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    srv.stop().await;
}

#[tokio::test]
async fn geometry_in_another_crs_and_tiles_follow_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("atlas.db"), true).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    // The same square in Web Mercator.
    let to_3857 = |lon: f64, lat: f64| {
        let x = lon.to_radians() * 6_378_137.0;
        let y = (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
            .tan()
            .ln()
            * 6_378_137.0;
        [x, y]
    };
    let (lon, lat) = SPOT;
    let d = 0.001;
    let ring: Vec<[f64; 2]> = [
        (lon, lat),
        (lon + d, lat),
        (lon + d, lat + d),
        (lon, lat + d),
        (lon, lat),
    ]
    .iter()
    .map(|(x, y)| to_3857(*x, *y))
    .collect();
    let f = feature(
        json!({"name": "Mercator square"}),
        json!({"type": "Polygon", "coordinates": [ring]}),
    );
    let r = send(
        client()
            .post(srv.url("/collections/heritage/items"))
            .header(CONTENT_TYPE, "application/geo+json")
            .header(
                "Content-Crs",
                "<http://www.opengis.net/def/crs/EPSG/0/3857>",
            )
            .body(f.to_string()),
        Some(&officer),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let first = &r.body["geometry"]["coordinates"][0][0];
    assert!((first[0].as_f64().unwrap() - lon).abs() < 1e-7, "{first}");
    assert!((first[1].as_f64().unwrap() - lat).abs() < 1e-7, "{first}");
    let id = r.body["id"].as_u64().unwrap();
    let path = format!("/collections/heritage/items/{id}");

    // On the map at once, and after a move, at its new place and not at the old.
    let centre = (lon + d / 2.0, lat + d / 2.0);
    assert!(tile_ids(&srv, "heritage", centre.0, centre.1, "")
        .await
        .contains(&id));
    let far = (88.3700, 22.5800);
    let moved = patch_item(
        &srv,
        &officer,
        &path,
        r.etag.as_deref(),
        &json!({"geometry": square(far.0, far.1)}),
    )
    .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert!(!tile_ids(&srv, "heritage", centre.0, centre.1, "")
        .await
        .contains(&id));
    assert!(
        tile_ids(&srv, "heritage", far.0 + 0.0005, far.1 + 0.0005, "")
            .await
            .contains(&id)
    );

    // As of just before the move, the tile still shows it where it was; as of before it
    // existed, nowhere.
    let (_, v) = srv.get(&format!("/assets/{id}/versions")).await;
    let created_at = v["versions"][0]["at"].as_str().unwrap().to_string();
    let q = format!("?as_of={}", created_at.replace(':', "%3A"));
    assert!(tile_ids(&srv, "heritage", centre.0, centre.1, &q)
        .await
        .contains(&id));
    assert!(
        !tile_ids(&srv, "heritage", far.0 + 0.0005, far.1 + 0.0005, &q)
            .await
            .contains(&id)
    );
    let (s, page) = srv
        .get(&format!("/collections/heritage/items/{id}{q}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(page["properties"]["version"], 1);
    let before = "?as_of=2001-01-01";
    assert!(!tile_ids(&srv, "heritage", centre.0, centre.1, before)
        .await
        .contains(&id));
    let (s, _) = srv
        .get(&format!("/collections/heritage/items/{id}{before}"))
        .await;
    assert_eq!(s, 404);
    let (s, _) = srv.get("/collections/heritage/items?as_of=yesterday").await;
    assert_eq!(s, 400);
    let (s, _) = srv
        .get("/collections/complaints/items?as_of=2025-01-01")
        .await;
    assert_eq!(s, 400);
    srv.stop().await;
}
