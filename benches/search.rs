//! `/search` over the india-scale layer (2,424,540 water bodies named "Synthetic water body
//! N", "কৃত্রিম জলাশয় N" in Bengali digits, code SYN-IN-000000N): the name index against
//! scoring every key, on queries as people type them.
//!
//! `cargo bench --bench search` — `BENCH_N` for fewer assets. Prints the time to build the
//! index, then per kind of query and overall the median, 90th and 99th percentile and worst
//! of 2,000 seeded queries (limit 10, `/search`'s default), and the scan's figures on a
//! sample of them, each answer checked equal to the scan's. Recorded in BENCHMARKS.md.

use std::time::{Duration, Instant};

use heritage_atlas::index::{Index, LayerIndex};
use heritage_atlas::model::Layer;
use heritage_atlas::query::{search, search_by_scan};
use heritage_atlas::synth;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn n() -> usize {
    std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(synth::INDIA_WATER_BODIES)
}

const KINDS: &[&str] = &[
    "whole name",
    "name typed so far",
    "words from the middle",
    "digits inside the number",
    "Bengali name typed so far",
    "Bengali digits inside",
    "code typed so far",
    "one or two letters",
    "no such name",
];

fn bengali(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| char::from_u32(0x09E6 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
        .collect()
}

fn query(rng: &mut ChaCha8Rng, n: usize, kind: usize) -> String {
    let i = rng.random_range(1..=n);
    let cut = |s: String, rng: &mut ChaCha8Rng| -> String {
        let c: Vec<char> = s.chars().collect();
        c[..rng.random_range(1..=c.len())].iter().collect()
    };
    let inside = |s: String, rng: &mut ChaCha8Rng| -> String {
        let c: Vec<char> = s.chars().collect();
        let a = rng.random_range(0..c.len());
        let b = rng.random_range(a + 1..=c.len());
        c[a..b].iter().collect()
    };
    match kind {
        0 => format!("Synthetic water body {i}"),
        1 => cut(format!("Synthetic water body {i}"), rng),
        2 => format!("water body {}", cut(i.to_string(), rng)),
        3 => inside(i.to_string(), rng),
        4 => cut(format!("কৃত্রিম জলাশয় {}", bengali(i)), rng),
        5 => inside(bengali(i), rng),
        6 => cut(format!("SYN-IN-{i:07}"), rng),
        7 => cut(
            ["b", "w", "জ", "7", "q", "zx", "কৃ", "dy"][rng.random_range(0..8)].into(),
            rng,
        ),
        _ => [
            "victoria memorial",
            "lal dighi",
            "zzq",
            "body water",
            "রবীন্দ্র সরোবর",
        ][rng.random_range(0..5)]
        .to_string(),
    }
}

fn figures(name: &str, mut t: Vec<Duration>) {
    t.sort();
    let at = |p: f64| t[((t.len() as f64 * p).ceil() as usize).clamp(1, t.len()) - 1];
    println!(
        "{name:<28} n={:<5} p50 {:>9.3?}  p90 {:>9.3?}  p99 {:>9.3?}  max {:>9.3?}",
        t.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        t[t.len() - 1]
    );
}

fn main() {
    let n = n();
    let t = Instant::now();
    let assets: Vec<_> = synth::india_n(42, n)
        .enumerate()
        .map(|(i, f)| f.to_asset(i as i64 + 1))
        .collect();
    println!(
        "generated {} water bodies in {:.1?}",
        assets.len(),
        t.elapsed()
    );
    let index = Index::new();
    index.set_layer(Layer::WaterBodies, LayerIndex::bulk(assets));
    let t = Instant::now();
    index.write(Layer::WaterBodies).build_names();
    println!(
        "name index built in {:.2?}, {} MB",
        t.elapsed(),
        index.read(Layer::WaterBodies).names_bytes() >> 20
    );

    let layers = [Layer::WaterBodies];
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut all = Vec::new();
    let mut by_kind: Vec<Vec<Duration>> = vec![Vec::new(); KINDS.len()];
    let mut scans = Vec::new();
    for i in 0..2_000 {
        let kind = i % KINDS.len();
        let q = query(&mut rng, n, kind);
        let t = Instant::now();
        let hits = search(&index, &q, 10, &layers);
        let d = t.elapsed();
        all.push(d);
        by_kind[kind].push(d);
        if i % 20 == 0 {
            let t = Instant::now();
            let want = search_by_scan(&index, &q, 10, &layers);
            scans.push(t.elapsed());
            let ids = |v: &[heritage_atlas::query::Hit]| {
                v.iter().map(|h| (h.asset.id, h.score)).collect::<Vec<_>>()
            };
            assert_eq!(ids(&hits), ids(&want), "{q:?}");
        }
    }
    for (k, t) in KINDS.iter().zip(by_kind) {
        figures(k, t);
    }
    figures("all queries, name index", all);
    figures("sample, scanning every key", scans);
}
