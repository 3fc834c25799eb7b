//! Import through the real command line: every format and CRS reaches the same places
//! (fixtures written by GDAL's ogr2ogr, not by us), and every bad input is refused whole
//! with a message naming the feature, leaving the database as it was.

use crate::common;

use std::path::Path;

use common::{bin, fixture};
use geo::CoordsIter;
use heritage_atlas::model::{Asset, Grade, Layer};

/// Runs `heritage-atlas --db DB import FILE --layer LAYER EXTRA...`.
fn import_into(db: &Path, file: &Path, layer: &str, extra: &[&str]) -> std::process::Output {
    bin()
        .arg("--db")
        .arg(common::db_arg(db))
        .arg("import")
        .arg(file)
        .args(["--layer", layer])
        .args(extra)
        .output()
        .expect("run heritage-atlas")
}

fn import(db: &Path, file: &Path, extra: &[&str]) -> std::process::Output {
    import_into(db, file, "heritage", extra)
}

async fn heritage(db: &Path) -> Vec<Asset> {
    let store = common::open_store(db).await;
    let v = store.load_layer(Layer::Heritage).await.unwrap();
    store.close().await;
    v
}

fn by_code<'a>(v: &'a [Asset], code: &str) -> &'a Asset {
    v.iter()
        .find(|a| a.code == code)
        .unwrap_or_else(|| panic!("{code} missing"))
}

