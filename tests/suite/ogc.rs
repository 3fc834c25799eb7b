//! OGC API - Features over real HTTP, checked against brute force over the bundled data.

use crate::common;

use std::collections::BTreeSet;

use common::TestServer;
use geo::Intersects;
use serde_json::{json, Value};

async fn get(srv: &TestServer, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = reqwest::Client::new()
        .get(srv.url(path))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let h = r.headers().clone();
    let text = r.text().await.unwrap();
    (
        status,
        h,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn ids(v: &Value) -> Vec<i64> {
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect()
}

async fn all_heritage(srv: &TestServer) -> Vec<Value> {
    let (_, _, v) = get(srv, "/collections/heritage/items?limit=1000").await;
    v["features"].as_array().unwrap().clone()
}

fn geometry(f: &Value) -> geo_types::Geometry<f64> {
    let g: geojson::Geometry = serde_json::from_value(f["geometry"].clone()).unwrap();
    g.value.try_into().unwrap()
}

#[tokio::test]
async fn landing_conformance_collections_and_api() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("o.db"), true).await;
    let (status, _, v) = get(&srv, "/").await;
    assert_eq!(status, 200);
    let rels: BTreeSet<&str> = v["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    for rel in ["self", "service-desc", "service-doc", "conformance", "data"] {
        assert!(rels.contains(rel), "{rel} missing: {rels:?}");
    }
    // A browser gets the map.
    let r = reqwest::Client::new()
        .get(srv.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let (_, _, c) = get(&srv, "/conformance").await;
    let classes = c["conformsTo"].as_array().unwrap();
    for k in [
        "conf/core",
        "conf/geojson",
        "conf/oas30",
        "ogcapi-features-2/1.0/conf/crs",
    ] {
        assert!(
            classes.iter().any(|x| x.as_str().unwrap().contains(k)),
            "{k}"
        );
    }
    let r = reqwest::get(srv.url("/api")).await.unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.oai.openapi+json;version=3.0"
    );
    let api: Value = r.json().await.unwrap();
    assert_eq!(api["openapi"], "3.0.3");
    assert!(api["paths"]["/collections/{collectionId}/items"].is_object());

    let (_, _, cs) = get(&srv, "/collections").await;
    let names: Vec<&str> = cs["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["heritage", "water_bodies", "parks", "wards", "complaints"]
    );
    let (_, _, h) = get(&srv, "/collections/heritage").await;
    let bbox = h["extent"]["spatial"]["bbox"][0].as_array().unwrap();
    assert!(bbox[0].as_f64().unwrap() > 88.2 && bbox[2].as_f64().unwrap() < 88.5);
    assert!(h["crs"].as_array().unwrap().len() >= 5);
    assert_eq!(
        h["storageCrs"],
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    );
    let (status, _, e) = get(&srv, "/collections/roads").await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")));
    let (status, _, _) = get(&srv, "/collections?colour=red").await;
    assert_eq!(status, 400);
    srv.stop().await;
}

