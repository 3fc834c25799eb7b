//! Vector tiles over real HTTP: the HTTP contract (ETag/304, gzip, 204, 400, 404),
//! exact invalidation on edits, and geometric properties on seeded random data checked
//! against a brute-force oracle; and the clipper's areas on seeded random polygons
//! checked against geo's boolean operations.

use crate::common;

use std::collections::BTreeSet;
use std::io::Read;

use common::{asset, rect_polygon, TestServer};
use geo::Intersects;
use geo_types::{Coord, Geometry, LineString, Rect};
use geozero::mvt::{Message, Tile};
use heritage_atlas::model::{Asset, Kind, Layer, NewAsset};
use heritage_atlas::store::EditContext;
use heritage_atlas::tiles::cache::TileKey;
use heritage_atlas::tiles::{coord, LayerSet, TileCoord, BUFFER, EXTENT};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

async fn fetch(srv: &TestServer, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let mut req = client.get(srv.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

async fn tile(srv: &TestServer, layers: &str, t: TileCoord) -> Option<Tile> {
    let r = fetch(
        srv,
        &format!("/tiles/{layers}/{}/{}/{}.mvt", t.z, t.x, t.y),
        &[],
    )
    .await;
    match r.status().as_u16() {
        204 => None,
        200 => Some(Tile::decode(r.bytes().await.unwrap()).unwrap()),
        s => panic!("tile {t:?}: status {s}"),
    }
}

/// Decodes one feature's geometry commands into rings/lines/points of tile coordinates.
fn decode_geometry(g: &[u32]) -> Vec<Vec<(i64, i64)>> {
    let mut parts: Vec<Vec<(i64, i64)>> = Vec::new();
    let (mut x, mut y, mut i) = (0i64, 0i64, 0usize);
    let zz = |v: u32| ((v >> 1) as i64) ^ -((v & 1) as i64);
    while i < g.len() {
        let (cmd, count) = (g[i] & 7, (g[i] >> 3) as usize);
        i += 1;
        match cmd {
            1 | 2 => {
                for _ in 0..count {
                    x += zz(g[i]);
                    y += zz(g[i + 1]);
                    i += 2;
                    if cmd == 1 {
                        parts.push(Vec::new());
                    }
                    parts.last_mut().unwrap().push((x, y));
                }
            }
            7 => {}
            c => panic!("unknown command {c}"),
        }
    }
    parts
}

fn ids(t: &Tile, layer: &str) -> BTreeSet<u64> {
    t.layers
        .iter()
        .filter(|l| l.name == layer)
        .flat_map(|l| l.features.iter().filter_map(|f| f.id))
        .collect()
}

fn name_of(t: &Tile, layer: &str, id: u64) -> Option<String> {
    let l = t.layers.iter().find(|l| l.name == layer)?;
    let f = l.features.iter().find(|f| f.id == Some(id))?;
    f.tags.chunks(2).find_map(|kv| {
        (l.keys[kv[0] as usize] == "name").then(|| {
            l.values[kv[1] as usize]
                .string_value
                .clone()
                .unwrap_or_default()
        })
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn http_contract_of_tiles_and_tilejson() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("atlas.db"), true).await;
    let vm = TileCoord::containing(88.3426, 22.5448, 14);
    let path = format!("/tiles/heritage,parks/{}/{}/{}.mvt", vm.z, vm.x, vm.y);

    let r = fetch(&srv, &path, &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.mapbox-vector-tile"
    );
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let raw = r.bytes().await.unwrap();
    let decoded = Tile::decode(raw.clone()).unwrap();
    let names: Vec<&str> = decoded.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names[..2], ["heritage", "parks"]);
    assert!(names.len() == 2 || names[2] == "labels", "{names:?}");
    assert!(decoded
        .layers
        .iter()
        .all(|l| l.version == 2 && l.extent == Some(EXTENT)));

    // Brotli or gzip when asked (brotli preferred), the same bytes inside; q=0 refuses.
    for (accept, coding) in [
        ("gzip", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0, gzip;q=0.8", "gzip"),
        ("identity", ""),
    ] {
        let r = fetch(&srv, &path, &[("accept-encoding", accept)]).await;
        let got = r
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        assert_eq!(got, coding, "Accept-Encoding: {accept}");
        let body = r.bytes().await.unwrap();
        let mut plain = Vec::new();
        match coding {
            "gzip" => {
                flate2::read::GzDecoder::new(&body[..])
                    .read_to_end(&mut plain)
                    .unwrap();
            }
            "br" => {
                brotli::Decompressor::new(&body[..], 4096)
                    .read_to_end(&mut plain)
                    .unwrap();
            }
            _ => plain = body.to_vec(),
        }
        assert_eq!(plain, raw, "{accept}");
    }

    // Revalidation.
    let r = fetch(&srv, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status(), 304);
    assert_eq!(
        fetch(&srv, &path, &[("if-none-match", "\"other\"")])
            .await
            .status(),
        200
    );

    // Nothing there: 204. Impossible tiles: 400. Unknown layers: 404. All errors JSON.
    assert_eq!(
        fetch(&srv, "/tiles/heritage/14/0/0.mvt", &[])
            .await
            .status(),
        204
    );
    for bad in [
        "/tiles/heritage/23/0/0.mvt",
        "/tiles/heritage/3/8/0.mvt",
        "/tiles/heritage/3/0/-1.mvt",
        "/tiles/heritage/z/0/0.mvt",
    ] {
        let r = fetch(&srv, bad, &[]).await;
        assert_eq!(r.status(), 400, "{bad}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["description"].is_string(), "{bad}");
    }
    let r = fetch(&srv, "/tiles/heritage,castles/1/0/0.mvt", &[]).await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("castles"));

    // TileJSON 3.0 with absolute URLs and every layer's fields.
    let (s, tj) = srv
        .get("/tiles/heritage,water_bodies,parks,wards.json")
        .await;
    assert_eq!(s, 200);
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(
        tj["tiles"][0],
        format!(
            "http://{}/tiles/heritage,water_bodies,parks,wards/{{z}}/{{x}}/{{y}}.mvt",
            srv.addr
        )
    );
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        b[0] < 88.35 && b[2] > 88.35 && b[1] < 22.55 && b[3] > 22.55,
        "{b:?}"
    );
    let heritage = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "heritage")
        .unwrap();
    for f in ["id", "code", "name", "kind", "grade", "condition", "ward"] {
        assert!(heritage["fields"][f].is_string(), "field {f}");
    }
    assert_eq!(srv.get("/tiles/nothing.json").await.0, 404);

    // The style points at this server.
    let (s, style) = srv.get("/styles/heritage.json").await;
    assert_eq!(s, 200);
    assert!(style["glyphs"]
        .as_str()
        .unwrap()
        .starts_with(&format!("http://{}/fonts/", srv.addr)));
    let r = fetch(&srv, "/fonts/Noto%20Sans%20Regular/0-255.pbf", &[]).await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().len() > 1000);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_invalidates_exactly_the_tiles_it_touches_at_every_zoom() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("atlas.db"), true).await;
    let atlas = srv.atlas.clone();
    let vm = atlas
        .store()
        .get_asset_by_code("HER-0001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vm.attrs.name.as_deref(), Some("Victoria Memorial"));
    let (lon, lat) = (88.3426, 22.5448);
    let far = (88.3625, 22.5113); // Rabindra Sarobar, 4 km away
    let set = LayerSet::of(&[Layer::Heritage]);

    // Warm the cache: Victoria Memorial's tile at z10..z16, and one far tile at z16.
    let near_tiles: Vec<TileCoord> = (10..=16)
        .map(|z| TileCoord::containing(lon, lat, z))
        .collect();
    let far_tile = TileCoord::containing(far.0, far.1, 16);
    for t in near_tiles.iter().chain([&far_tile]) {
        tile(&srv, "heritage", *t).await;
        assert!(
            atlas.tiles().contains(&TileKey {
                layers: set,
                tile: *t
            }),
            "{t:?} cached"
        );
    }
    let z16 = tile(&srv, "heritage", near_tiles[6]).await.unwrap();
    assert_eq!(
        name_of(&z16, "heritage", vm.id.0 as u64).as_deref(),
        Some("Victoria Memorial")
    );

    // An officer renames it (through the atlas, the one write path).
    let mut edit = NewAsset {
        layer: vm.layer,
        code: Some(vm.code.clone()),
        kind: vm.kind,
        attrs: vm.attrs.clone(),
        geometry: vm.geometry.clone(),
    };
    edit.attrs.name = Some("Victoria Memorial Hall".into());
    atlas
        .upsert(&edit, &EditContext::import("test"))
        .await
        .unwrap();

    for t in &near_tiles {
        assert!(
            !atlas.tiles().contains(&TileKey {
                layers: set,
                tile: *t
            }),
            "{t:?} still cached after the edit"
        );
    }
    assert!(
        atlas.tiles().contains(&TileKey {
            layers: set,
            tile: far_tile
        }),
        "a tile elsewhere was dropped"
    );
    let z16 = tile(&srv, "heritage", near_tiles[6]).await.unwrap();
    assert_eq!(
        name_of(&z16, "heritage", vm.id.0 as u64).as_deref(),
        Some("Victoria Memorial Hall")
    );

    // Moved 3 km east: gone from its old tile, present in its new one.
    edit.geometry = {
        use geo::Translate;
        vm.geometry.translate(0.03, 0.0)
    };
    let new_tile = TileCoord::containing(lon + 0.03, lat, 16);
    tile(&srv, "heritage", new_tile).await;
    atlas
        .upsert(&edit, &EditContext::import("test"))
        .await
        .unwrap();
    assert!(!ids(
        &tile(&srv, "heritage", near_tiles[6])
            .await
            .unwrap_or_default(),
        "heritage"
    )
    .contains(&(vm.id.0 as u64)));
    assert!(
        ids(&tile(&srv, "heritage", new_tile).await.unwrap(), "heritage")
            .contains(&(vm.id.0 as u64))
    );

    // Delisted: gone from the map and the index; kept on record, marked delisted.
    atlas
        .delist(vm.id, "demolished", &EditContext::import("test"))
        .await
        .unwrap();
    assert!(!ids(
        &tile(&srv, "heritage", new_tile).await.unwrap_or_default(),
        "heritage"
    )
    .contains(&(vm.id.0 as u64)));
    assert!(atlas.index().get(vm.id).is_none());
    assert_eq!(
        atlas
            .store()
            .delisting(vm.id)
            .await
            .unwrap()
            .map(|d| d.reason),
        Some("demolished".to_string())
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tiles_hold_every_intersecting_feature_and_nothing_outside_the_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("props.db");
    let store = common::open_store(&db).await;
    let mut tx = store
        .begin_import(&EditContext::import("test"))
        .await
        .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut all = Vec::new();
    for i in 0..300 {
        let (x, y) = (
            rng.random_range(88.30..88.40),
            rng.random_range(22.50..22.60),
        );
        let (w, h) = (
            rng.random_range(0.0006..0.006),
            rng.random_range(0.0006..0.006),
        );
        let island = if i % 4 == 0 { 0.5 } else { 0.0 };
        let a = asset(
            Layer::WaterBodies,
            Kind::Pond,
            format!("P{i}"),
            rect_polygon(x, y, w, h, island),
        );
        all.push(tx.upsert(&a).await.unwrap().0);
    }
    for i in 0..100 {
        let g = Geometry::LineString(LineString::from(
            (0..6)
                .map(|_| {
                    (
                        rng.random_range(88.30..88.40),
                        rng.random_range(22.50..22.60),
                    )
                })
                .collect::<Vec<_>>(),
        ));
        let a = asset(Layer::WaterBodies, Kind::Canal, format!("C{i}"), g);
        all.push(tx.upsert(&a).await.unwrap().0);
    }
    tx.commit().await.unwrap();
    store.close().await;
    let srv = TestServer::start(&db, false).await;

    let mut checked = 0;
    let mut islands = 0;
    for _ in 0..60 {
        let z = rng.random_range(12..=16u8);
        let t = TileCoord::containing(
            rng.random_range(88.30..88.40),
            rng.random_range(22.50..22.60),
            z,
        );
        // Tile ↔ bbox round trip.
        let inner = t.lonlat_bounds(0);
        assert_eq!(
            TileCoord::containing(
                (inner.min().x + inner.max().x) / 2.0,
                (inner.min().y + inner.max().y) / 2.0,
                z
            ),
            t
        );

        let got = tile(&srv, "water_bodies", t)
            .await
            .map(|t| ids(&t, "water_bodies"))
            .unwrap_or_default();
        // Oracle: what meets the buffered tile, shrunk / grown by two units to allow for
        // snapping to the grid and dropping slivers thinner than a unit.
        let units = |u: f64| {
            let [a, b, c, d] = t.mercator_bounds();
            let m = (c - a) * u / f64::from(EXTENT);
            let (w, s) = coord::to_lonlat(a - m, b - m);
            let (e, n) = coord::to_lonlat(c + m, d + m);
            Rect::new(Coord { x: w, y: s }, Coord { x: e, y: n })
        };
        let must = units(f64::from(BUFFER) - 2.0);
        let may = units(f64::from(BUFFER) + 2.0);
        for a in &all {
            let id = a.id.0 as u64;
            if a.geometry.intersects(&must) {
                assert!(
                    got.contains(&id),
                    "z{z} {t:?}: {} meets the tile but is missing",
                    a.code
                );
            }
            if got.contains(&id) {
                assert!(
                    a.geometry.intersects(&may),
                    "z{z}: {} is in the tile but does not meet it",
                    a.code
                );
            }
        }
        // No coordinate outside the buffer; exterior rings positive, holes negative.
        if let Some(tl) = tile(&srv, "water_bodies", t).await {
            for l in &tl.layers {
                for f in &l.features {
                    let parts = decode_geometry(&f.geometry);
                    for p in &parts {
                        for &(x, y) in p {
                            let lim = i64::from(BUFFER);
                            assert!(
                                x >= -lim
                                    && x <= i64::from(EXTENT) + lim
                                    && y >= -lim
                                    && y <= i64::from(EXTENT) + lim,
                                "({x},{y})"
                            );
                        }
                    }
                    if f.r#type == Some(3) {
                        let pond = all
                            .iter()
                            .find(|a| Some(a.id.0 as u64) == f.id)
                            .expect("a feature of ours");
                        islands += check_rings(t, &parts, pond);
                    }
                    if f.r#type == Some(2) {
                        assert!(
                            parts
                                .iter()
                                .all(|l| l.len() >= 2 && l.windows(2).all(|w| w[0] != w[1])),
                            "zero-length line"
                        );
                    }
                }
            }
        }
        checked += got.len();
    }
    assert!(checked > 200, "too few features checked ({checked})");
    assert!(
        islands > 200,
        "too few islands (holes) checked ({islands}): their winding went untested"
    );
    srv.stop().await;
}

