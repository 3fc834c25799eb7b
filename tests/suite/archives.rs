//! PMTiles archives: the street basemap (`serve --basemap`), archives `tiles build` makes
//! (byte for byte the server's tiles), and `serve --archive`.

use crate::common;

use std::io::Read;
use std::path::Path;

use common::TestServer;
use geozero::mvt::{Message, Tile};
use heritage_atlas::tiles::archive::{self, Archive};
use heritage_atlas::tiles::synth_basemap;
use serde_json::Value;

/// Victoria Memorial.
const VM: (f64, f64) = (88.3426, 22.5448);

fn tile_of(lon: f64, lat: f64, z: u8) -> (u8, u32, u32) {
    let t = heritage_atlas::tiles::TileCoord::containing(lon, lat, z);
    (t.z, t.x, t.y)
}

/// Tile `t` of an archive, unzipped; `None` where it holds none.
async fn stored(archive: &Archive, t: heritage_atlas::tiles::TileCoord) -> Option<Vec<u8>> {
    archive
        .tile(t.z, t.x, t.y)
        .await
        .unwrap()
        .map(|b| gunzip(&b))
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b)
        .read_to_end(&mut out)
        .unwrap();
    out
}

async fn start_with_archives(dir: &Path, archives: Vec<Archive>) -> TestServer {
    TestServer::start_with(&dir.join("a.db"), true, move |mut s| {
        for a in archives {
            s = s.with_archive(a);
        }
        s.with_rate_limit(0)
    })
    .await
}

