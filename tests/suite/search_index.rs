//! The name index answers `/search` exactly as scoring every key in turn does: same assets,
//! same scores, same order, for random names (English, Bengali, codes), random queries, and
//! random writes before, between and during builds of the index.

use heritage_atlas::index::{Index, LayerIndex};
use heritage_atlas::model::{Asset, AssetId, Layer};
use heritage_atlas::query::{search, search_by_scan};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const WORDS: &[&str] = &[
    "pond",
    "pon",
    "Lal",
    "dighi",
    "Dighi",
    "water",
    "body",
    "synthetic",
    "lake",
    "a",
    "ab",
    "b",
    "Tank",
    "tank-2",
    "St. John's",
    "Café",
    "park",
    "১২৩",
    "জলাশয়",
    "কৃত্রিম",
    "লাল",
    "দিঘি",
    "পুকুর",
    "ভিক্টোরিয়া",
    "12",
    "7",
    "ba",
    "aba",
];

fn name(rng: &mut ChaCha8Rng) -> String {
    let n = rng.random_range(1..=4);
    (0..n)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(if rng.random_bool(0.8) { " " } else { "-" })
}

fn asset(rng: &mut ChaCha8Rng, template: &Asset, id: i64, layer: Layer) -> Asset {
    let mut a = template.clone();
    a.id = AssetId(id);
    a.layer = layer;
    a.code = format!("C-{}", rng.random_range(0..400));
    a.attrs.name = rng.random_bool(0.9).then(|| name(rng));
    a.attrs.name_bn = rng.random_bool(0.5).then(|| name(rng));
    a
}

/// A query as a user types it: a piece of some name, a word, or noise.
fn query(rng: &mut ChaCha8Rng, known: &[String]) -> String {
    match rng.random_range(0..6) {
        0 => WORDS[rng.random_range(0..WORDS.len())].to_string(),
        1 => "zz".repeat(rng.random_range(1..3)),
        _ => {
            let s: Vec<char> = known[rng.random_range(0..known.len())].chars().collect();
            let a = rng.random_range(0..s.len());
            let b = rng.random_range(a + 1..=s.len().min(a + 12));
            s[a..b].iter().collect()
        }
    }
}

fn check(index: &Index, rng: &mut ChaCha8Rng, known: &[String], layers: &[Layer], rounds: usize) {
    for _ in 0..rounds {
        let q = query(rng, known);
        let limit = [1, 3, 10, 100, 10_000][rng.random_range(0..5)];
        let got: Vec<(i64, u8)> = search(index, &q, limit, layers)
            .iter()
            .map(|h| (h.asset.id.0, h.score))
            .collect();
        let want: Vec<(i64, u8)> = search_by_scan(index, &q, limit, layers)
            .iter()
            .map(|h| (h.asset.id.0, h.score))
            .collect();
        assert_eq!(got, want, "q={q:?} limit={limit}");
    }
}

#[test]
fn the_name_index_agrees_with_a_scan_through_writes_and_rebuilds() {
    let template = heritage_atlas::synth::city(1)
        .next()
        .expect("a feature")
        .to_asset(1);
    for seed in 0..6u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let layers = [Layer::WaterBodies, Layer::Heritage];
        let index = Index::new();
        let mut next_id = 1i64;
        let mut live: Vec<(Layer, i64)> = Vec::new();
        let mut known: Vec<String> = Vec::new();
        for layer in layers {
            let n = rng.random_range(50..1_500);
            let assets: Vec<Asset> = (0..n)
                .map(|_| {
                    next_id += 1;
                    live.push((layer, next_id));
                    let a = asset(&mut rng, &template, next_id, layer);
                    known.extend(a.attrs.name.clone());
                    known.extend(a.attrs.name_bn.clone());
                    known.push(a.code.clone());
                    a
                })
                .collect();
            index.set_layer(layer, LayerIndex::bulk(assets));
        }
        // Before any index is built: the scan itself.
        check(&index, &mut rng, &known, &layers, 50);
        for layer in layers {
            index.write(layer).build_names();
        }
        check(&index, &mut rng, &known, &layers, 300);
        for round in 0..8 {
            // A build taken from a snapshot, with writes landing before it is put in place.
            let layer = layers[round % 2];
            let pending = index.read(layer).begin_names();
            for _ in 0..rng.random_range(1..200) {
                match rng.random_range(0..4) {
                    0 | 1 => {
                        let (l, id) = live[rng.random_range(0..live.len())];
                        let a = asset(&mut rng, &template, id, l);
                        known.extend(a.attrs.name.clone());
                        index.write(l).upsert(a);
                    }
                    2 => {
                        next_id += 1;
                        let l = layers[rng.random_range(0..2)];
                        live.push((l, next_id));
                        let a = asset(&mut rng, &template, next_id, l);
                        known.extend(a.attrs.name.clone());
                        index.write(l).upsert(a);
                    }
                    _ => {
                        let i = rng.random_range(0..live.len());
                        let (l, id) = live.swap_remove(i);
                        index.write(l).remove(AssetId(id));
                    }
                }
            }
            check(&index, &mut rng, &known, &layers, 100);
            if let Some(pending) = pending {
                index.write(layer).finish_names(pending.build());
            }
            check(&index, &mut rng, &known, &layers, 150);
        }
    }
}

