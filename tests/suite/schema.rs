//! One schema per layer (`src/schema.rs`), seen from outside: what the tiles carry is what
//! TileJSON says they carry, with the types it says, and what a client may filter on is
//! what a download holds.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::TestServer;
use geozero::mvt::tile::Value as TagValue;
use geozero::mvt::{Message, Tile};
use heritage_atlas::tiles::TileCoord;

/// The TileJSON type a decoded tag value has.
fn tile_type(v: &TagValue) -> &'static str {
    if v.string_value.is_some() {
        "String"
    } else if v.bool_value.is_some() {
        "Boolean"
    } else {
        "Number"
    }
}

#[tokio::test]
async fn every_tile_tag_is_in_tilejson_with_its_type() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("s.db"), true).await;
    // A complaint, so the complaints layer has a pin.
    let r = reqwest::Client::new()
        .post(srv.url("/complaints"))
        .json(&serde_json::json!({"lon": 88.3426, "lat": 22.5448, "category": "other", "description": "Schema check"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let layers = "heritage,water_bodies,parks,wards,complaints";
    let (s, tj) = srv.get(&format!("/tiles/{layers}.json")).await;
    assert_eq!(s, 200);
    let declared: BTreeMap<String, BTreeMap<String, String>> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let fields = l["fields"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            (l["id"].as_str().unwrap().to_string(), fields)
        })
        .collect();
    for l in [
        "heritage",
        "water_bodies",
        "parks",
        "wards",
        "labels",
        "complaints",
    ] {
        assert!(declared.contains_key(l), "TileJSON lists {l}: {declared:?}");
    }

    // Every tile over central Kolkata at a low, a middle and a street zoom: dots, full
    // features, labels and pins all appear.
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut features = 0usize;
    for z in [11u8, 14, 16] {
        let a = TileCoord::containing(88.33, 22.58, z);
        let b = TileCoord::containing(88.36, 22.53, z);
        for x in a.x.min(b.x)..=a.x.max(b.x) {
            for y in a.y.min(b.y)..=a.y.max(b.y) {
                let r = reqwest::get(srv.url(&format!("/tiles/{layers}/{z}/{x}/{y}.mvt")))
                    .await
                    .unwrap();
                if r.status() == 204 {
                    continue;
                }
                assert_eq!(r.status(), 200);
                let tile = Tile::decode(r.bytes().await.unwrap()).unwrap();
                for layer in &tile.layers {
                    let fields = declared
                        .get(&layer.name)
                        .unwrap_or_else(|| panic!("tile layer {} not in TileJSON", layer.name));
                    for f in &layer.features {
                        features += 1;
                        for kv in f.tags.chunks(2) {
                            let key = &layer.keys[kv[0] as usize];
                            let ty = tile_type(&layer.values[kv[1] as usize]);
                            assert_eq!(
                                fields.get(key).map(String::as_str),
                                Some(ty),
                                "{}/{z}/{x}/{y}: tag {key} ({ty}) vs TileJSON {fields:?}",
                                layer.name
                            );
                            seen.entry(layer.name.clone())
                                .or_default()
                                .insert(key.clone());
                        }
                    }
                }
            }
        }
    }
    assert!(features > 100, "{features} features");
    // Not an empty comparison: each layer's main fields were met.
    for (layer, keys) in [
        (
            "heritage",
            &["id", "code", "name", "name_bn", "grade", "condition"][..],
        ),
        ("water_bodies", &["id", "name", "status", "kind"][..]),
        ("wards", &["id", "ward"][..]),
        ("labels", &["id", "layer", "name", "name_bn", "ward"][..]),
        (
            "complaints",
            &["ticket", "category", "status", "created_at"][..],
        ),
    ] {
        for k in keys {
            assert!(
                seen.get(layer).is_some_and(|s| s.contains(*k)),
                "{layer}.{k} never seen: {seen:?}"
            );
        }
    }
    srv.stop().await;
}

#[tokio::test]
async fn every_queryable_is_a_column_of_every_download() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("q.db"), true).await;
    for c in ["heritage", "water_bodies", "parks", "wards", "complaints"] {
        let r = reqwest::get(srv.url(&format!("/collections/{c}/queryables")))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let q: serde_json::Value = r.json().await.unwrap();
        let queryables: Vec<String> = q["properties"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "geometry")
            .cloned()
            .collect();
        assert!(queryables.len() >= 5, "{c}: {queryables:?}");
        let csv = reqwest::get(srv.url(&format!("/collections/{c}/items?f=csv&limit=1")))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut rd = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
        let header: BTreeSet<String> = rd.headers().unwrap().iter().map(String::from).collect();
        let (_, json) = srv.get(&format!("/collections/{c}/items?limit=1")).await;
        let props = json["features"][0]["properties"].as_object().cloned();
        for q in &queryables {
            assert!(
                header.contains(q),
                "{c}: queryable {q} not a CSV column {header:?}"
            );
            if let Some(p) = &props {
                assert!(
                    p.contains_key(q),
                    "{c}: queryable {q} not a GeoJSON property"
                );
            }
        }
    }
    srv.stop().await;
}
