//! Heritage-impact screening (`POST /screening`, issue 18) over real HTTP on seeded random
//! assets around a proposed alignment: the set found equals a brute-force pass over every
//! asset; each distance agrees with the ellipsoid's, measured from points every 5 m along
//! the work; the order is grade then distance; GDAL reads the GeoJSON answer and the CSV
//! parses; hostile bodies are 4xx.

use crate::common;

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
        for a in srv.atlas.index().read(layer).iter() {
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

/// A work sent as a file, read by the importers: GeoJSON, FlatGeobuf and CSV made by
/// GDAL's `ogr2ogr` in UTM zone 45N (EPSG:32645), as a planner's CAD export would be.
/// Each screens to what the same work as a JSON body does; `ogr2ogr` reads the answer.
#[tokio::test(flavor = "multi_thread")]
async fn a_work_uploaded_as_a_file_screens_like_the_same_work_as_json() {
    if std::process::Command::new("ogr2ogr")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("HERITAGE_ATLAS_REQUIRE_TOOLS").is_err(),
            "ogr2ogr (gdal-bin) is needed"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("a.db"), true).await;
    seeded(&srv).await;
    let line = alignment();
    let geometry =
        serde_json::to_value(geojson::Geometry::new(geojson::Value::from(&line))).unwrap();
    let (s, want) = common::post(
        &srv,
        "/screening",
        None,
        &json!({"geometry": geometry, "distance_m": 400}),
    )
    .await;
    assert_eq!(s, 200, "{want}");
    let want = want["items"].as_array().unwrap().clone();
    assert!(want.len() > 20);

    let src = dir.path().join("work.geojson");
    std::fs::write(
        &src,
        json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "alignment"}, "geometry": geometry}]}).to_string(),
    )
    .unwrap();
    let ogr = |args: &[&str]| {
        let out = std::process::Command::new("ogr2ogr")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let s = src.to_str().unwrap();
    ogr(&[
        "-f",
        "GeoJSON",
        "-t_srs",
        "EPSG:32645",
        "-lco",
        "RFC7946=NO",
        &p("utm.geojson"),
        s,
    ]);
    ogr(&["-f", "FlatGeobuf", "-t_srs", "EPSG:32645", &p("utm.fgb"), s]);
    ogr(&["-f", "CSV", "-lco", "GEOMETRY=AS_WKT", &p("wgs84.csv"), s]);
    for (file, ct, crs) in [
        ("utm.geojson", "application/geo+json", ""),
        ("utm.fgb", "application/flatgeobuf", ""),
        ("wgs84.csv", "text/csv", ""),
        (
            "work.geojson",
            "application/geo+json; charset=utf-8",
            "&crs=EPSG:4326",
        ),
    ] {
        let r = reqwest::Client::new()
            .post(srv.url(&format!("/screening?distance_m=400{crs}")))
            .header("content-type", ct)
            .body(std::fs::read(p(file)).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{file}");
        let answer: Value = r.json().await.unwrap();
        // The work as the server read it, back in WGS84: the line's own corners.
        let corners: Vec<(f64, f64)> = answer["work"]["coordinates"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: no work in {}", answer["work"]))
            .iter()
            .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
            .collect();
        assert_eq!(corners.len(), line.0.len(), "{file}");
        for (c, l) in corners.iter().zip(line.coords()) {
            assert!(
                (c.0 - l.x).abs() < 1e-6 && (c.1 - l.y).abs() < 1e-6,
                "{file}: {c:?}"
            );
        }
        let got = answer["items"].as_array().unwrap();
        let codes = |v: &[Value]| {
            v.iter()
                .map(|i| i["code"].as_str().unwrap().to_string())
                .collect::<std::collections::BTreeSet<_>>()
        };
        // The reprojection round trip moves the line by millimetres: an asset right at
        // the edge may fall either side.
        let edge = |v: &Value| (v["distance_m"].as_f64().unwrap() - 400.0).abs() < 0.5;
        let a: std::collections::BTreeSet<_> = codes(got)
            .into_iter()
            .filter(|c| {
                !want
                    .iter()
                    .chain(got.iter())
                    .any(|v| v["code"] == c.as_str() && edge(v))
            })
            .collect();
        let b: std::collections::BTreeSet<_> = codes(&want)
            .into_iter()
            .filter(|c| {
                !want
                    .iter()
                    .chain(got.iter())
                    .any(|v| v["code"] == c.as_str() && edge(v))
            })
            .collect();
        assert_eq!(a, b, "{file}");
        for g in got {
            if let Some(w) = want.iter().find(|w| w["code"] == g["code"]) {
                let d =
                    (g["distance_m"].as_f64().unwrap() - w["distance_m"].as_f64().unwrap()).abs();
                assert!(d <= 0.2, "{file}: {} {d}", g["code"]);
            }
        }
    }

    // The answer as GeoJSON, converted by ogr2ogr into a FlatGeobuf with every feature.
    let r = reqwest::Client::new()
        .post(srv.url("/screening?f=geojson&distance_m=400"))
        .header("content-type", "application/geo+json")
        .body(std::fs::read(&src).unwrap())
        .send()
        .await
        .unwrap();
    std::fs::write(p("answer.geojson"), r.bytes().await.unwrap()).unwrap();
    ogr(&["-f", "FlatGeobuf", &p("answer.fgb"), &p("answer.geojson")]);
    let info = std::process::Command::new("ogrinfo")
        .args(["-ro", "-al", "-so", &p("answer.fgb")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(
        text.contains(&format!("Feature Count: {}", want.len())),
        "{text}"
    );

    // A file that is not what it says, a file with nothing in it, a query without a distance.
    for (ct, body, q) in [
        (
            "application/flatgeobuf",
            b"not a flatgeobuf".to_vec(),
            "distance_m=100",
        ),
        (
            "application/geo+json",
            br#"{"type":"FeatureCollection","features":[]}"#.to_vec(),
            "distance_m=100",
        ),
        ("text/csv", b"wkt\nPOINT (88.3 22.5)\n".to_vec(), ""),
        (
            "text/csv",
            b"wkt\nPOINT (88.3 22.5)\n".to_vec(),
            "distance_m=99999",
        ),
    ] {
        let r = reqwest::Client::new()
            .post(srv.url(&format!("/screening?{q}")))
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 400, "{ct} {q}: {v}");
        assert!(v["description"].is_string());
    }
    srv.stop().await;
}
