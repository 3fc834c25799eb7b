//! Index benchmarks over the india-scale synthetic layer (2,424,540 water bodies):
//! nearest-10 and point-in-polygon queries, and the bulk build itself.
//!
//! `cargo bench --bench index` — set `BENCH_N` to use fewer polygons (e.g. 100000) for a
//! quick run. Timings are recorded in BENCHMARKS.md, never asserted.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use geo_types::Point;
use heritage_atlas::index::LayerIndex;
use heritage_atlas::model::Asset;
use heritage_atlas::synth;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn n() -> usize {
    std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(synth::INDIA_WATER_BODIES)
}

fn assets() -> Vec<Asset> {
    let t = Instant::now();
    let v: Vec<Asset> = synth::india_n(42, n())
        .enumerate()
        .map(|(i, f)| f.to_asset(i as i64 + 1))
        .collect();
    eprintln!(
        "generated {} synthetic water bodies in {:.1} s",
        v.len(),
        t.elapsed().as_secs_f64()
    );
    v
}

fn queries(assets: &[Asset]) -> Vec<(Point<f64>, Point<f64>)> {
    // Query points: random ones across India (for nearest) and points inside known ponds
    // (for point-in-polygon, so every lookup finds something to test exactly).
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    (0..1024)
        .map(|_| {
            let a = &assets[rng.random_range(0..assets.len())];
            let inside = match &a.geometry {
                geo_types::Geometry::Polygon(p) => {
                    use geo::Centroid;
                    p.centroid().unwrap_or(Point::new(80.0, 20.0))
                }
                _ => Point::new(80.0, 20.0),
            };
            (
                Point::new(rng.random_range(70.0..90.0), rng.random_range(10.0..30.0)),
                inside,
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let assets = assets();
    let qs = queries(&assets);
    let t = Instant::now();
    let index = LayerIndex::bulk(assets.clone());
    eprintln!(
        "bulk build of {} polygons: {:.2} s",
        index.len(),
        t.elapsed().as_secs_f64()
    );

    let mut g = c.benchmark_group(format!("india_{}", index.len()));
    let mut i = 0usize;
    g.bench_function("nearest_10_within_100km", |b| {
        b.iter(|| {
            i = (i + 1) % qs.len();
            black_box(index.nearest(qs[i].0, 10, 100_000.0))
        })
    });
    g.bench_function("point_in_polygon", |b| {
        b.iter(|| {
            i = (i + 1) % qs.len();
            black_box(index.containing(qs[i].1))
        })
    });
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    g.bench_function("bulk_build", |b| {
        b.iter_batched(
            || assets.clone(),
            |a| LayerIndex::bulk(black_box(a)),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
