//! Heritage-impact screening (`POST /screening`, issue 18) over real HTTP on seeded random
//! assets around a proposed alignment: the set found equals a brute-force pass over every
//! asset; each distance agrees with the ellipsoid's, measured from points every 5 m along
//! the work; the order is grade then distance; GDAL reads the GeoJSON answer and the CSV
//! parses; hostile bodies are 4xx.

mod common;

use common::{asset, rect_polygon, TestServer};
use geo_types::{Geometry, LineString, Point};
use heritage_atlas::model::{Grade, Layer};
use heritage_atlas::store::EditContext;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// A 6 km alignment across the seeded area, with a bend.
fn alignment() -> LineString<f64> {
    LineString::from(vec![(88.330, 22.540), (88.360, 22.555), (88.390, 22.552)])
}

async fn seeded(srv: &TestServer) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
    for i in 0..240 {
        let layer = [Layer::Heritage, Layer::WaterBodies, Layer::Parks][i % 3];
        let x = rng.random_range(88.325..88.395);
        let y = rng.random_range(22.530..22.565);
        let w = rng.random_range(0.0001..0.0012);
        let kind = layer.kinds()[0];
        let code = match layer {
            Layer::Heritage => format!("HER-8{i:03}"),
            Layer::WaterBodies => format!("WAT-8{i:03}"),
            _ => format!("PRK-8{i:03}"),
        };
        let g = if layer == Layer::Heritage && i % 2 == 0 {
            Geometry::Point(Point::new(x, y))
        } else {
            rect_polygon(x, y, w, w * 0.7, 0.0)
        };
        let mut a = asset(layer, kind, code, g);
        if layer == Layer::Heritage {
            a.attrs.grade = [
                None,
                Some(Grade::I),
                Some(Grade::IIA),
                Some(Grade::IIB),
                Some(Grade::III),
            ][rng.random_range(0..5)];
        }
        srv.atlas
            .upsert(&a, &EditContext::import("test"))
            .await
            .unwrap();
    }
}

fn rank(v: &Value) -> u8 {
    match v["grade"].as_str() {
        Some("I") => 0,
        Some("IIA") => 1,
        Some("IIB") => 2,
        Some("III") => 3,
        _ => 4,
    }
}

