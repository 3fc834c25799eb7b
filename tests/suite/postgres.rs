//! PostgreSQL + PostGIS as the store, read by a client we did not write: GDAL's
//! PostgreSQL driver lists the layers the server keeps, with their geometry, spatial
//! reference and fields, and reads the same features the server serves.
//!
//! Runs when `HERITAGE_ATLAS_TEST_POSTGRES` names a server (`scripts/test-postgres.sh`,
//! as `.ci/run` does); without it the test says so and passes.

use crate::common;

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

/// `PG:"…"` for a `postgres://user:password@host:port/database` URL.
fn gdal_source(url: &str) -> String {
    let u = url::Url::parse(url).expect("a PostgreSQL URL");
    format!(
        "PG:dbname={} host={} port={} user={} password={}",
        u.path().trim_start_matches('/'),
        u.host_str().unwrap_or("127.0.0.1"),
        u.port().unwrap_or(5432),
        u.username(),
        u.password().unwrap_or("")
    )
}

fn ogrinfo(args: &[&str]) -> String {
    let out = Command::new("ogrinfo")
        .args(args)
        .output()
        .expect("ogrinfo (gdal-bin) runs");
    assert!(
        out.status.success(),
        "ogrinfo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdal_reads_the_layers_the_server_serves() {
    if std::env::var_os("HERITAGE_ATLAS_TEST_POSTGRES").is_none() {
        eprintln!(
            "skipped: HERITAGE_ATLAS_TEST_POSTGRES is not set (scripts/test-postgres.sh sets it)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gdal.db");
    let srv = common::TestServer::start(&db, true).await;
    let source = gdal_source(&common::database_url(&db).await);

    let listing = ogrinfo(&["-ro", "-q", &source]);
    for layer in [
        "heritage",
        "water_bodies",
        "parks",
        "wards",
        "complaint_pins",
    ] {
        assert!(
            listing.lines().any(|l| l.contains(&format!(": {layer}"))),
            "{layer} not listed:\n{listing}"
        );
    }

    let (status, health) = srv.get("/health").await;
    assert_eq!(status, 200);
    for layer in ["heritage", "water_bodies", "parks", "wards"] {
        let summary = ogrinfo(&["-ro", "-so", &source, layer]);
        let count: u64 = summary
            .lines()
            .find_map(|l| l.strip_prefix("Feature Count: "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no feature count for {layer}:\n{summary}"));
        assert_eq!(Some(count), health["layers"][layer].as_u64(), "{layer}");
        assert!(summary.contains("Geometry Column = geom"), "{summary}");
        assert!(summary.contains("ID[\"EPSG\",4326]"), "{summary}");
        for field in [
            "code: String",
            "name: String",
            "name_bn: String",
            "ward: Integer64",
        ] {
            assert!(summary.contains(field), "{layer} lacks {field}:\n{summary}");
        }
    }

    // The heritage layer as GDAL reads it from the database, against the server's own
    // answer: the same codes, names and bounding boxes.
    let out = Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "/vsistdout/", &source, "heritage"])
        .output()
        .expect("ogr2ogr runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gdal: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (status, ours) = srv.get("/collections/heritage/items?limit=1000").await;
    assert_eq!(status, 200);
    let summary = |fc: &Value| -> BTreeMap<String, (String, [i64; 4])> {
        fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let p = &f["properties"];
                let g: geo_types::Geometry<f64> =
                    geojson::Geometry::from_json_value(f["geometry"].clone())
                        .unwrap()
                        .try_into()
                        .unwrap();
                let r = geo::BoundingRect::bounding_rect(&g).unwrap();
                // Micro-degrees: the server's GeoJSON rounds coordinates.
                let q = |v: f64| (v * 1e6).round() as i64;
                (
                    p["code"].as_str().unwrap().to_owned(),
                    (
                        p["name"].as_str().unwrap_or_default().to_owned(),
                        [q(r.min().x), q(r.min().y), q(r.max().x), q(r.max().y)],
                    ),
                )
            })
            .collect()
    };
    let (theirs, ours) = (summary(&gdal), summary(&ours));
    assert_eq!(theirs.len(), 62);
    assert_eq!(theirs, ours);
    srv.stop().await;

    // `backup` is SQLite's copy; on PostgreSQL it says what to use instead.
    let out = common::bin()
        .args(["--db", &common::database_url(&db).await, "backup"])
        .arg(dir.path().join("copy"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}