/// The reference: the WGS84 GeoJSON the other fixtures were made from.
async fn reference() -> Vec<Asset> {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ref.db");
    let out = import(&db, &fixture("sample_4326.geojson"), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    heritage(&db).await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_format_and_crs_lands_on_the_same_coordinates() {
    let reference = reference().await;
    assert_eq!(reference.len(), 3);
    let vm = by_code(&reference, "T-HER-1");
    assert_eq!(vm.attrs.name_bn.as_deref(), Some("ভিক্টোরিয়া মেমোরিয়াল"));
    assert_eq!(vm.attrs.grade, Some(Grade::I));
    assert_eq!(vm.attrs.year_built, Some(1921));
    assert_eq!(
        vm.attrs.extra.get("architect").and_then(|v| v.as_str()),
        Some("William Emerson")
    );

    let cases: &[(&str, &[&str], usize)] = &[
        ("sample_4326.geojsonl", &[], 3),                      // GeoJSONSeq
        ("sample_32645.geojson", &[], 3),                      // UTM 45N, declared in the file
        ("sample_32645.geojson", &["--crs", "EPSG:32645"], 3), // ...and given on the command line
        ("sample_3857.fgb", &[], 3), // FlatGeobuf, Web Mercator in its header
        ("sample_7755.csv", &["--crs", "EPSG:7755"], 3), // CSV with WKT, India NSF LCC
        ("points_4326.csv", &[], 1), // CSV with X/Y columns
    ];
    for (file, args, count) in cases {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let out = import(&db, &fixture(file), args);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = heritage(&db).await;
        assert_eq!(got.len(), *count, "{file}");
        for a in &got {
            let want = by_code(&reference, &a.code);
            assert_eq!(
                a.attrs.name_bn, want.attrs.name_bn,
                "{file}: Bengali name intact"
            );
            assert_eq!(a.attrs.grade, want.attrs.grade, "{file}");
            // GDAL may re-orient rings (RFC 7946 winding), so compare sorted coordinates.
            let sorted = |g: &geo_types::Geometry<f64>| {
                let mut v: Vec<_> = g.coords_iter().collect();
                v.sort_by_key(|c| ((c.x * 1e6).round() as i64, (c.y * 1e6).round() as i64));
                v
            };
            let (g, w) = (sorted(&a.geometry), sorted(&want.geometry));
            assert_eq!(g.len(), w.len(), "{file} {}", a.code);
            for (c, r) in g.iter().zip(&w) {
                // 1e-7 degrees is about a centimetre here.
                assert!(
                    (c.x - r.x).abs() < 1e-7 && (c.y - r.y).abs() < 1e-7,
                    "{file} {}: {c:?} vs {r:?}",
                    a.code
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_single_feature_imports_and_reimport_updates_instead_of_duplicating() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let one = dir.path().join("one.geojson");
    std::fs::write(&one, r#"{"type":"Feature","id":"T-STATUE-1","properties":{"kind":"statue","name":"Netaji statue, Shyambazar"},"geometry":{"type":"Point","coordinates":[88.3745,22.6012]}}"#).unwrap();
    assert!(import(&db, &one, &[]).status.success());
    assert!(import(&db, &fixture("sample_4326.geojson"), &[])
        .status
        .success());
    assert!(import(&db, &fixture("sample_4326.geojson"), &[])
        .status
        .success());
    let got = heritage(&db).await;
    assert_eq!(got.len(), 4);
    assert_eq!(
        by_code(&got, "T-STATUE-1").attrs.name.as_deref(),
        Some("Netaji statue, Shyambazar")
    );
    // The same file again changes nothing: no new version.
    assert_eq!(by_code(&got, "T-HER-1").version, 1);
    let out = import(&db, &fixture("sample_4326.geojson"), &[]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("(0 new, 0 updated, 3 unchanged)"), "{said}");
    // A changed file updates in place, one version more.
    let changed = dir.path().join("changed.geojson");
    std::fs::write(&changed, r#"{"type":"Feature","id":"T-STATUE-1","properties":{"kind":"statue","name":"Netaji Subhas Chandra Bose statue, Shyambazar"},"geometry":{"type":"Point","coordinates":[88.3745,22.6012]}}"#).unwrap();
    assert!(import(&db, &changed, &[]).status.success());
    let got = heritage(&db).await;
    assert_eq!(got.len(), 4);
    assert_eq!(by_code(&got, "T-STATUE-1").version, 2);
}

/// A file that holds one code twice writes it twice, in file order (one version each), on
/// both databases: PostgreSQL refuses an upsert statement that touches a row twice, so the
/// importer starts a new statement there.
#[tokio::test(flavor = "multi_thread")]
async fn a_code_twice_in_one_file_is_written_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let twice = dir.path().join("twice.geojson");
    std::fs::write(&twice, r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","id":"T-TWICE-1","properties":{"kind":"statue","name":"First name"},"geometry":{"type":"Point","coordinates":[88.3745,22.6012]}},
        {"type":"Feature","id":"T-OTHER-1","properties":{"kind":"statue","name":"Other"},"geometry":{"type":"Point","coordinates":[88.3746,22.6013]}},
        {"type":"Feature","id":"T-TWICE-1","properties":{"kind":"statue","name":"Second name"},"geometry":{"type":"Point","coordinates":[88.3745,22.6012]}}]}"#).unwrap();
    let out = import(&db, &twice, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("(2 new, 1 updated, 0 unchanged)"), "{said}");
    let got = heritage(&db).await;
    assert_eq!(
        by_code(&got, "T-TWICE-1").attrs.name.as_deref(),
        Some("Second name")
    );
    assert_eq!(by_code(&got, "T-TWICE-1").version, 2);
}

/// Each bad file: (name, content, extra args, text the error must contain).
#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_whole_naming_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    assert!(import(&db, &fixture("sample_4326.geojson"), &[])
        .status
        .success());
    let before = heritage(&db).await;

    let good = r#"{"type":"Feature","properties":{"code":"NEW-1","name":"Fine"},"geometry":{"type":"Point","coordinates":[88.35,22.55]}}"#;
    let feature = |props: &str, geom: &str| {
        format!(r#"{{"type":"Feature","properties":{props},"geometry":{geom}}}"#)
    };
    let seq = |bad: String| format!("{good}\n{good}\n{bad}\n");
    let cases: Vec<(&str, String, Vec<&str>, &str)> = vec![
        (
            "range.geojsonl",
            seq(feature(
                r#"{"code":"X"}"#,
                r#"{"type":"Point","coordinates":[200.0,22.5]}"#,
            )),
            vec![],
            "outside longitude",
        ),
        (
            "nan.csv",
            "code,name,lon,lat\nA,ok,88.3,22.5\nB,bad,NaN,22.5\n".to_string(),
            vec![],
            "not a finite number",
        ),
        (
            "inf.csv",
            "code,name,lon,lat\nB,bad,88.3,inf\n".to_string(),
            vec![],
            "not a finite number",
        ),
        (
            "unclosed.geojsonl",
            seq(feature(
                r#"{"code":"X"}"#,
                r#"{"type":"Polygon","coordinates":[[[88.30,22.50],[88.31,22.50],[88.31,22.51],[88.30,22.51]]]}"#,
            )),
            vec![],
            "not closed",
        ),
        (
            "bowtie.geojsonl",
            seq(feature(
                r#"{"code":"X"}"#,
                r#"{"type":"Polygon","coordinates":[[[88.30,22.50],[88.31,22.51],[88.31,22.50],[88.30,22.51],[88.30,22.50]]]}"#,
            )),
            vec![],
            "self-intersection",
        ),
        (
            "kind.geojsonl",
            seq(feature(
                r#"{"code":"X","kind":"castle"}"#,
                r#"{"type":"Point","coordinates":[88.3,22.5]}"#,
            )),
            vec![],
            "unknown kind \"castle\"",
        ),
        (
            "wrongkind.geojsonl",
            seq(feature(
                r#"{"code":"X","kind":"pond"}"#,
                r#"{"type":"Point","coordinates":[88.3,22.5]}"#,
            )),
            vec![],
            "does not belong in layer heritage",
        ),
        (
            "grade.geojsonl",
            seq(feature(
                r#"{"code":"X","grade":"V"}"#,
                r#"{"type":"Point","coordinates":[88.3,22.5]}"#,
            )),
            vec![],
            "unknown grade",
        ),
        (
            "line.geojsonl",
            seq(feature(
                r#"{"code":"X"}"#,
                r#"{"type":"LineString","coordinates":[[88.3,22.5],[88.4,22.6]]}"#,
            )),
            vec![],
            "line geometry does not belong",
        ),
        (
            "short.geojsonl",
            seq(feature(
                r#"{"code":"X"}"#,
                r#"{"type":"Point","coordinates":[88.3]}"#,
            )),
            vec![],
            "at least two numbers",
        ),
        (
            "broken.geojsonl",
            format!("{good}\n{{\"type\":\"Feature\",\n"),
            vec![],
            "invalid JSON",
        ),
        (
            "cap.geojson",
            std::fs::read_to_string(fixture("sample_4326.geojson")).unwrap(),
            vec!["--max-vertices", "4"],
            "exceed the cap of 4",
        ),
        (
            "crs.geojson",
            std::fs::read_to_string(fixture("sample_4326.geojson")).unwrap(),
            vec!["--crs", "EPSG:1"],
            "EPSG:1",
        ),
    ];
    for (name, content, args, expect) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, content).unwrap();
        let out = import(&db, &file, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} was accepted");
        assert!(
            stderr.contains(expect),
            "{name}: expected {expect:?} in: {stderr}"
        );
        assert!(stderr.contains("nothing was written"), "{name}: {stderr}");
        if name.ends_with(".geojsonl") && name != "broken.geojsonl" {
            assert!(
                stderr.contains("feature 2"),
                "{name} must name the feature: {stderr}"
            );
        }
        assert_eq!(heritage(&db).await, before, "{name} changed the database");
    }

    // An unknown layer is refused by the command line itself.
    let out = import_into(&db, &fixture("sample_4326.geojson"), "castles", &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown layer \"castles\""));
    assert_eq!(heritage(&db).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn export_streams_a_layer_that_imports_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    assert!(import(&db, &fixture("sample_4326.geojson"), &[])
        .status
        .success());
    let out_file = dir.path().join("heritage.geojson");
    let out = bin()
        .arg("--db")
        .arg(common::db_arg(&db))
        .args(["export", "--layer", "heritage", "--format", "geojson", "-o"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&out_file).unwrap();
    let fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(fc["features"].as_array().unwrap().len(), 3);

    let db2 = dir.path().join("b.db");
    assert!(import(&db2, &out_file, &[]).status.success());
    let (a, b) = (heritage(&db).await, heritage(&db2).await);
    for x in &a {
        let y = by_code(&b, &x.code);
        assert_eq!(x.geometry, y.geometry);
        assert_eq!(x.attrs, y.attrs);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_held_by_another_layer_is_refused_not_moved() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    assert!(import(&db, &fixture("sample_4326.geojson"), &[])
        .status
        .success());
    let before = heritage(&db).await;
    let pond = dir.path().join("pond.geojson");
    std::fs::write(&pond, r#"{"type":"Feature","properties":{"code":"T-HER-1","kind":"pond"},"geometry":{"type":"Polygon","coordinates":[[[88.30,22.50],[88.31,22.50],[88.31,22.51],[88.30,22.50]]]}}"#).unwrap();
    let out = import_into(&db, &pond, "water_bodies", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("T-HER-1 already belongs to an asset of layer heritage"),
        "{stderr}"
    );
    assert_eq!(heritage(&db).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn database_url_names_the_database_when_db_is_not_given() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-env.db");
    let out = bin()
        .env("DATABASE_URL", &db)
        .arg("import")
        .arg(fixture("sample_4326.geojson"))
        .args(["--layer", "heritage"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists(), "DATABASE_URL was not used");
    assert_eq!(heritage(&db).await.len(), 3);
}

/// A code whose number would not fit in 64 bits (an import may bring any code) does not
/// stop the register from numbering the next asset made without one.
#[tokio::test]
async fn a_code_too_long_to_count_does_not_stop_new_codes() {
    use heritage_atlas::model::Kind;
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_store(&dir.path().join("t.db")).await;
    let square = || common::rect_polygon(88.36, 22.55, 0.001, 0.001, 0.0);
    let change = heritage_atlas::store::EditContext::import("test");
    let mut tx = store.begin_import(&change).await.unwrap();
    for code in [
        "HER-0041",
        "HER-99999999999999999999",
        "HER-123456789012345678901x",
    ] {
        let a = common::asset(Layer::Heritage, Kind::Building, code.into(), square());
        tx.upsert(&a).await.unwrap();
    }
    let mut fresh = common::asset(Layer::Heritage, Kind::Building, String::new(), square());
    fresh.code = None;
    let (made, _) = tx.upsert(&fresh).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(made.code, "HER-0042");
}
