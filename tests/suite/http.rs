//! The HTTP API over the bundled Kolkata data, on a real server and a real SQLite file:
//! what citizens and field staff ask, what bad requests get, and what a restart keeps.

use crate::common;

use common::{enc, TestServer};
use heritage_atlas::store::EditContext;
use serde_json::Value;

fn names(fc: &Value) -> Vec<String> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn bundled_kolkata_answers_the_everyday_questions() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("atlas.db"), true).await;

    let (s, health) = srv.get("/health").await;
    assert_eq!(s, 200);
    assert!(health["layers"]["heritage"].as_u64().unwrap() >= 45);
    assert!(health["layers"]["water_bodies"].as_u64().unwrap() >= 8);
    assert_eq!(health["layers"]["wards"].as_u64().unwrap(), 144);

    // Required landmarks, by English and by Bengali name, diacritics and case aside.
    for (q, want) in [
        ("Victoria", "Victoria Memorial"),
        ("victoria memorial", "Victoria Memorial"),
        ("ভিক্টোরিয়া", "Victoria Memorial"),
        ("WRITERS BUILDING", "Writers' Building"),
        ("Metcalfe", "Metcalfe Hall"),
        ("marble", "Marble Palace"),
        ("শহিদ মিনার", "Shaheed Minar"),
        ("Rabindra Sarobar", "Rabindra Sarobar"),
        ("Subhas", "Subhas Sarobar"),
        ("lal dighi", "Lal Dighi"),
        ("College Square", "College Square"),
        ("Maidan", "Maidan"),
    ] {
        let (s, fc) = srv.get(&format!("/search?q={}", enc(q))).await;
        assert_eq!(s, 200);
        let n = names(&fc);
        assert!(
            n.first().is_some_and(|first| first.starts_with(want)),
            "search {q:?} → {n:?}"
        );
        assert!(fc["features"][0]["bbox"].is_array());
    }

    // A point inside Victoria Memorial's footprint: it is 0 m away and comes first.
    let vm = srv
        .get(&format!("/search?q={}&limit=1", enc("Victoria Memorial")))
        .await
        .1;
    let c = &vm["features"][0]["geometry"]["coordinates"];
    let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let (s, near) = srv
        .get(&format!(
            "/nearby?lon={lon}&lat={lat}&radius_m=1500&limit=20"
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(names(&near)[0], "Victoria Memorial");
    assert_eq!(
        near["features"][0]["properties"]["distance_m"].as_f64(),
        Some(0.0)
    );
    let d: Vec<f64> = near["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["distance_m"].as_f64().unwrap())
        .collect();
    assert!(
        d.windows(2).all(|w| w[0] <= w[1]) && d.iter().all(|x| *x <= 1500.0),
        "{d:?}"
    );
    let only_water = srv
        .get(&format!(
            "/nearby?lon={lon}&lat={lat}&radius_m=100000&limit=3&layers=water_bodies"
        ))
        .await
        .1;
    let water = only_water["features"].as_array().unwrap();
    assert_eq!(water.len(), 3, "three water bodies lie within 100 km");
    assert!(water
        .iter()
        .all(|f| f["properties"]["layer"] == "water_bodies"));

    // In Rabindra Sarobar: the lake, its ward, and the nearest heritage asset.
    let rs = srv
        .get(&format!(
            "/search?q={}&limit=1&layers=water_bodies",
            enc("Rabindra Sarobar")
        ))
        .await
        .1;
    let c = &rs["features"][0]["geometry"]["coordinates"];
    let (s, at) = srv.get(&format!("/at?lon={}&lat={}", c[0], c[1])).await;
    assert_eq!(s, 200);
    assert!(
        names(&serde_json::json!({"features": at["water_bodies"]}))[0]
            .starts_with("Rabindra Sarobar")
    );
    assert!(at["ward"]["properties"]["ward"]
        .as_i64()
        .is_some_and(|w| (1..=144).contains(&w)));
    assert!(
        at["nearest_heritage"]["properties"]["distance_m"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(
        at["water_bodies"][0]["properties"]["area_m2"]
            .as_f64()
            .unwrap()
            > 100_000.0
    );

    // The whole record, by id and by code.
    let id = vm["features"][0]["id"].as_i64().unwrap();
    let (s, rec) = srv.get(&format!("/assets/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(rec["properties"]["name_bn"], "ভিক্টোরিয়া মেমোরিয়াল");
    assert_eq!(rec["properties"]["grade"], "I");
    assert!(rec["properties"]["source"]
        .as_str()
        .unwrap()
        .contains("approximation"));
    assert_eq!(rec["geometry"]["type"], "Polygon");
    // The bundled sample history (tests/suite/history.rs checks it in full).
    for list in ["inspections", "maintenance", "documents"] {
        assert!(!rec[list].as_array().unwrap().is_empty(), "{list}");
    }
    let code = rec["properties"]["code"].as_str().unwrap();
    assert_eq!(
        srv.get(&format!("/assets/{code}")).await.1["id"].as_i64(),
        Some(id)
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_clear_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("atlas.db"), true).await;
    let cases = [
        ("/nearby?lat=22.5", 400, "lon"),
        (
            "/nearby?lon=88.3&lat=22.5&foo=1",
            400,
            "unknown field `foo`",
        ),
        ("/nearby?lon=NaN&lat=22.5", 400, "lon must be"),
        ("/nearby?lon=88.3&lat=inf", 400, "lat must be"),
        ("/nearby?lon=188.3&lat=22.5", 400, "lon must be"),
        ("/nearby?lon=88.3&lat=-91", 400, "lat must be"),
        ("/nearby?lon=abc&lat=22.5", 400, "invalid float"),
        ("/nearby?lon=88.3&lat=22.5&radius_m=1e9", 400, "radius_m"),
        ("/nearby?lon=88.3&lat=22.5&radius_m=-5", 400, "radius_m"),
        ("/nearby?lon=88.3&lat=22.5&limit=0", 400, "limit"),
        ("/nearby?lon=88.3&lat=22.5&limit=100000", 400, "limit"),
        ("/nearby?lon=88.3&lat=22.5&limit=-1", 400, "limit"),
        (
            "/nearby?lon=88.3&lat=22.5&layers=castles",
            400,
            "unknown layer",
        ),
        ("/at?lon=88.3", 400, "lat"),
        ("/search?q=", 400, "q must be"),
        ("/search?q=a&limit=1000", 400, "limit"),
        ("/assets/999999", 404, "no asset"),
        ("/assets/NO-SUCH-CODE", 404, "no asset"),
        ("/no/such/path", 404, "no such resource"),
        (
            "/tiles/heritage/14/11912/7106.mvt?colour=red",
            400,
            "unknown field `colour`",
        ),
    ];
    for (path, status, text) in cases {
        let (s, body) = srv.get(path).await;
        assert_eq!(s, status, "{path}: {body}");
        assert!(body["code"].is_string(), "{path}: {body}");
        assert!(
            body["description"].as_str().unwrap().contains(text),
            "{path}: {body}"
        );
    }
    // Long or odd search text is not an error, just no match.
    let (s, fc) = srv
        .get(&format!("/search?q={}", enc("<script>alert(1)</script>")))
        .await;
    assert_eq!(s, 200);
    assert_eq!(fc["features"], serde_json::json!([]));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_reuses_the_file_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atlas.db");
    let srv = TestServer::start(&db, true).await;
    let record = srv.get("/assets/1").await.1;
    // An officer deletes a bundled asset: it must not come back with the next start.
    let gone = srv
        .atlas
        .store()
        .get_asset_by_code("HER-0002")
        .await
        .unwrap()
        .unwrap();
    srv.atlas
        .delist(gone.id, "demolished", &EditContext::import("test"))
        .await
        .unwrap();
    let first = srv.get("/health").await.1;
    srv.stop().await;

    // Something imported between runs is there after the restart; the bundled data is
    // not loaded a second time.
    let store = common::open_store(&db).await;
    let opts = heritage_atlas::import::ImportOptions::new(heritage_atlas::model::Layer::Heritage);
    heritage_atlas::import::import_file(&store, &common::fixture("sample_4326.geojson"), &opts)
        .await
        .unwrap();
    store.close().await;

    let srv = TestServer::start(&db, true).await;
    let second = srv.get("/health").await.1;
    assert_eq!(
        second["layers"]["heritage"].as_u64(),
        first["layers"]["heritage"].as_u64().map(|n| n + 3)
    );
    assert_eq!(second["layers"]["wards"], first["layers"]["wards"]);
    assert_eq!(srv.get("/assets/1").await.1, record);
    let (s, _) = srv.get("/assets/T-HER-2").await;
    assert_eq!(s, 200);
    // Delisted, it stays gone (410, saying when and why) and is not listed again.
    let (s, gone) = srv.get("/assets/HER-0002").await;
    assert_eq!(s, 410, "a delisted bundled asset came back: {gone}");
    assert_eq!(gone["delisted"]["reason"], "demolished");
    assert_eq!(srv.get("/collections/heritage/items/HER-0002").await.0, 404);
    srv.stop().await;
}

/// Decodes a body by its `Content-Encoding`.
fn decode(coding: Option<&str>, body: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match coding {
        None => out.extend_from_slice(body),
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some("br") => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some(other) => panic!("unexpected coding {other}"),
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_app_travels_compressed_and_revalidates_by_etag() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("atlas.db"), true).await;
    let client = reqwest::Client::new();
    let fetch = |path: &'static str, accept: &'static str| {
        let req = client.get(srv.url(path)).header("accept-encoding", accept);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let h = r.headers().clone();
            let body = r.bytes().await.unwrap().to_vec();
            let coding = h
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_string());
            (
                status,
                h,
                decode(coding.as_deref(), &body),
                body.len(),
                coding,
            )
        }
    };

    for path in [
        "/vendor/maplibre-gl/maplibre-gl.mjs",
        "/app.js",
        "/index.html",
        "/fonts/Noto%20Sans%20Regular/0-255.pbf",
        "/search?q=Victoria",
        "/collections/heritage/items?limit=50",
        "/styles/heritage.json",
    ] {
        let (s, _, plain, plain_len, coding) = fetch(path, "identity").await;
        assert_eq!((s, coding), (200, None), "{path} without compression");
        assert_eq!(plain.len(), plain_len);
        for accept in ["gzip", "br", "br, gzip;q=0.5"] {
            let (s, h, body, sent, coding) = fetch(path, accept).await;
            assert_eq!(s, 200, "{path} {accept}");
            let coding = coding.unwrap_or_else(|| panic!("{path} {accept}: not compressed"));
            assert!(
                accept.contains(coding.as_str()),
                "{path}: {coding} for {accept}"
            );
            // An items page carries the second it was made: compare all but that.
            let stamp = |b: &[u8]| -> Vec<u8> {
                match serde_json::from_slice::<serde_json::Value>(b) {
                    Ok(mut v) if v.get("timeStamp").is_some() => {
                        v["timeStamp"] = serde_json::Value::Null;
                        serde_json::to_vec(&v).unwrap()
                    }
                    _ => b.to_vec(),
                }
            };
            assert_eq!(
                stamp(&body),
                stamp(&plain),
                "{path} {accept}: decodes to the same bytes"
            );
            assert!(
                sent * 4 < plain_len * 3,
                "{path} {accept}: {sent} of {plain_len} bytes"
            );
            assert!(h["vary"].to_str().unwrap().contains("accept-encoding"));
        }
    }

    // The app's own files are revalidated, and an unchanged one costs no body.
    let (_, h, _, _, _) = fetch("/app.js", "br").await;
    assert_eq!(h["cache-control"], "no-cache");
    let etag = h["etag"].to_str().unwrap().to_string();
    let r = client
        .get(srv.url("/app.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 304);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = client
        .get(srv.url("/app.js"))
        .header("if-none-match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Pinned vendor files are cached for a day.
    let (_, h, _, _, _) = fetch("/vendor/maplibre-gl/maplibre-gl.mjs", "gzip").await;
    assert_eq!(h["cache-control"], "public, max-age=86400");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_by_route_and_the_tile_cache() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("atlas.db"), true).await;
    let t = heritage_atlas::tiles::TileCoord::containing(88.3425, 22.5449, 16);
    let tile = format!("/tiles/heritage/{}/{}/{}.mvt", t.z, t.x, t.y);
    // `v` is the cache-busting parameter the web app adds: taken, and ignored.
    for v in ["", "?v=1", "?v=mk2x9"] {
        let url = srv.url(&format!("{tile}{v}"));
        assert_eq!(reqwest::get(url).await.unwrap().status(), 200);
    }
    assert_eq!(srv.get("/nearby?lon=88.34&lat=22.54").await.0, 200);
    assert_eq!(srv.get("/nearby?lon=NaN&lat=22").await.0, 400);
    let r = reqwest::get(srv.url("/metrics")).await.unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    let route = "route=\"/tiles/{layers}/{z}/{x}/{y}\",method=\"GET\",status=\"2xx\"";
    assert_eq!(
        value(&format!("heritage_atlas_http_requests_total{{{route}}}")),
        3.0
    );
    assert_eq!(
        value(&format!(
            "heritage_atlas_http_request_duration_seconds_bucket{{{route},le=\"+Inf\"}}"
        )),
        3.0
    );
    assert_eq!(
        value(
            "heritage_atlas_http_requests_total{route=\"/nearby\",method=\"GET\",status=\"4xx\"}"
        ),
        1.0
    );
    assert_eq!(value("heritage_atlas_tile_cache_misses_total"), 1.0);
    assert_eq!(value("heritage_atlas_tile_cache_hits_total"), 2.0);
    assert_eq!(value("heritage_atlas_tile_cache_entries"), 1.0);
    assert_eq!(value("heritage_atlas_assets{layer=\"wards\"}"), 144.0);
    assert_eq!(
        value("heritage_atlas_complaints{status=\"submitted\"}"),
        0.0
    );
    srv.stop().await;
}