#[tokio::test]
async fn paging_counts_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("o.db"), true).await;
    let (status, h, first) = get(&srv, "/collections/wards/items").await;
    assert_eq!(status, 200);
    assert_eq!(h["content-type"], "application/geo+json");
    assert_eq!(
        h["content-crs"],
        "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    );
    assert_eq!(first["numberMatched"], 144);
    assert_eq!(first["numberReturned"], 10, "default limit 10");
    assert!(first["timeStamp"].is_string());
    // Follow next links to the end: every ward once.
    let mut seen = Vec::new();
    let mut url = "/collections/wards/items?limit=50".to_string();
    loop {
        let (_, _, page) = get(&srv, &url).await;
        seen.extend(ids(&page));
        let next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| l["href"].as_str().unwrap().to_string());
        match next {
            Some(n) => url = n.split_once(&srv.addr.to_string()).unwrap().1.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 144);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 144);
    // limit=0 counts without paging: no next link to loop on.
    let (_, _, zero) = get(&srv, "/collections/wards/items?limit=0").await;
    assert_eq!(zero["numberMatched"], 144);
    assert!(!zero["links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["rel"] == "next" || l["rel"] == "prev"));
    // A too-large limit is clamped, not refused; a bad one is refused.
    let (status, _, big) = get(&srv, "/collections/wards/items?limit=50000").await;
    assert_eq!((status, big["numberReturned"].as_u64()), (200, Some(144)));
    for bad in [
        "limit=-1",
        "limit=ten",
        "offset=-5",
        "bbox=1,2,3",
        "bbox=88,22,NaN,23",
        "colour=red",
        "ward=abc",
        "f=shp",
        "datetime=yesterday",
        "crs=EPSG:27700",
        "filter-lang=cql2-json",
    ] {
        let (status, _, e) = get(&srv, &format!("/collections/wards/items?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {e}");
        assert_eq!(e["code"], "invalid_parameter", "{bad}");
    }
    srv.stop().await;
}

#[tokio::test]
async fn bbox_properties_datetime_and_cql2_match_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("o.db"), true).await;
    let all = all_heritage(&srv).await;
    assert_eq!(all.len(), 62);

    let bbox = geo_types::Rect::new((88.33, 22.53), (88.36, 22.57));
    let want: BTreeSet<i64> = all
        .iter()
        .filter(|f| geometry(f).intersects(&bbox))
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    let (_, _, got) = get(
        &srv,
        "/collections/heritage/items?bbox=88.33,22.53,88.36,22.57&limit=1000",
    )
    .await;
    assert_eq!(ids(&got).into_iter().collect::<BTreeSet<_>>(), want);
    assert!(!want.is_empty() && want.len() < 62);
    // The same box in Web Mercator.
    let merc = |lon: f64, lat: f64| {
        (
            lon * 20037508.342789244 / 180.0,
            ((90.0 + lat).to_radians() / 2.0).tan().ln() * 6378137.0,
        )
    };
    let (x0, y0) = merc(88.33, 22.53);
    let (x1, y1) = merc(88.36, 22.57);
    let (_, _, got3857) = get(&srv, &format!("/collections/heritage/items?bbox={x0},{y0},{x1},{y1}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857&limit=1000")).await;
    assert_eq!(ids(&got3857).into_iter().collect::<BTreeSet<_>>(), want);

    let grade_i: BTreeSet<i64> = all
        .iter()
        .filter(|f| f["properties"]["grade"] == "I")
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    let (_, _, g) = get(&srv, "/collections/heritage/items?grade=I&limit=1000").await;
    assert_eq!(ids(&g).into_iter().collect::<BTreeSet<_>>(), grade_i);
    let (_, _, g2) = get(
        &srv,
        "/collections/heritage/items?filter=grade%20%3D%20'I'&filter-lang=cql2-text&limit=1000",
    )
    .await;
    assert_eq!(ids(&g2).into_iter().collect::<BTreeSet<_>>(), grade_i);

    // Every heritage asset within 500 m of a proposed site, by CQL2, against brute force.
    let site = geo_types::Point::new(88.3500, 22.5500);
    let near: BTreeSet<i64> = all
        .iter()
        .filter(|f| heritage_atlas::geom::distance_m(site, &geometry(f)) <= 500.0)
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    let (_, _, d) = get(&srv, "/collections/heritage/items?filter=S_DWITHIN(geometry,POINT(88.35%2022.55),500,meters)&limit=1000").await;
    assert_eq!(ids(&d).into_iter().collect::<BTreeSet<_>>(), near);
    let (_, _, combo) = get(&srv, "/collections/heritage/items?filter=(grade%20IN%20('I','IIA')%20OR%20name%20LIKE%20'%25Temple%25')%20AND%20NOT%20condition%20%3D%20'critical'&limit=1000").await;
    let want_combo: BTreeSet<i64> = all
        .iter()
        .filter(|f| {
            let p = &f["properties"];
            (p["grade"] == "I"
                || p["grade"] == "IIA"
                || p["name"].as_str().is_some_and(|n| n.contains("Temple")))
                && p["condition"] != "critical"
        })
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids(&combo).into_iter().collect::<BTreeSet<_>>(), want_combo);
    let (status, _, e) = get(
        &srv,
        "/collections/heritage/items?filter=grade%20%3D%3D%20'I'",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        e["description"].as_str().unwrap().contains("character 8"),
        "{e}"
    );

    let (_, _, none) = get(
        &srv,
        "/collections/heritage/items?datetime=2099-01-01T00:00:00Z/..",
    )
    .await;
    assert_eq!(none["numberMatched"], 0);
    let (_, _, every) = get(
        &srv,
        "/collections/heritage/items?datetime=../2099-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(every["numberMatched"], 62);
    srv.stop().await;
}

