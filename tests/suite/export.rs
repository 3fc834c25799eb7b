//! `heritage-atlas export` writes the very bytes `/collections/{id}/items` downloads, in
//! every format, with and without a filter and in another CRS — while streaming from the
//! store instead of loading the layer (the server's download is the oracle).

use crate::common;

use common::TestServer;

async fn download(srv: &TestServer, path: &str) -> Vec<u8> {
    let r = reqwest::get(srv.url(path)).await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn an_export_is_the_same_bytes_as_the_download() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("e.db");
    let srv = TestServer::start(&db, true).await;
    // A delisted asset is in neither.
    let gone = srv
        .atlas
        .store()
        .get_asset_by_code("HER-0003")
        .await
        .unwrap()
        .unwrap();
    srv.atlas
        .delist(
            gone.id,
            "demolished",
            &heritage_atlas::store::EditContext::import("test"),
        )
        .await
        .unwrap()
        .expect("listed before");
    let crs3857 = "http%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FEPSG%2F0%2F3857";
    // (layer, query string for the server, --filter, --crs)
    let cases: Vec<(&str, String, Option<&str>, Option<&str>)> = vec![
        ("heritage", String::new(), None, None),
        ("water_bodies", String::new(), None, None),
        ("parks", String::new(), None, None),
        (
            "heritage",
            "&filter=grade%20IN%20('I','IIA')".into(),
            Some("grade IN ('I','IIA')"),
            None,
        ),
        (
            "water_bodies",
            "&filter=ward%20%3E%2060".into(),
            Some("ward > 60"),
            None,
        ),
        (
            "heritage",
            format!("&crs={crs3857}"),
            None,
            Some("EPSG:3857"),
        ),
    ];
    let mut wanted = Vec::new();
    for (layer, q, filter, crs) in &cases {
        for (format, f) in [
            ("fgb", "fgb"),
            ("csv", "csv"),
            ("geojson", "json&download=true"),
        ] {
            let want = download(&srv, &format!("/collections/{layer}/items?f={f}{q}")).await;
            if format != "fgb" {
                let text = String::from_utf8_lossy(&want);
                assert!(
                    !text.contains(&gone.code),
                    "{layer} {format}: delisted asset"
                );
            }
            wanted.push((*layer, format, *filter, *crs, want));
        }
    }
    srv.stop().await;
    for (layer, format, filter, crs, want) in wanted {
        let out = dir.path().join(format!("out.{format}"));
        let mut cmd = common::bin();
        cmd.arg("--db")
            .arg(common::db_arg(&db))
            .args(["export", "--layer", layer, "--format", format, "-o"])
            .arg(&out);
        if let Some(f) = filter {
            cmd.args(["--filter", f]);
        }
        if let Some(c) = crs {
            cmd.args(["--crs", c]);
        }
        let st = cmd.output().unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        let got = std::fs::read(&out).unwrap();
        assert!(want.len() > 20, "{layer} {format}: {} bytes", want.len());
        assert!(
            got == want,
            "{layer} {format} filter {filter:?} crs {crs:?}: {} bytes exported, {} downloaded",
            got.len(),
            want.len()
        );
    }
    // Standard output, FlatGeobuf (written aside, then copied).
    let st = common::bin()
        .arg("--db")
        .arg(common::db_arg(&db))
        .args(["export", "--layer", "heritage", "--format", "fgb"])
        .output()
        .unwrap();
    assert!(st.status.success());
    let srv = TestServer::start(&db, true).await;
    assert_eq!(
        st.stdout,
        download(&srv, "/collections/heritage/items?f=fgb").await
    );
    srv.stop().await;
}

/// The export's reader (a snapshot on a connection of its own, its rows read by position)
/// decodes every stored asset as the store's own reader (sqlx, rows read by name) does:
/// the bundled register, and two assets with every optional field and extras of each
/// JSON type.
#[tokio::test]
async fn a_snapshot_reads_what_the_store_reads() {
    use heritage_atlas::model::{Condition, Grade, Kind, Layer, WaterStatus};
    use serde_json::json;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    TestServer::start(&db, true).await.stop().await;
    let store = common::open_store(&db).await;
    let square = || common::rect_polygon(88.36, 22.55, 0.001, 0.001, 0.3);
    let mut full = common::asset(Layer::Heritage, Kind::Building, "HER-9001".into(), square());
    full.attrs.name_bn = Some("ভবন".into());
    full.attrs.ward = Some(63);
    full.attrs.borough = Some("VII".into());
    full.attrs.address = Some("1 Park Street".into());
    full.attrs.condition = Some(Condition::Poor);
    full.attrs.condition_assessed_at = Some("2026-11-01".into());
    full.attrs.last_maintained_at = Some("2025-03-02".into());
    full.attrs.grade = Some(Grade::IIA);
    full.attrs.year_built = Some(1885);
    full.attrs.owner = Some("KMC".into());
    full.attrs.protected = Some(false);
    full.attrs.source = Some("survey".into());
    full.attrs.extra =
        // A NUL in a value: kept as JSON text, which PostgreSQL's jsonb would refuse.
        json!({"s": "t\u{0}u", "n": 1.5, "b": true, "z": null, "a": [1, 2], "o": {"k": 1}})
            .as_object()
            .unwrap()
            .clone();
    let mut water = common::asset(Layer::WaterBodies, Kind::Pond, "WAT-9001".into(), square());
    water.attrs.status = Some(WaterStatus::Encroached);
    water.attrs.protected = Some(true);
    let mut tx = store
        .begin_import(&heritage_atlas::store::EditContext::import("test"))
        .await
        .unwrap();
    tx.upsert(&full).await.unwrap();
    tx.upsert(&water).await.unwrap();
    tx.commit().await.unwrap();

    let snap = store.snapshot().unwrap();
    let mut read = 0;
    for layer in Layer::ALL {
        let want = store.load_layer(*layer).await.unwrap();
        assert_eq!(snap.layer_count(*layer).unwrap(), want.len() as u64);
        assert_eq!(snap.load_layer(*layer).unwrap(), want, "{layer}");
        read += want.len();
    }
    assert!(read > 200, "{read} assets");
    assert_eq!(
        snap.layer_extra_keys(Layer::Heritage).unwrap(),
        ["a", "b", "n", "o", "s", "z"]
    );
    store.close().await;
}