/// Twice the signed area of a decoded ring by MVT 2.1's formula (tile units, y down).
fn area2(r: &[(i64, i64)]) -> i64 {
    (0..r.len())
        .map(|i| {
            let (a, b) = (r[i], r[(i + 1) % r.len()]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// Checks the rings of `pond`'s polygon as decoded from tile `t`, and returns how many
/// holes it had. MVT 2.1 (4.3.4.4): by the spec's formula an exterior ring has positive
/// area (clockwise on screen, y down) and an interior ring negative; a hole wound like an
/// exterior is read as a second polygon drawn over the first. These ponds are single
/// rectangles with at most one rectangular island and their rings are clipped one by one,
/// so the first ring is the exterior and any other is the island's, lying where it does.
fn check_rings(t: TileCoord, parts: &[Vec<(i64, i64)>], pond: &Asset) -> usize {
    let code = &pond.code;
    assert!(
        parts.iter().all(|r| r.len() >= 3 && area2(r) != 0),
        "{t:?}: degenerate ring in {code}"
    );
    assert!(
        area2(&parts[0]) > 0,
        "{t:?}: the first ring of {code} must be exterior (positive)"
    );
    let Geometry::Polygon(pg) = &pond.geometry else {
        panic!("{code} is a polygon in the tile only");
    };
    // The island's box in tile units, clipped to the buffered square like the ring.
    let [mx0, _, mx1, my1] = t.mercator_bounds();
    let k = f64::from(EXTENT) / (mx1 - mx0);
    let (lo, hi) = (-f64::from(BUFFER), f64::from(EXTENT + BUFFER));
    let island = pg.interiors().first().map(|h| {
        let units: Vec<(f64, f64)> = h
            .coords()
            .map(|c| {
                let (mx, my) = coord::to_mercator(c.x, c.y);
                (
                    ((mx - mx0) * k).clamp(lo, hi),
                    ((my1 - my) * k).clamp(lo, hi),
                )
            })
            .collect();
        let min = |f: fn(&(f64, f64)) -> f64| units.iter().map(f).fold(f64::MAX, f64::min);
        let max = |f: fn(&(f64, f64)) -> f64| units.iter().map(f).fold(f64::MIN, f64::max);
        (min(|p| p.0), min(|p| p.1), max(|p| p.0), max(|p| p.1))
    });
    let holes = &parts[1..];
    for (i, r) in holes.iter().enumerate() {
        assert!(
            area2(r) < 0,
            "{t:?}: ring {} of {code} is its island's but winds like an exterior \
             (twice the area {})",
            i + 1,
            area2(r)
        );
        let (x0, y0, x1, y1) =
            island.unwrap_or_else(|| panic!("{t:?}: {code} has no island but a second ring"));
        let near = |v: i64, a: f64, b: f64| (a - 1.0..=b + 1.0).contains(&(v as f64));
        assert!(
            r.iter().all(|&(x, y)| near(x, x0, x1) && near(y, y0, y1)),
            "{t:?}: ring {} of {code} is not where its island is",
            i + 1
        );
    }
    // An island with at least 4×4 units inside the buffered tile is drawn, as a hole.
    if let Some((x0, y0, x1, y1)) = island {
        if x1 - x0 >= 4.0 && y1 - y0 >= 4.0 {
            assert_eq!(holes.len(), 1, "{t:?}: the island of {code} is missing");
        }
    }
    holes.len()
}

fn bare_asset(
    id: i64,
    layer: Layer,
    kind: Kind,
    name: &str,
    geometry: Geometry<f64>,
) -> heritage_atlas::model::Asset {
    heritage_atlas::model::Asset {
        id: heritage_atlas::model::AssetId(id),
        code: format!("T-{id}"),
        layer,
        kind,
        attrs: heritage_atlas::model::Attributes {
            name: Some(name.into()),
            ..Default::default()
        },
        area_m2: None,
        geometry,
        created_at: String::new(),
        updated_at: String::new(),
        version: 1,
        ward_from_location: false,
        lock: None,
    }
}

fn tag_keys(l: &geozero::mvt::tile::Layer, f: &geozero::mvt::tile::Feature) -> Vec<String> {
    f.tags
        .chunks(2)
        .map(|kv| l.keys[kv[0] as usize].clone())
        .collect()
}

#[test]
fn a_small_polygon_is_a_bare_dot_at_low_zoom_and_itself_up_close() {
    use heritage_atlas::index::{Index, LayerIndex};
    let index = Index::new();
    // A tank about 30 m across.
    let tank = bare_asset(
        1,
        Layer::WaterBodies,
        Kind::Tank,
        "Tiny tank",
        rect_polygon(88.35, 22.55, 0.0003, 0.0003, 0.0),
    );
    index.set_layer(Layer::WaterBodies, LayerIndex::bulk(vec![tank]));
    let water = LayerSet::of(&[Layer::WaterBodies]);

    let far =
        heritage_atlas::tiles::render(&index, water, TileCoord::containing(88.35015, 22.55015, 10));
    let far = Tile::decode(&far.bytes[..]).unwrap();
    let (l, f) = (&far.layers[0], &far.layers[0].features[0]);
    assert_eq!(f.r#type, Some(1), "a point at z10");
    assert_eq!(f.id, Some(1));
    let keys = tag_keys(l, f);
    assert!(
        keys.contains(&"kind".to_string()) && !keys.contains(&"name".to_string()),
        "{keys:?}"
    );

    let near =
        heritage_atlas::tiles::render(&index, water, TileCoord::containing(88.35015, 22.55015, 18));
    let near = Tile::decode(&near.bytes[..]).unwrap();
    let (l, f) = (&near.layers[0], &near.layers[0].features[0]);
    assert_eq!(f.r#type, Some(3), "a polygon at z18");
    assert!(tag_keys(l, f).contains(&"name".to_string()));
}

#[test]
fn an_overfull_tile_keeps_the_largest_features_under_the_cap_and_counts_the_rest() {
    use heritage_atlas::index::{Index, LayerIndex};
    use heritage_atlas::tiles::{render, MAX_TILE_BYTES};
    let t = TileCoord::containing(88.35, 22.55, 14);
    let b = t.lonlat_bounds(0);
    let (w, h) = (b.max().x - b.min().x, b.max().y - b.min().y);
    // 60,000 polygons under two pixels each (so sent as dots, and not thinned at z14),
    // each a little larger than the one before.
    let n = 60_000i64;
    let assets: Vec<_> = (0..n)
        .map(|i| {
            let (x, y) = (
                b.min().x + w * ((i % 240) as f64 + 0.5) / 240.0,
                b.min().y + h * ((i / 240) as f64 + 0.5) / 250.0,
            );
            let side = w / 4096.0 * (1.0 + 4.0 * i as f64 / n as f64);
            bare_asset(
                i + 1,
                Layer::WaterBodies,
                Kind::Pond,
                "p",
                rect_polygon(x, y, side, side, 0.0),
            )
        })
        .collect();
    let index = Index::new();
    index.set_layer(Layer::WaterBodies, LayerIndex::bulk(assets));
    let r = render(&index, LayerSet::of(&[Layer::WaterBodies]), t);
    assert!(r.bytes.len() <= MAX_TILE_BYTES, "{} bytes", r.bytes.len());
    assert!(r.dropped > 0, "the tile should have needed trimming");
    assert_eq!(r.features + r.dropped, n as usize);
    let kept = ids(&Tile::decode(&r.bytes[..]).unwrap(), "water_bodies");
    let largest: BTreeSet<u64> = ((n as u64 - r.features as u64 + 1)..=n as u64).collect();
    assert_eq!(kept, largest, "the smallest are dropped first");
}

#[test]
fn an_area_cut_by_tile_edges_is_labelled_once_inside_itself() {
    use heritage_atlas::index::{Index, LayerIndex};
    use heritage_atlas::tiles::{render, LABELS};
    let index = Index::new();
    // A park about 1.1 km across with a big hole in its middle: at z16 it spans 3×3 or
    // more tiles, and its label must avoid the hole.
    let park = bare_asset(
        9,
        Layer::Parks,
        Kind::Park,
        "Maidan",
        rect_polygon(88.340, 22.550, 0.012, 0.010, 0.5),
    );
    index.set_layer(Layer::Parks, LayerIndex::bulk(vec![park.clone()]));
    let parks = LayerSet::of(&[Layer::Parks]);
    let a = TileCoord::containing(88.340, 22.560, 16);
    let b = TileCoord::containing(88.352, 22.550, 16);
    let mut labels = Vec::new();
    let mut tiles_with_park = 0;
    for x in a.x..=b.x {
        for y in a.y..=b.y {
            let t = TileCoord::new_checked(16, x, y).unwrap();
            let r = render(&index, parks, t);
            if r.bytes.is_empty() {
                continue;
            }
            let tile = Tile::decode(&r.bytes[..]).unwrap();
            tiles_with_park += 1;
            for l in tile.layers.iter().filter(|l| l.name == LABELS) {
                for f in &l.features {
                    let g = decode_geometry(&f.geometry);
                    let (px, py) = g[0][0];
                    // Back to lon/lat to check the label lies in the park, not its hole.
                    let bounds = t.lonlat_bounds(0);
                    let lon =
                        bounds.min().x + (px as f64 / 4096.0) * (bounds.max().x - bounds.min().x);
                    let merc = |lat: f64| {
                        (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
                            .tan()
                            .ln()
                    };
                    let (m0, m1) = (merc(bounds.max().y), merc(bounds.min().y));
                    let m = m0 + (py as f64 / 4096.0) * (m1 - m0);
                    let lat = (2.0 * m.exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees();
                    labels.push((f.id, tag_keys(l, f), lon, lat));
                }
            }
        }
    }
    assert!(
        tiles_with_park >= 9,
        "the park spans {tiles_with_park} tiles"
    );
    assert_eq!(labels.len(), 1, "{labels:?}");
    let (id, keys, lon, lat) = &labels[0];
    assert_eq!(*id, Some(9));
    assert!(keys.contains(&"name".to_string()) && keys.contains(&"layer".to_string()));
    use geo::Contains;
    assert!(
        park.geometry.contains(&geo_types::Point::new(*lon, *lat)),
        "label at {lon},{lat} is not inside the park (or is in its hole)"
    );
}

/// A random simple polygon in tile units: star-shaped about a centre (so never
/// self-intersecting), often concave, sometimes squashed into a sliver, sometimes with a
/// star-shaped hole kept inside it. Centres range well beyond the tile so that many
/// polygons cross its edges, some at a corner, and some miss it.
fn random_polygon(rng: &mut ChaCha8Rng) -> geo_types::Polygon<f64> {
    use std::f64::consts::TAU;
    let (cx, cy) = (
        rng.random_range(-1200.0..5300.0),
        rng.random_range(-1200.0..5300.0),
    );
    let r = rng.random_range(20.0..3500.0);
    // Slivers too, under a unit to 40 units across: snapping to the grid would hide
    // a clipping error in them from any check on the finished tile.
    let (sx, sy) = match rng.random_range(0..4) {
        0 => (1.0, rng.random_range(0.2..20.0) / r),
        1 => (rng.random_range(0.2..20.0) / r, 1.0),
        _ => (1.0, 1.0),
    };
    // Angles about the centre with no gap of π or more: each edge then stays in its own
    // wedge, so the ring is simple. (Redrawn until so; small counts take a few tries.)
    let angles = |rng: &mut ChaCha8Rng, n: usize| loop {
        let mut a: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..TAU)).collect();
        a.sort_by(f64::total_cmp);
        let widest = a
            .windows(2)
            .map(|w| w[1] - w[0])
            .chain([a[0] + TAU - a[n - 1]])
            .fold(0.0, f64::max);
        if widest < 2.5 {
            return (a, widest);
        }
    };
    let ring = |angles: &[f64], radii: &[f64]| {
        let mut pts: Vec<(f64, f64)> = angles
            .iter()
            .zip(radii)
            .map(|(a, rr)| (cx + rr * a.cos() * sx, cy + rr * a.sin() * sy))
            .collect();
        pts.push(pts[0]);
        LineString::from(pts)
    };
    let n = rng.random_range(3..40);
    let (ea, widest) = angles(rng, n);
    let er: Vec<f64> = (0..n).map(|_| rng.random_range(0.15 * r..r)).collect();
    // The exterior's edges come no nearer the centre than min radius × cos(widest gap / 2)
    // (squashed along with it), so a hole within that stays inside.
    let clear = er.iter().copied().fold(f64::MAX, f64::min) * (widest / 2.0).cos();
    let holes = if rng.random_bool(0.5) {
        let m = rng.random_range(3..12);
        let (ha, _) = angles(rng, m);
        let hr: Vec<f64> = (0..m)
            .map(|_| rng.random_range(0.3 * clear..0.95 * clear))
            .collect();
        vec![ring(&ha, &hr)]
    } else {
        vec![]
    };
    let exterior = ring(&ea, &er);
    geo_types::Polygon::new(exterior, holes)
}

/// Twice the signed area of an open ring of floats (shoelace).
fn area2_f(r: &[Coord<f64>]) -> f64 {
    (0..r.len())
        .map(|i| {
            let (a, b) = (r[i], r[(i + 1) % r.len()]);
            a.x * b.y - b.x * a.y
        })
        .sum()
}

#[test]
fn clipping_matches_geo_boolean_ops() {
    use geo::{Area, BooleanOps};
    use heritage_atlas::tiles::clip::{clip_ring, Square};
    // The square a tile is clipped to: the tile and its buffer.
    let b = f64::from(BUFFER);
    let sq = Square {
        min: -b,
        max: f64::from(EXTENT) + b,
    };
    let square = Rect::new(
        Coord {
            x: sq.min,
            y: sq.min,
        },
        Coord {
            x: sq.max,
            y: sq.max,
        },
    )
    .to_polygon();
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    // Cases by what the square does to them, so the oracle cannot pass on easy ones.
    let (mut outside, mut inside, mut cut, mut thin, mut hole_cut) = (0, 0, 0, 0, 0);
    for case in 0..2000 {
        let p = random_polygon(&mut rng);
        // Ours: each ring clipped on its own (as the renderer does); Sutherland–Hodgman
        // may leave zero-width spurs along the square for a concave shape, which add no
        // area, so the clipped area is the exterior's less the hole's.
        let clipped = |r: &LineString<f64>| {
            let open = &r.0[..r.0.len() - 1];
            let out = clip_ring(open, sq);
            let eps = 1e-9 * sq.max;
            assert!(
                out.iter().all(|c| c.x >= sq.min - eps
                    && c.x <= sq.max + eps
                    && c.y >= sq.min - eps
                    && c.y <= sq.max + eps),
                "case {case}: a clipped vertex is outside the square"
            );
            (area2_f(&out) / 2.0).abs()
        };
        let holes: Vec<f64> = p.interiors().iter().map(clipped).collect();
        let ours = clipped(p.exterior()) - holes.iter().sum::<f64>();
        let theirs = p.intersection(&square).unsigned_area();
        let whole = p.unsigned_area();
        // i_overlay computes on a fixed-point grid fitted to the operands' bounds, so its
        // areas are a little off (up to about 0.02 unit² here): allow a twentieth of a
        // unit² and a ten-millionth of the area, far below the unit² a tile can show.
        let tolerance = 0.05 + 1e-7 * theirs;
        assert!(
            (ours - theirs).abs() <= tolerance,
            "case {case}: clipped area {ours} but geo's intersection has {theirs} \
             (polygon area {whole}): {p:?}"
        );
        if theirs == 0.0 {
            outside += 1;
        } else if (theirs - whole).abs() <= tolerance {
            inside += 1;
        } else {
            cut += 1;
            // Thinner than two units on average: snapping would hide a clipping error.
            let perimeter: f64 = p
                .exterior()
                .lines()
                .map(|l| (l.dx() * l.dx() + l.dy() * l.dy()).sqrt())
                .sum();
            thin += usize::from(whole / perimeter < 1.0);
            let hole_area = p.interiors().first().map(|h| {
                let open = &h.0[..h.0.len() - 1];
                (area2_f(open) / 2.0).abs()
            });
            hole_cut += usize::from(hole_area.is_some_and(|a| holes[0] > 0.0 && holes[0] < a));
        }
    }
    assert!(
        outside > 100 && inside > 100 && cut > 800 && thin > 100 && hole_cut > 100,
        "too few cases of a kind: outside {outside}, inside {inside}, cut {cut} \
         (thin {thin}, through a hole {hole_cut})"
    );
}