#[tokio::test]
async fn crs_axis_order_and_single_items() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("o.db"), true).await;
    let (_, _, vm) = get(&srv, "/collections/heritage/items/HER-0001").await;
    let id = vm["id"].as_i64().unwrap();
    let c84 = vm["geometry"]["coordinates"][0][0].clone();
    let (status, h, v4326) = get(
        &srv,
        &format!("/collections/heritage/items/{id}?crs=http://www.opengis.net/def/crs/EPSG/0/4326"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        h["content-crs"],
        "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    );
    let p = &v4326["geometry"]["coordinates"][0][0];
    assert_eq!(
        (p[0].clone(), p[1].clone()),
        (c84[1].clone(), c84[0].clone()),
        "EPSG:4326 is lat, lon"
    );
    let (_, _, utm) = get(
        &srv,
        &format!(
            "/collections/heritage/items/{id}?crs=http://www.opengis.net/def/crs/EPSG/0/32645"
        ),
    )
    .await;
    let e = utm["geometry"]["coordinates"][0][0][0].as_f64().unwrap();
    assert!((600_000.0..700_000.0).contains(&e), "{e}");

    // ETag and 304; HEAD; 404.
    let r = reqwest::get(srv.url(&format!("/collections/heritage/items/{id}")))
        .await
        .unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let r = reqwest::Client::new()
        .get(srv.url(&format!("/collections/heritage/items/{id}")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 304);
    let r = reqwest::Client::new()
        .head(srv.url(&format!("/collections/heritage/items/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (status, _, _) = get(&srv, "/collections/heritage/items/999999").await;
    assert_eq!(status, 404);
    srv.stop().await;
}

#[tokio::test]
async fn downloads_carry_the_whole_selection_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("o.db"), true).await;
    // GeoJSON download: no 10-item page.
    let r = reqwest::get(srv.url("/collections/wards/items?f=json&download=true"))
        .await
        .unwrap();
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename=\"wards_20"));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["features"].as_array().unwrap().len(), 144);
    // CSV: WKT first, Bengali intact.
    let r = reqwest::get(srv.url("/collections/water_bodies/items?f=csv"))
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    // Named for what is in it: layer, selection, date.
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cd.contains("filename=\"water_bodies_20"), "{cd}");
    let bytes = r.bytes().await.unwrap();
    // A UTF-8 byte-order mark first, for Excel.
    assert!(bytes.starts_with("\u{feff}WKT,".as_bytes()));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(&rd.headers().unwrap()[0], "WKT");
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 12);
    assert!(text.contains("রবীন্দ্র সরোবর"));
    // Columns beyond the queryables: `source`, and properties the source file carried.
    let header: Vec<&str> = rd.headers().unwrap().iter().collect::<Vec<_>>().clone();
    assert!(
        header.contains(&"source") && header.contains(&"notes"),
        "{header:?}"
    );
    assert!(
        rows[0][0].starts_with("POLYGON")
            || rows[0][0].starts_with("MULTIPOLYGON")
            || rows[0][0].starts_with("LINESTRING")
    );
    // FlatGeobuf, read back with the flatgeobuf crate, filtered by the same bbox as items.
    let r = reqwest::get(srv.url("/collections/heritage/items?f=fgb&grade=I"))
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/flatgeobuf");
    assert_eq!(
        r.headers()["content-crs"],
        "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    );
    let bytes = r.bytes().await.unwrap();
    let mut reader = flatgeobuf::FgbReader::open(std::io::Cursor::new(&bytes[..]))
        .unwrap()
        .select_all()
        .unwrap();
    let (_, _, want) = get(&srv, "/collections/heritage/items?grade=I&limit=1000").await;
    assert_eq!(
        reader.features_count(),
        Some(want["numberMatched"].as_u64().unwrap() as usize)
    );
    let mut n = 0;
    while let Some(f) = flatgeobuf::FallibleStreamingIterator::next(&mut reader).unwrap() {
        use flatgeobuf::FeatureProperties;
        assert_eq!(f.property::<String>("grade").unwrap(), "I");
        n += 1;
    }
    assert_eq!(n as u64, want["numberMatched"].as_u64().unwrap());
    // limit still applies when given.
    let r = reqwest::get(srv.url("/collections/wards/items?f=csv&limit=5"))
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap().lines().count(), 6);
    srv.stop().await;
}

