//! Index benchmarks over the india-scale synthetic layer (2,424,540 water bodies):
//! nearest-10 and point-in-polygon queries, a heritage-impact screening of a 10 km
//! alignment with a 500 m reach, and the bulk build itself.
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
    // A 10 km alignment of 21 vertices (a gentle zig-zag) at a random pond, screened
    // with a 500 m reach through the same function `POST /screening` calls.
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let works: Vec<geo_types::Geometry<f64>> = qs
        .iter()
        .take(256)
        .map(|(_, at)| {
            let heading: f64 = rng.random_range(0.0..std::f64::consts::PI);
            let step = 10_000.0 / 20.0 / 111_000.0;
            let line: Vec<(f64, f64)> = (0..=20)
                .map(|k| {
                    let t = k as f64 - 10.0;
                    let wiggle = if k % 2 == 0 { 0.0005 } else { -0.0005 };
                    (
                        at.x() + t * step * heading.cos() + wiggle,
                        at.y() + t * step * heading.sin(),
                    )
                })
                .collect();
            geo_types::Geometry::LineString(line.into())
        })
        .collect();
    let all = heritage_atlas::index::Index::new();
    all.set_layer(
        heritage_atlas::model::Layer::WaterBodies,
        LayerIndex::bulk(assets.clone()),
    );
    let layers = [heritage_atlas::model::Layer::WaterBodies];
    let found: usize = works
        .iter()
        .map(|w| heritage_atlas::query::screening(&all, w, 500.0, &layers).len())
        .sum();
    eprintln!(
        "screening: {:.1} water bodies within 500 m of a 10 km alignment, on average",
        found as f64 / works.len() as f64
    );
    g.bench_function("screening_10km_alignment_500m", |b| {
        b.iter(|| {
            i = (i + 1) % works.len();
            black_box(heritage_atlas::query::screening(
                &all, &works[i], 500.0, &layers,
            ))
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
