//! The index answers exactly what a brute-force scan answers, on seeded random data
//! (the rstar way): `/nearby` and `/at` over real HTTP, bbox through the index.

use crate::common;

use std::collections::BTreeSet;

use common::{asset, rect_polygon, TestServer};
use geo::Intersects;
use geo_types::{Coord, Geometry, Point, Rect};
use heritage_atlas::geom;
use heritage_atlas::model::{Asset, Kind, Layer, NewAsset};
use heritage_atlas::store::EditContext;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const AREA: [f64; 4] = [88.30, 22.50, 88.40, 22.60];

/// Random ponds (some with islands, i.e. holes), heritage points and footprints, parks and
/// a ward grid; overlapping freely.
fn random_assets(seed: u64) -> Vec<NewAsset> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let pick = |rng: &mut ChaCha8Rng| {
        (
            rng.random_range(AREA[0]..AREA[2]),
            rng.random_range(AREA[1]..AREA[3]),
        )
    };
    for i in 0..400 {
        let (x, y) = pick(&mut rng);
        let (w, h) = (
            rng.random_range(0.0003..0.004),
            rng.random_range(0.0003..0.004),
        );
        let island = if i % 3 == 0 { 0.4 } else { 0.0 };
        out.push(asset(
            Layer::WaterBodies,
            Kind::Pond,
            format!("P{i}"),
            rect_polygon(x, y, w, h, island),
        ));
    }
    for i in 0..300 {
        let (x, y) = pick(&mut rng);
        let g = if i % 2 == 0 {
            Geometry::Point(Point::new(x, y))
        } else {
            rect_polygon(x, y, 0.0005, 0.0003, 0.0)
        };
        out.push(asset(
            Layer::Heritage,
            if i % 2 == 0 {
                Kind::Statue
            } else {
                Kind::Building
            },
            format!("H{i}"),
            g,
        ));
    }
    for i in 0..100 {
        let (x, y) = pick(&mut rng);
        out.push(asset(
            Layer::Parks,
            Kind::Park,
            format!("K{i}"),
            rect_polygon(x, y, 0.005, 0.004, 0.0),
        ));
    }
    for i in 0..10 {
        for j in 0..10 {
            let (x, y) = (AREA[0] + i as f64 * 0.01, AREA[1] + j as f64 * 0.01);
            out.push(asset(
                Layer::Wards,
                Kind::Ward,
                format!("W{i}-{j}"),
                rect_polygon(x, y, 0.01, 0.01, 0.0),
            ));
        }
    }
    out
}

async fn server(seed: u64) -> (TestServer, Vec<Asset>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("oracle.db");
    let store = common::open_store(&db).await;
    let mut tx = store
        .begin_import(&EditContext::import("test"))
        .await
        .unwrap();
    let mut all = Vec::new();
    for a in random_assets(seed) {
        all.push(tx.upsert(&a).await.unwrap().0);
    }
    tx.commit().await.unwrap();
    store.close().await;
    (TestServer::start(&db, false).await, all, dir)
}

