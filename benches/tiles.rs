//! Tile encoding from the in-memory index, city-scale synthetic data (1,400 heritage
//! footprints, 8,000 ponds, 750 parks, 144 wards): one busy z14 tile and one z10 tile
//! holding the whole city, all layers. Uncached: `tiles::render` itself.
//!
//! `cargo bench --bench tiles`. Set `BENCH_INDIA=1` to add low-zoom tiles over the
//! india-scale layer (2,424,540 polygons; slower to set up).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use heritage_atlas::index::{Index, LayerIndex};
use heritage_atlas::model::{Asset, Layer};
use heritage_atlas::synth;
use heritage_atlas::tiles::{self, LayerSet, TileCoord};

fn city_index() -> Index {
    let index = Index::new();
    let mut by_layer: std::collections::HashMap<Layer, Vec<Asset>> = Default::default();
    let features = synth::city(42).chain(synth::ward_grid());
    for (i, f) in features.enumerate() {
        by_layer
            .entry(f.layer)
            .or_default()
            .push(f.to_asset(i as i64 + 1));
    }
    for (layer, assets) in by_layer {
        index.set_layer(layer, LayerIndex::bulk(assets));
    }
    index
}

fn bench(c: &mut Criterion) {
    let index = city_index();
    let all = LayerSet::of(Layer::ALL);
    let mut g = c.benchmark_group("city_tiles");
    for (name, t) in [
        ("z14_busy", TileCoord::containing(88.3400, 22.5500, 14)),
        (
            "z10_whole_city",
            TileCoord::containing(88.3400, 22.5500, 10),
        ),
        ("z11", TileCoord::containing(88.3500, 22.5500, 11)),
        ("z12", TileCoord::containing(88.3500, 22.5500, 12)),
        ("z16", TileCoord::containing(88.3400, 22.5500, 16)),
    ] {
        let r = tiles::render(&index, all, t);
        eprintln!(
            "{name} {t:?}: {} features, {} bytes, {} dropped",
            r.features,
            r.bytes.len(),
            r.dropped
        );
        g.bench_function(name, |b| {
            b.iter(|| black_box(tiles::render(&index, all, t)))
        });
    }
    g.finish();

    // Tiles crossing one 20,000-vertex wetland with 60 islands (holes).
    let index = Index::new();
    let wetland = synth::big_wetland(7, 20_000, 60);
    let bbox = heritage_atlas::geom::bbox(&wetland.geometry).unwrap();
    index.set_layer(
        Layer::WaterBodies,
        LayerIndex::bulk(vec![wetland.to_asset(1)]),
    );
    let water = LayerSet::of(&[Layer::WaterBodies]);
    let mut worst = (
        std::time::Duration::ZERO,
        TileCoord::containing(88.46, 22.52, 0),
    );
    let mut count = 0;
    for z in 8..=16u8 {
        let a = TileCoord::containing(bbox.min().x, bbox.max().y, z);
        let b = TileCoord::containing(bbox.max().x, bbox.min().y, z);
        for x in a.x..=b.x {
            for y in a.y..=b.y {
                let t = TileCoord::new_checked(z, x, y).unwrap();
                let start = std::time::Instant::now();
                black_box(tiles::render(&index, water, t));
                let took = start.elapsed();
                count += 1;
                if took > worst.0 {
                    worst = (took, t);
                }
            }
        }
    }
    eprintln!(
        "wetland: {count} tiles z8-z16 rendered once each; slowest {:?} at {:?}",
        worst.0, worst.1
    );
    let mut g = c.benchmark_group("wetland_20k_vertices");
    g.bench_function("slowest_tile", |b| {
        b.iter(|| black_box(tiles::render(&index, water, worst.1)))
    });
    let edge = TileCoord::containing(
        bbox.max().x - 0.001,
        (bbox.min().y + bbox.max().y) / 2.0,
        14,
    );
    g.bench_function("z14_edge_tile", |b| {
        b.iter(|| black_box(tiles::render(&index, water, edge)))
    });
    g.finish();

    if std::env::var("BENCH_INDIA").is_ok() {
        // The same Kolkata tiles from the city's ponds alone and from the city's ponds plus
        // the 2.4 million across India: per-tile time should not grow with the layer.
        let city_ponds: Vec<Asset> = synth::city(42)
            .filter(|f| f.layer == Layer::WaterBodies)
            .enumerate()
            .map(|(i, f)| f.to_asset(i as i64 + 1))
            .collect();
        let offset = city_ponds.len() as i64 + 1;
        let small = Index::new();
        small.set_layer(Layer::WaterBodies, LayerIndex::bulk(city_ponds.clone()));
        let big = Index::new();
        let mut both = city_ponds;
        both.extend(
            synth::india(42)
                .enumerate()
                .map(|(i, f)| f.to_asset(i as i64 + offset)),
        );
        big.set_layer(Layer::WaterBodies, LayerIndex::bulk(both));
        let water = LayerSet::of(&[Layer::WaterBodies]);
        let mut g = c.benchmark_group("same_tile_city_vs_india_layer");
        for z in [14u8, 16] {
            let t = TileCoord::containing(88.3400, 22.5500, z);
            eprintln!(
                "z{z} {t:?}: {} features from the city layer, {} with India's added",
                tiles::render(&small, water, t).features,
                tiles::render(&big, water, t).features
            );
            g.bench_function(format!("z{z}_city_layer_8000"), |b| {
                b.iter(|| black_box(tiles::render(&small, water, t)))
            });
            g.bench_function(format!("z{z}_india_layer_2432540"), |b| {
                b.iter(|| black_box(tiles::render(&big, water, t)))
            });
        }
        g.finish();
        drop(big);

        let index = Index::new();
        let assets: Vec<Asset> = synth::india(42)
            .enumerate()
            .map(|(i, f)| f.to_asset(i as i64 + 1))
            .collect();
        index.set_layer(Layer::WaterBodies, LayerIndex::bulk(assets));
        let mut g = c.benchmark_group("india_tiles");
        g.sample_size(10);
        for z in [0u8, 4, 5, 6, 8, 10, 14] {
            let t = TileCoord::containing(80.0, 21.0, z);
            let r = tiles::render(&index, water, t);
            eprintln!(
                "india z{z} {t:?}: {} features, {} bytes, {} dropped",
                r.features,
                r.bytes.len(),
                r.dropped
            );
            g.bench_function(format!("z{z}"), |b| {
                b.iter(|| black_box(tiles::render(&index, water, t)))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
