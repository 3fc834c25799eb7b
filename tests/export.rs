//! `heritage-atlas export` writes the very bytes `/collections/{id}/items` downloads, in
//! every format, with and without a filter and in another CRS — while streaming from the
//! store instead of loading the layer (the server's download is the oracle).

mod common;

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
            wanted.push((*layer, format, *filter, *crs, want));
        }
    }
    srv.stop().await;
    for (layer, format, filter, crs, want) in wanted {
        let out = dir.path().join(format!("out.{format}"));
        let mut cmd = common::bin();
        cmd.arg("--db")
            .arg(&db)
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
        assert!(want.len() > 100, "{layer} {format}: {} bytes", want.len());
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
        .arg(&db)
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