#[tokio::test]
async fn complaints_are_a_collection_of_public_fields() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("o.db"), true).await;
    let r = reqwest::Client::new()
        .post(srv.url("/complaints"))
        .json(&json!({"lon": 88.3426, "lat": 22.5448, "category": "other", "description": "Litter", "name": "Private Person", "phone": "9830012345"}))
        .send()
        .await
        .unwrap();
    let ticket = r.json::<Value>().await.unwrap()["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, _, v) = get(&srv, "/collections/complaints/items?status=submitted").await;
    assert_eq!(v["numberMatched"], 1);
    assert_eq!(v["features"][0]["id"], ticket.as_str());
    assert!(!v.to_string().contains("Private Person") && !v.to_string().contains("9830012345"));
    let (status, _, one) = get(&srv, &format!("/collections/complaints/items/{ticket}")).await;
    assert_eq!(
        (status, one["properties"]["category"].as_str()),
        (200, Some("other"))
    );
    let r = reqwest::get(srv.url("/collections/complaints/items?f=csv"))
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains(&ticket) && !text.contains("Private Person"));
    srv.stop().await;
}

#[tokio::test]
async fn the_command_line_export_shares_the_filter_and_writers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("o.db");
    let srv = TestServer::start(&db, true).await;
    let (_, _, want) = get(
        &srv,
        "/collections/heritage/items?filter=grade%20IN%20('I','IIA')&f=json&download=true",
    )
    .await;
    srv.stop().await;
    let out = dir.path().join("h.geojson");
    let st = common::bin()
        .arg("--db")
        .arg(common::db_arg(&db))
        .args([
            "export",
            "--layer",
            "heritage",
            "--filter",
            "grade IN ('I','IIA')",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let got: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(ids(&got), ids(&want));
    assert!(!ids(&got).is_empty());
    let bad = common::bin()
        .arg("--db")
        .arg(common::db_arg(&db))
        .args(["export", "--layer", "heritage", "--filter", "grade = = 'I'"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("character 9"));
}

#[tokio::test]
async fn the_flatgeobuf_index_answers_bbox_searches_like_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("o.db"), true).await;
    let all = all_heritage(&srv).await;
    let bytes = reqwest::get(srv.url("/collections/heritage/items?f=fgb"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    for bb in [
        (88.33, 22.53, 88.36, 22.57),
        (88.34, 22.54, 88.345, 22.55),
        (88.0, 22.0, 89.0, 23.0),
        (80.0, 10.0, 81.0, 11.0),
    ] {
        let rect = geo_types::Rect::new((bb.0, bb.1), (bb.2, bb.3));
        // The index returns every feature whose box meets the search box.
        let want: BTreeSet<String> = all
            .iter()
            .filter(|f| {
                geo::BoundingRect::bounding_rect(&geometry(f)).is_some_and(|r| r.intersects(&rect))
            })
            .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
            .collect();
        let mut reader = flatgeobuf::FgbReader::open(std::io::Cursor::new(&bytes[..]))
            .unwrap()
            .select_bbox(bb.0, bb.1, bb.2, bb.3)
            .unwrap();
        let mut got = BTreeSet::new();
        while let Some(f) = flatgeobuf::FallibleStreamingIterator::next(&mut reader).unwrap() {
            use flatgeobuf::FeatureProperties;
            got.insert(f.property::<String>("code").unwrap());
        }
        assert_eq!(got, want, "{bb:?}");
    }
    // One feature, and none: still valid files.
    for (q, n) in [("limit=1", 1usize), ("code=NONE", 0)] {
        let b = reqwest::get(srv.url(&format!("/collections/heritage/items?f=fgb&{q}")))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let r = flatgeobuf::FgbReader::open(std::io::Cursor::new(&b[..])).unwrap();
        assert_eq!(r.header().features_count() as usize, n);
        let mut all = r.select_all().unwrap();
        let mut k = 0;
        while flatgeobuf::FallibleStreamingIterator::next(&mut all)
            .unwrap()
            .is_some()
        {
            k += 1;
        }
        assert_eq!(k, n, "{q}");
    }
    srv.stop().await;
}

/// Assets with no ward on record are given the ward they lie in — the record, the OGC
/// items, `ward=` filters and the CSV all say so — checked against a brute-force scan of
/// the ward polygons, after a restart too. The store keeps no ward it was not given.
#[tokio::test]
async fn a_ward_known_only_from_location_is_everywhere_the_ward_is() {
    use geo::{Contains, InteriorPoint};
    use heritage_atlas::model::Layer;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let srv = TestServer::start(&db, true).await;
    let store = srv.atlas.store().clone();
    let wards = store.load_layer(Layer::Wards).await.unwrap();
    let oracle = |g: &geo_types::Geometry<f64>| {
        let p = g.interior_point()?;
        wards
            .iter()
            .find(|w| w.geometry.contains(&p))
            .and_then(|w| w.attrs.ward)
    };
    let mut unrecorded = Vec::new();
    for layer in [Layer::Heritage, Layer::WaterBodies, Layer::Parks] {
        for a in store.load_layer(layer).await.unwrap() {
            if a.attrs.ward.is_none() {
                if let Some(w) = oracle(&a.geometry) {
                    unrecorded.push((layer, a.code.clone(), w));
                }
            }
        }
    }
    assert!(
        !unrecorded.is_empty(),
        "the bundled data has assets with no ward on record"
    );
    for round in 0..2 {
        let srv = if round == 0 {
            &srv
        } else {
            // The index is rebuilt from the store at start: the ward is found again.
            &TestServer::start(&db, true).await
        };
        for (layer, code, ward) in &unrecorded {
            let (status, _, rec) = get(srv, &format!("/assets/{code}")).await;
            assert_eq!(status, 200);
            assert_eq!(rec["properties"]["ward"], *ward, "{code}");
            assert_eq!(rec["properties"]["ward_source"], "location", "{code}");
            let l = layer.as_str();
            let (_, _, v) = get(
                srv,
                &format!("/collections/{l}/items?ward={ward}&limit=1000"),
            )
            .await;
            let codes: Vec<&str> = v["features"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|f| f["properties"]["code"].as_str())
                .collect();
            assert!(
                codes.contains(&code.as_str()),
                "{code} not in ward={ward}: {codes:?}"
            );
            let csv = reqwest::get(srv.url(&format!(
                "/collections/{l}/items?f=csv&filter=code='{code}'"
            )))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
            let mut rd = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
            let col = rd
                .headers()
                .unwrap()
                .iter()
                .position(|h| h == "ward")
                .unwrap();
            let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
            assert_eq!(rows.len(), 1, "{code}");
            assert_eq!(rows[0][col], ward.to_string(), "{code}");
        }
    }
    // Nothing was written: the store still has no ward for them.
    for (_, code, _) in &unrecorded {
        let a = store.get_asset_by_code(code).await.unwrap().unwrap();
        assert_eq!(a.attrs.ward, None, "{code}");
    }
    srv.stop().await;
}