#[test]
fn a_base_built_for_a_replaced_layer_is_not_put_in_place() {
    let template = heritage_atlas::synth::city(1)
        .next()
        .expect("a feature")
        .to_asset(1);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let index = Index::new();
    let old: Vec<Asset> = (0..100)
        .map(|i| asset(&mut rng, &template, i, Layer::Parks))
        .collect();
    index.set_layer(Layer::Parks, LayerIndex::bulk(old));
    let pending = index.read(Layer::Parks).begin_names().expect("a build");
    let new: Vec<Asset> = (0..100)
        .map(|i| asset(&mut rng, &template, i, Layer::Parks))
        .collect();
    let names: Vec<String> = new.iter().flat_map(|a| a.attrs.name.clone()).collect();
    index.set_layer(Layer::Parks, LayerIndex::bulk(new));
    index.write(Layer::Parks).finish_names(pending.build());
    check(&index, &mut rng, &names, &[Layer::Parks], 200);
    index.write(Layer::Parks).build_names();
    check(&index, &mut rng, &names, &[Layer::Parks], 200);
}

/// Waits (up to a minute) until the layer's name index is built and holds all but a few
/// of its assets.
fn wait_built(index: &Index, layer: Layer, at_most_unindexed: usize) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        {
            let li = index.read(layer);
            if li.names_built() && li.names_unindexed() <= at_most_unindexed {
                return;
            }
        }
        assert!(
            std::time::Instant::now() < end,
            "the name index was not built in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn writes_past_an_eighth_of_a_layer_rebuild_its_index_on_a_thread() {
    use heritage_atlas::index::refresh_names_from;
    let layer = Layer::WaterBodies;
    let index = std::sync::Arc::new(Index::new());
    let assets: Vec<Asset> = heritage_atlas::synth::india_n(3, 6_000)
        .enumerate()
        .map(|(i, f)| f.to_asset(i as i64 + 1))
        .collect();
    let template = assets[0].clone();
    index.set_layer(layer, LayerIndex::bulk(assets));
    // Every build on a thread of its own, as for a national layer.
    refresh_names_from(&index, layer, 0);
    wait_built(&index, layer, 0);
    // Renames of 1,500 assets (past the 1,024 that start a rebuild), each followed by the
    // check the server makes after a write; searches meanwhile answer as the scan does.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut known = Vec::new();
    for i in 0..1_500i64 {
        let a = asset(&mut rng, &template, 1 + i * 3, layer);
        known.extend(a.attrs.name.clone());
        index.write(layer).upsert(a);
        refresh_names_from(&index, layer, 0);
        if i % 250 == 0 {
            check(&index, &mut rng, &known, &[layer], 5);
        }
    }
    // Rebuilt: at most the writes after the last snapshot are outside it.
    wait_built(&index, layer, 1_024);
    assert!(index.read(layer).names_unindexed() < 1_500);
    check(&index, &mut rng, &known, &[layer], 200);
}
