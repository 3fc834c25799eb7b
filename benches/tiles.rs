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

    if std::env::var("BENCH_INDIA").is_ok() {
        let index = Index::new();
        let assets: Vec<Asset> = synth::india(42)
            .enumerate()
            .map(|(i, f)| f.to_asset(i as i64 + 1))
            .collect();
        index.set_layer(Layer::WaterBodies, LayerIndex::bulk(assets));
        let water = LayerSet::of(&[Layer::WaterBodies]);
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
