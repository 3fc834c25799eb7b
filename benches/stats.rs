//! Monitoring figures at scale: the complaint figures over 1,000,000 pins (grouped by
//! ward, by month, and filtered to one ward and a half-year), and the water figures over
//! the india-scale layer (2,424,540 water bodies) by status — the passes behind
//! `/stats/complaints` and `/stats/water`, without HTTP.
//!
//! `cargo bench --bench stats` — `BENCH_N` sets the water bodies (e.g. 100000) and
//! `BENCH_PINS` the complaints for a quick run. Timings go in BENCHMARKS.md, never asserted.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use heritage_atlas::index::{ComplaintIndex, LayerIndex};
use heritage_atlas::model::{Category, Layer, Pin, PinTimes, Status};
use heritage_atlas::stats::{complaints, water};
use heritage_atlas::synth;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Complaints over 24 months and 144 wards, with random courses.
fn pins(n: usize, now: i64) -> Vec<Pin> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    (0..n)
        .map(|i| {
            let filed = now - rng.random_range(0..24 * 30 * 86_400);
            let category = Category::ALL[rng.random_range(0..Category::ALL.len())];
            let status = Status::ALL[rng.random_range(0..Status::ALL.len())];
            let acknowledged =
                (status != Status::Submitted).then(|| filed + rng.random_range(600..200 * 3600));
            let closed = (!status.is_open()).then(|| filed + rng.random_range(3600..40 * 86_400));
            Pin {
                id: i as i64,
                ticket: format!("EH-2026-{i:06}"),
                category,
                status,
                lon: rng.random_range(88.26..88.42),
                lat: rng.random_range(22.46..22.64),
                created_at: String::new(),
                updated_at: String::new(),
                ward: Some(rng.random_range(1..=144)),
                times: PinTimes {
                    filed,
                    deadline: filed + category.deadline_hours() * 3600,
                    acknowledged,
                    closed,
                },
                event: 0,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let t = Instant::now();
    let index = ComplaintIndex::bulk(pins(env("BENCH_PINS", 1_000_000), now));
    let pins = index.facts();
    eprintln!("{} pins in {:.1} s", pins.len(), t.elapsed().as_secs_f64());
    let borough_of: HashMap<i64, String> = (1..=144)
        .map(|w| (w, synth::roman((w as usize - 1) / 9 + 1).to_string()))
        .collect();
    let mut g = c.benchmark_group("stats");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    let all = complaints::Filter::default();
    g.bench_function("complaints by ward, 1M", |b| {
        b.iter(|| {
            black_box(complaints::figures(
                pins,
                complaints::By::Ward,
                &all,
                &borough_of,
                now,
            ))
        })
    });
    g.bench_function("complaints by month, 1M", |b| {
        b.iter(|| {
            black_box(complaints::figures(
                pins,
                complaints::By::Month,
                &all,
                &borough_of,
                now,
            ))
        })
    });
    let one = complaints::Filter {
        from: Some(now - 365 * 86_400),
        to: Some(now - 182 * 86_400),
        ward: Some(79),
        ..complaints::Filter::default()
    };
    g.bench_function("complaints of one ward and half a year, 1M", |b| {
        b.iter(|| {
            black_box(complaints::figures(
                pins,
                complaints::By::Category,
                &one,
                &borough_of,
                now,
            ))
        })
    });
    drop(index);
    let t = Instant::now();
    let layer = LayerIndex::bulk(
        synth::india_n(42, env("BENCH_N", synth::INDIA_WATER_BODIES))
            .enumerate()
            .map(|(i, f)| f.to_asset(i as i64 + 1))
            .collect(),
    );
    eprintln!(
        "{} water bodies indexed in {:.1} s",
        layer.len(),
        t.elapsed().as_secs_f64()
    );
    g.bench_function("water by status, india", |b| {
        b.iter(|| black_box(water::figures(layer.facts(), water::By::Status)))
    });
    let today = time::OffsetDateTime::now_utc().date();
    let iv = heritage_atlas::stats::Intervals::default();
    g.bench_function("register health by ward, india", |b| {
        b.iter(|| {
            black_box(heritage_atlas::stats::health(
                layer.facts().map(|f| (Layer::WaterBodies, f)),
                heritage_atlas::stats::GroupBy::Ward,
                today,
                &iv,
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