fn brute_nearby(
    all: &[Asset],
    p: Point<f64>,
    radius: f64,
    limit: usize,
    layers: &[Layer],
) -> Vec<(String, f64)> {
    let mut v: Vec<(i64, String, f64)> = all
        .iter()
        .filter(|a| layers.contains(&a.layer))
        .map(|a| (a.id.0, a.code.clone(), geom::distance_m(p, &a.geometry)))
        .filter(|(_, _, d)| *d <= radius)
        .collect();
    v.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
    v.into_iter().take(limit).map(|(_, c, d)| (c, d)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn nearby_matches_brute_force() {
    let (srv, all, _dir) = server(1).await;
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut nonempty = 0;
    for _ in 0..150 {
        let p = Point::new(
            rng.random_range(AREA[0] - 0.01..AREA[2] + 0.01),
            rng.random_range(AREA[1] - 0.01..AREA[3] + 0.01),
        );
        let radius = [50.0, 300.0, 1500.0, 20_000.0][rng.random_range(0..4)];
        let limit = rng.random_range(1..25);
        let layer_sets: [&[Layer]; 3] = [
            &[Layer::WaterBodies],
            &[Layer::Heritage],
            &[Layer::Heritage, Layer::WaterBodies, Layer::Parks],
        ];
        let layers = layer_sets[rng.random_range(0..3)];
        let names: Vec<&str> = layers.iter().map(|l| l.as_str()).collect();
        let (status, body) = srv
            .get(&format!(
                "/nearby?lon={}&lat={}&radius_m={radius}&limit={limit}&layers={}",
                p.x(),
                p.y(),
                names.join(",")
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        let got: Vec<(String, f64)> = body["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["properties"]["code"].as_str().unwrap().to_string(),
                    f["properties"]["distance_m"].as_f64().unwrap(),
                )
            })
            .collect();
        let want = brute_nearby(&all, p, radius, limit, layers);
        assert_eq!(got.len(), want.len(), "at {p:?} r={radius} k={limit}");
        for ((gc, gd), (wc, wd)) in got.iter().zip(&want) {
            assert!((gd - wd).abs() <= 0.051, "distance {gc} {gd} vs {wc} {wd}");
            // Equal distances (e.g. several containing polygons at 0 m) may list in any
            // order only if the distances really are equal.
            if gc != wc {
                assert!(
                    (gd - wd).abs() < 1e-6,
                    "order differs: {gc}@{gd} vs {wc}@{wd}"
                );
            }
        }
        let windows = got.windows(2).all(|w| w[0].1 <= w[1].1);
        assert!(windows, "nearest first");
        nonempty += usize::from(!got.is_empty());
    }
    assert!(
        nonempty > 100,
        "the oracle compared mostly empty answers ({nonempty})"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn at_matches_brute_force_and_respects_holes() {
    let (srv, all, _dir) = server(2).await;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let containing = |p: Point<f64>, layer: Layer| -> BTreeSet<String> {
        all.iter()
            .filter(|a| a.layer == layer && a.geometry.intersects(&p))
            .map(|a| a.code.clone())
            .collect()
    };
    // Random points, plus the centre of every holed pond (inside the hole: not in the pond).
    let mut points: Vec<Point<f64>> = (0..200)
        .map(|_| {
            Point::new(
                rng.random_range(AREA[0]..AREA[2]),
                rng.random_range(AREA[1]..AREA[3]),
            )
        })
        .collect();
    let mut hole_centres = 0;
    for a in &all {
        if let Geometry::Polygon(pg) = &a.geometry {
            if let Some(h) = pg.interiors().first() {
                let c: Vec<Coord<f64>> = h.coords().copied().collect();
                points.push(Point::new((c[0].x + c[2].x) / 2.0, (c[0].y + c[2].y) / 2.0));
                hole_centres += 1;
            }
        }
    }
    assert!(hole_centres > 50);
    let mut hits = 0;
    for p in points {
        let (status, body) = srv.get(&format!("/at?lon={}&lat={}", p.x(), p.y())).await;
        assert_eq!(status, 200);
        let codes = |v: &serde_json::Value| -> BTreeSet<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            codes(&body["water_bodies"]),
            containing(p, Layer::WaterBodies),
            "water at {p:?}"
        );
        assert_eq!(
            codes(&body["parks"]),
            containing(p, Layer::Parks),
            "parks at {p:?}"
        );
        let wards = containing(p, Layer::Wards);
        let ward = body["ward"]["properties"]["code"]
            .as_str()
            .map(str::to_string);
        assert!(
            ward.as_ref()
                .map_or(wards.is_empty(), |w| wards.contains(w)),
            "ward at {p:?}"
        );
        let want = brute_nearby(&all, p, 20_000.0, 1, &[Layer::Heritage]);
        let got = body["nearest_heritage"]["properties"]["distance_m"].as_f64();
        assert!(
            (got.unwrap() - want[0].1).abs() <= 0.051,
            "nearest heritage at {p:?}"
        );
        hits += codes(&body["water_bodies"]).len();
    }
    assert!(
        hits > 20,
        "few points fell in ponds ({hits}); the oracle is not testing much"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bbox_matches_brute_force() {
    let (srv, all, _dir) = server(3).await;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    // Boxes with something in them, per layer: an index answering nothing would agree
    // with every empty box, so most boxes must not be empty in any layer.
    let mut nonempty = [0usize; Layer::ALL.len()];
    for _ in 0..200 {
        let (x, y) = (
            rng.random_range(AREA[0]..AREA[2]),
            rng.random_range(AREA[1]..AREA[3]),
        );
        let (w, h) = (
            rng.random_range(0.0001..0.03),
            rng.random_range(0.0001..0.03),
        );
        let r = Rect::new(Coord { x, y }, Coord { x: x + w, y: y + h });
        for (i, layer) in Layer::ALL.iter().enumerate() {
            let got: BTreeSet<String> = srv
                .atlas
                .index()
                .read(*layer)
                .in_bbox(&r)
                .iter()
                .map(|a| a.code.clone())
                .collect();
            let want: BTreeSet<String> = all
                .iter()
                .filter(|a| a.layer == *layer && a.geometry.intersects(&r))
                .map(|a| a.code.clone())
                .collect();
            assert_eq!(got, want, "{layer} in {r:?}");
            nonempty[i] += usize::from(!want.is_empty());
        }
    }
    for (layer, n) in Layer::ALL.iter().zip(nonempty) {
        assert!(
            n > 100,
            "the oracle compared mostly empty {layer} boxes ({n} of 200 had anything)"
        );
    }
    srv.stop().await;
}