async fn screen(srv: &TestServer, f: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(srv.url(&format!("/screening?f={f}")))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn screening_finds_what_brute_force_finds_in_the_planners_order() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("a.db"), true).await;
    seeded(&srv).await;
    let line = alignment();
    let work = Geometry::LineString(line.clone());
    let body = json!({
        "geometry": {"type": "Feature", "properties": {"name": "Metro alignment"},
                     "geometry": geojson::Geometry::new(geojson::Value::from(&work))},
        "distance_m": 300,
    });
    let r = screen(&srv, "json", &body).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let items = v["items"].as_array().unwrap().clone();

    // Brute force: every asset of the three layers, measured.
    let mut want = std::collections::BTreeSet::new();
    for layer in [Layer::Heritage, Layer::WaterBodies, Layer::Parks] {
        for (a, _) in srv.atlas.index().read(layer).iter_keys() {
            if heritage_atlas::geom::distance_between_m(&work, &a.geometry) <= 300.0 {
                want.insert(a.code.clone());
            }
        }
    }
    let got: std::collections::BTreeSet<String> = items
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, want);
    assert!(got.len() > 20, "the oracle is not empty ({})", got.len());
    assert!(got.len() < 240, "and not everything");

    // Each distance against the ellipsoid, from points every 5 m along the work: the
    // work's nearest point is within 2.5 m of one of them.
    let samples: Vec<Point<f64>> = line
        .lines()
        .flat_map(|seg| {
            use geo::Length;
            let len = geo::Haversine.length(&seg);
            let n = (len / 5.0).ceil() as usize;
            (0..=n)
                .map(move |k| {
                    let t = k as f64 / n as f64;
                    Point::new(
                        seg.start.x + (seg.end.x - seg.start.x) * t,
                        seg.start.y + (seg.end.y - seg.start.y) * t,
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for i in &items {
        let code = i["code"].as_str().unwrap();
        let a = srv.atlas.asset_by_code(code).await.unwrap().unwrap();
        let ellipsoid = samples
            .iter()
            .map(|p| heritage_atlas::geom::distance_m(*p, &a.geometry))
            .fold(f64::INFINITY, f64::min);
        let d = i["distance_m"].as_f64().unwrap();
        assert!(
            (d - ellipsoid).abs() <= 2.6 + ellipsoid * 0.002,
            "{code}: {d} m against {ellipsoid} m on the ellipsoid"
        );
    }

    // Graded heritage first, then by distance.
    for w in items.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        assert!(
            (rank(a), a["distance_m"].as_f64().unwrap())
                <= (rank(b), b["distance_m"].as_f64().unwrap()),
            "{a} before {b}"
        );
    }
    assert!(
        items.iter().any(|i| i["grade"] == "I"),
        "some Grade I in reach"
    );

    // GDAL reads the GeoJSON answer; the CSV has a row each.
    let geo = screen(&srv, "geojson", &body).await;
    assert_eq!(geo.headers()["content-type"], "application/geo+json");
    let path = dir.path().join("screening.geojson");
    std::fs::write(&path, geo.bytes().await.unwrap()).unwrap();
    match std::process::Command::new("ogrinfo")
        .args(["-ro", "-al", "-so"])
        .arg(&path)
        .output()
    {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains(&format!("Feature Count: {}", items.len())),
                "{text}"
            );
            assert!(text.contains("distance_m: Real"), "{text}");
        }
        _ => assert!(
            std::env::var("HERITAGE_ATLAS_REQUIRE_TOOLS").is_err(),
            "ogrinfo (gdal-bin) is needed to read the screening"
        ),
    }
    let csv = screen(&srv, "csv", &body).await.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(rd.records().count(), items.len());

    // Only the layers asked for; nothing within 0 m of a line in open ground.
    let (s, v) = common::post(
        &srv,
        "/screening",
        None,
        &json!({"geometry": body["geometry"], "distance_m": 300, "layers": "heritage"}),
    )
    .await;
    assert_eq!(s, 200);
    assert!(v["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["layer"] == "heritage"));
    srv.stop().await;
}

#[tokio::test]
async fn hostile_screenings_are_refused_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("a.db"), true).await;
    let line = json!({"type": "LineString", "coordinates": [[88.33, 22.54], [88.36, 22.55]]});
    let long: Vec<[f64; 2]> = (0..200_001)
        .map(|i| [88.3 + i as f64 * 1e-7, 22.5])
        .collect();
    for (body, want, what) in [
        (
            json!({"geometry": line, "distance_m": 1e9}),
            400,
            "a distance too far",
        ),
        (
            json!({"geometry": line, "distance_m": -1}),
            400,
            "a negative distance",
        ),
        (json!({"geometry": line}), 400, "no distance"),
        (json!({"distance_m": 100}), 400, "no geometry"),
        (
            json!({"geometry": {"type": "LineString", "coordinates": [[200, 22.5], [88.3, 22.5]]}, "distance_m": 100}),
            400,
            "longitude 200",
        ),
        (
            json!({"geometry": {"type": "LineString", "coordinates": [[80.0, 22.5], [88.3, 22.5]]}, "distance_m": 100}),
            400,
            "a work 8° long",
        ),
        (
            json!({"geometry": {"type": "Nonsense"}, "distance_m": 100}),
            400,
            "not GeoJSON",
        ),
        (
            json!({"geometry": line, "distance_m": 100, "radius": 3}),
            400,
            "an unknown field",
        ),
        (
            json!({"geometry": {"type": "LineString", "coordinates": long}, "distance_m": 100}),
            413,
            "200,001 vertices",
        ),
    ] {
        let r = screen(&srv, "json", &body).await;
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(status, want, "{what}: {v}");
        assert!(v["code"].is_string(), "{what}: our JSON error: {v}");
    }
    let r = screen(&srv, "kml", &json!({"geometry": line, "distance_m": 100})).await;
    assert_eq!(r.status(), 400);
    srv.stop().await;
}