#[tokio::test]
async fn the_basemap_is_served_by_range_and_drawn_under_the_register() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("streets.pmtiles");
    let written = synth_basemap::write(&file).unwrap();
    assert!(written > 100, "{written}");
    let plain = TestServer::start(&dir.path().join("plain.db"), true).await;
    let (_, plain_style) = plain.get("/styles/heritage.json").await;
    let (s, _) = plain.get("/tiles/basemap.json").await;
    assert_eq!(s, 404, "no basemap without --basemap");
    plain.stop().await;

    let basemap = Archive::open(archive::BASEMAP, &file).await.unwrap();
    let srv = start_with_archives(dir.path(), vec![basemap]).await;
    let c = reqwest::Client::new();

    // TileJSON: zooms and bounds of the archive, OpenStreetMap's attribution, its layers.
    let (s, tj) = srv.get("/tiles/basemap.json").await;
    assert_eq!(s, 200);
    assert_eq!(tj["minzoom"], synth_basemap::MINZOOM);
    assert_eq!(tj["maxzoom"], synth_basemap::MAXZOOM);
    assert!(tj["attribution"]
        .as_str()
        .unwrap()
        .contains("OpenStreetMap"));
    assert_eq!(
        tj["tiles"][0],
        srv.url("/tiles/basemap/{z}/{x}/{y}.mvt").as_str()
    );
    let ids: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"roads") && ids.contains(&"places"), "{ids:?}");

    // The z15 tile over Victoria Memorial: streets with English and Bengali names.
    let (z, x, y) = tile_of(VM.0, VM.1, 15);
    let url = srv.url(&format!("/tiles/basemap/{z}/{x}/{y}.mvt"));
    let gz = c
        .get(&url)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.status().as_u16(), 200);
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_eq!(
        gz.headers()["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    let etag = gz.headers()["etag"].to_str().unwrap().to_string();
    let gz_body = gz.bytes().await.unwrap();
    let plain_body = c
        .get(&url)
        .header("Accept-Encoding", "identity")
        .send()
        .await
        .unwrap();
    assert!(plain_body.headers().get("content-encoding").is_none());
    let raw = plain_body.bytes().await.unwrap();
    assert_eq!(
        gunzip(&gz_body),
        raw.to_vec(),
        "the same tile in both codings"
    );
    let tile = Tile::decode(&raw[..]).unwrap();
    let roads = tile.layers.iter().find(|l| l.name == "roads").unwrap();
    assert!(!roads.features.is_empty());
    let values: Vec<&str> = roads
        .values
        .iter()
        .filter_map(|v| v.string_value.as_deref())
        .collect();
    assert!(values.iter().any(|v| v.starts_with("লেন")), "{values:?}");
    assert!(values.contains(&"major_road"), "{values:?}");
    // Revalidation, a tile past the archive's zooms (MapLibre draws from above), and one
    // outside it: 304, 204, 204.
    let r = c
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 304);
    let status = |path: String| {
        let r = c.get(srv.url(&path)).send();
        async move { r.await.unwrap().status().as_u16() }
    };
    let (z, x, y) = tile_of(VM.0, VM.1, 16);
    assert_eq!(status(format!("/tiles/basemap/{z}/{x}/{y}.mvt")).await, 204);
    assert_eq!(status("/tiles/basemap/15/0/0.mvt".into()).await, 204);
    assert_eq!(status("/tiles/basemap/3/9/0.mvt".into()).await, 400);

    // The style: the basemap's source, and its layers between our background and our
    // first layer; everything else as without it.
    let (_, style) = srv.get("/styles/heritage.json").await;
    assert_eq!(style["metadata"]["heritage-atlas:basemap"], true);
    assert_eq!(
        style["sources"]["basemap"]["url"],
        srv.url("/tiles/basemap.json").as_str()
    );
    let layers = style["layers"].as_array().unwrap();
    let own: Vec<&Value> = layers.iter().filter(|l| l["source"] != "basemap").collect();
    let plain_layers: Vec<&Value> = plain_style["layers"].as_array().unwrap().iter().collect();
    assert_eq!(own, plain_layers, "our layers unchanged, in order");
    let first_basemap = layers
        .iter()
        .position(|l| l["source"] == "basemap")
        .unwrap();
    let last_basemap = layers
        .iter()
        .rposition(|l| l["source"] == "basemap")
        .unwrap();
    assert_eq!(first_basemap, 1, "right above the background");
    assert!(layers[first_basemap..=last_basemap]
        .iter()
        .all(|l| l["source"] == "basemap"));
    for l in &layers[first_basemap..=last_basemap] {
        assert!(
            l.get("layout").and_then(|v| v.get("icon-image")).is_none(),
            "no sprite: {l}"
        );
        // Every font named anywhere in the layer (text-font may be an expression, and
        // `format` sections name their own) is one we serve.
        let mut fonts = Vec::new();
        strings(l, &mut fonts);
        for f in fonts.iter().filter(|f| f.starts_with("Noto")) {
            assert!(
                ["Noto Sans Regular", "Noto Sans Bold"].contains(&f.as_str()),
                "{f} is not served: {}",
                l["id"]
            );
        }
    }
    let kinds: Vec<&str> = layers[first_basemap..=last_basemap]
        .iter()
        .filter_map(|l| l["source-layer"].as_str())
        .collect();
    for want in ["landuse", "water", "roads", "buildings", "places"] {
        assert!(kinds.contains(&want), "{want} in {kinds:?}");
    }
    let mut without_basemap = style.clone();
    without_basemap["sources"]
        .as_object_mut()
        .unwrap()
        .remove("basemap");
    without_basemap["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("heritage-atlas:basemap");
    without_basemap["layers"] = Value::Array(own.into_iter().cloned().collect());
    let mut plain_rebased = plain_style.clone();
    // The plain server's links name its own address.
    let plain_text = serde_json::to_string(&plain_rebased).unwrap();
    let plain_port = plain_text
        .split("http://127.0.0.1:")
        .nth(1)
        .map(|s| s.split('/').next().unwrap().to_string())
        .unwrap();
    plain_rebased = serde_json::from_str(
        &plain_text.replace(&format!("127.0.0.1:{plain_port}"), &srv.addr.to_string()),
    )
    .unwrap();
    assert_eq!(without_basemap, plain_rebased);
    srv.stop().await;
}

/// `tiles build` draws every non-empty tile with the server's renderer: each tile of the
/// archive is the server's, byte for byte, and every tile the server draws non-empty in
/// the box is in the archive. Then `serve --archive` serves it, file and tiles.
#[tokio::test]
async fn a_built_archive_holds_the_servers_tiles_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let srv = TestServer::start(&db, true).await;
    srv.stop().await;
    let out = dir.path().join("city.pmtiles");
    let bbox = "88.33,22.53,88.37,22.57";
    let run = common::bin()
        .args([
            "--db",
            &common::db_arg(&db),
            "tiles",
            "build",
            "-o",
            out.to_str().unwrap(),
            "--minzoom",
            "10",
            "--maxzoom",
            "15",
            "--bbox",
            bbox,
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(report.contains("wrote"), "{report}");

    // A box with nothing in it is said, not written as an empty archive.
    let empty = dir.path().join("empty.pmtiles");
    let run = common::bin()
        .args(["--db", &common::db_arg(&db), "tiles", "build", "-o"])
        .arg(&empty)
        .args(["--minzoom", "8", "--maxzoom", "9", "--bbox", "0,0,1,1"])
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("no tile held anything"));
    assert!(!empty.exists());

    let built = Archive::open("city", &out).await.unwrap();
    assert!(built.gzipped);
    assert_eq!((built.minzoom, built.maxzoom), (10, 15));
    let names: Vec<String> = built.metadata["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["heritage", "water_bodies", "parks", "wards", "labels"]
    );
    let srv = start_with_archives(dir.path(), vec![built]).await;
    let archive = Archive::open("check", &out).await.unwrap();
    let c = reqwest::Client::new();
    let mut compared = 0;
    for z in 10..=15u8 {
        for t in heritage_atlas::tiles::build::covering([88.33, 22.53, 88.37, 22.57], z) {
            let r = c
                .get(srv.url(&format!(
                    "/tiles/heritage,water_bodies,parks,wards/{}/{}/{}.mvt",
                    t.z, t.x, t.y
                )))
                .header("Accept-Encoding", "identity")
                .send()
                .await
                .unwrap();
            let server = match r.status().as_u16() {
                200 => Some(r.bytes().await.unwrap().to_vec()),
                204 => None,
                s => panic!("status {s}"),
            };
            let stored = stored(&archive, t).await;
            assert_eq!(stored, server, "tile {}/{}/{}", t.z, t.x, t.y);
            compared += usize::from(server.is_some());
        }
    }
    assert!(compared > 30, "{compared}");

    // Served as an archive: its TileJSON, a tile, and the file by range.
    let (s, tj) = srv.get("/tiles/city.json").await;
    assert_eq!(s, 200);
    assert_eq!(tj["maxzoom"], 15);
    let (z, x, y) = tile_of(VM.0, VM.1, 15);
    let from_archive = c
        .get(srv.url(&format!("/tiles/city/{z}/{x}/{y}.mvt")))
        .header("Accept-Encoding", "identity")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let from_server = c
        .get(srv.url(&format!(
            "/tiles/heritage,water_bodies,parks,wards/{z}/{x}/{y}.mvt"
        )))
        .header("Accept-Encoding", "identity")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(!from_server.is_empty());
    assert_eq!(from_archive, from_server);
    let r = c
        .get(srv.url("/archives/city.pmtiles"))
        .header("Range", "bytes=0-6")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(&r.bytes().await.unwrap()[..], b"PMTiles");
    let (s, _) = srv.get("/archives/other.pmtiles").await;
    assert_eq!(s, 404);
    srv.stop().await;
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(m) => m.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn archive_names_stay_clear_of_the_registers() {
    assert!(archive::check_name("city").is_ok());
    assert!(archive::check_name("city-2026_11").is_ok());
    for taken in ["basemap", "heritage", "heritage,parks", "wards"] {
        assert!(archive::check_name(taken).is_err(), "{taken}");
    }
    for bad in ["", "City", "a/b", "a.b", &"x".repeat(65)] {
        assert!(archive::check_name(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn what_is_not_a_vector_archive_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("junk.pmtiles");
    std::fs::write(&f, b"not an archive at all, just bytes").unwrap();
    let e = Archive::open("junk", &f).await.unwrap_err().to_string();
    assert!(e.contains("junk.pmtiles"), "{e}");
    let missing = Archive::open("gone", &dir.path().join("gone.pmtiles")).await;
    assert!(missing.is_err());
}

/// `tiles build --as-of`: the register as it stood then, as the server draws it with
/// `?as_of=` — not as it stands now.
#[tokio::test]
async fn an_archive_as_of_an_instant_is_the_servers_map_of_then() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let srv = TestServer::start(&db, true).await;
    let officer =
        common::add_user(&srv, "officer", heritage_atlas::model::Role::Officer, None).await;
    let (_, vm) = srv.get("/assets/HER-0001").await;
    let id = vm["id"].as_i64().unwrap();
    let (_, versions) = srv.get(&format!("/assets/{id}/versions")).await;
    let then = versions["versions"][0]["at"].as_str().unwrap().to_string();
    let path = format!("/collections/heritage/items/{id}");
    let c = reqwest::Client::new();
    let etag = c.get(srv.url(&path)).send().await.unwrap().headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let r = c
        .patch(srv.url(&path))
        .bearer_auth(&officer)
        .header("Content-Type", "application/merge-patch+json")
        .header("If-Match", etag)
        .body(r#"{"properties": {"name": "Victoria Memorial Hall, renamed"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    srv.stop().await;

    let out = dir.path().join("then.pmtiles");
    let (w, s, e, n) = (VM.0 - 0.01, VM.1 - 0.01, VM.0 + 0.01, VM.1 + 0.01);
    let run = common::bin()
        .args(["--db", &common::db_arg(&db), "tiles", "build", "-o"])
        .arg(&out)
        .args(["--minzoom", "14", "--maxzoom", "15", "--as-of", &then])
        .arg(format!("--bbox={w},{s},{e},{n}"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let archive = Archive::open("then", &out).await.unwrap();
    assert_eq!(archive.metadata["as_of"], then.as_str());

    let srv = TestServer::start(&db, true).await;
    let as_of = then.replace(':', "%3A").replace('+', "%2B");
    let get = |path: String| {
        let r = c
            .get(srv.url(&path))
            .header("Accept-Encoding", "identity")
            .send();
        async move {
            let r = r.await.unwrap();
            match r.status().as_u16() {
                200 => Some(r.bytes().await.unwrap().to_vec()),
                204 => None,
                s => panic!("{path}: {s}"),
            }
        }
    };
    let (mut compared, mut changed) = (0, 0);
    for z in 14..=15u8 {
        for t in heritage_atlas::tiles::build::covering([w, s, e, n], z) {
            let tile = format!(
                "/tiles/heritage,water_bodies,parks,wards/{}/{}/{}.mvt",
                t.z, t.x, t.y
            );
            let past = get(format!("{tile}?as_of={as_of}")).await;
            let stored = stored(&archive, t).await;
            assert_eq!(stored, past, "tile {}/{}/{} as of {then}", t.z, t.x, t.y);
            compared += usize::from(past.is_some());
            changed += usize::from(get(tile).await != past);
        }
    }
    assert!(
        compared > 0 && changed > 0,
        "{compared} compared, {changed} changed since"
    );
    srv.stop().await;
}
