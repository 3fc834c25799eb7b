//! Questions asked of the register: what is near a point, what contains it, which names
//! match a search. Answers come from the in-memory index; nothing here touches SQL.

use std::sync::Arc;

use geo_types::Point;

use crate::index::Index;
use crate::model::{Asset, Layer};
use crate::search::{name_order, score};
use crate::text::normalize;

/// Largest radius `/nearby` accepts, in metres: a city and its fringe. Beyond this a
/// "nearest" list stops being useful to someone on foot and starts being a bulk export.
pub const MAX_RADIUS_M: f64 = 100_000.0;

/// An asset and its ground distance from the query point.
#[derive(Debug, Clone)]
pub struct Near {
    pub asset: Arc<Asset>,
    pub distance_m: f64,
}

/// The `limit` assets of `layers` nearest to `p` within `radius_m`, nearest first.
pub fn nearby(
    index: &Index,
    p: Point<f64>,
    radius_m: f64,
    limit: usize,
    layers: &[Layer],
) -> Vec<Near> {
    let mut all: Vec<Near> = layers
        .iter()
        .flat_map(|l| index.read(*l).nearest(p, limit, radius_m))
        .map(|(asset, distance_m)| Near { asset, distance_m })
        .collect();
    all.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then(a.asset.id.cmp(&b.asset.id))
    });
    all.truncate(limit);
    all
}

/// What lies at a point.
#[derive(Debug, Clone, Default)]
pub struct At {
    pub ward: Option<Arc<Asset>>,
    pub water_bodies: Vec<Arc<Asset>>,
    pub parks: Vec<Arc<Asset>>,
    pub heritage: Vec<Arc<Asset>>,
    pub nearest_heritage: Option<Near>,
}

/// Radius within which `/at` looks for the nearest heritage asset.
pub const AT_HERITAGE_RADIUS_M: f64 = 20_000.0;

/// The ward, water bodies and parks containing `p`, heritage sites at it, and the
/// nearest heritage asset. Where polygons overlap (a tank inside a park), all are listed,
/// smallest first.
pub fn at(index: &Index, p: Point<f64>) -> At {
    let by_area = |mut v: Vec<Arc<Asset>>| {
        v.sort_by(|a, b| {
            a.area_m2
                .unwrap_or(0.0)
                .total_cmp(&b.area_m2.unwrap_or(0.0))
                .then(a.id.cmp(&b.id))
        });
        v
    };
    At {
        ward: by_area(index.read(Layer::Wards).containing(p))
            .into_iter()
            .next(),
        water_bodies: by_area(index.read(Layer::WaterBodies).containing(p)),
        parks: by_area(index.read(Layer::Parks).containing(p)),
        heritage: by_area(index.read(Layer::Heritage).containing(p)),
        nearest_heritage: index
            .read(Layer::Heritage)
            .nearest(p, 1, AT_HERITAGE_RADIUS_M)
            .into_iter()
            .next()
            .map(|(asset, distance_m)| Near { asset, distance_m }),
    }
}

/// A search hit.
#[derive(Debug, Clone)]
pub struct Hit {
    pub asset: Arc<Asset>,
    pub score: u8,
}

/// Assets whose English or Bengali name (or code) matches `q`: exact first, then prefix,
/// then word prefix, then substring; shorter names first within each rank. Answered by
/// each layer's name index (see [`crate::search`]).
pub fn search(index: &Index, q: &str, limit: usize, layers: &[Layer]) -> Vec<Hit> {
    let q = normalize(q);
    if q.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<Hit> = layers
        .iter()
        .flat_map(|l| index.read(*l).search(&q, limit))
        .map(|(asset, score)| Hit { asset, score })
        .collect();
    best(&mut hits, limit);
    hits
}

/// [`search`] by scoring every key in turn: what the name index must agree with.
pub fn search_by_scan(index: &Index, q: &str, limit: usize, layers: &[Layer]) -> Vec<Hit> {
    let q = normalize(q);
    if q.is_empty() {
        return Vec::new();
    }
    let spaced = format!(" {q}");
    let mut hits: Vec<Hit> = Vec::new();
    for layer in layers {
        let li = index.read(*layer);
        for (asset, key) in li.iter_keys() {
            if let Some(score) = score(key, &q, &spaced) {
                hits.push(Hit {
                    asset: asset.clone(),
                    score,
                });
            }
        }
    }
    best(&mut hits, limit);
    hits
}

/// Keeps the best `limit` hits, in order.
fn best(hits: &mut Vec<Hit>, limit: usize) {
    // Only the best `limit` are wanted: select them, then sort just those (a common word
    // over a national layer can match millions).
    let rank = |a: &Hit, b: &Hit| a.score.cmp(&b.score).then(name_order(&a.asset, &b.asset));
    if hits.len() > limit && limit > 0 {
        hits.select_nth_unstable_by(limit - 1, rank);
    }
    hits.truncate(limit);
    hits.sort_by(rank);
}

/// Farthest a screening looks from a proposed work, in metres.
pub const MAX_SCREENING_M: f64 = 5_000.0;

/// Every asset of `layers` within `distance_m` of the proposed work `g` (its ground
/// distance from the work), graded heritage first — Grade I, IIA, IIB, III — then
/// ungraded, then by distance: the order a planner reads a heritage-impact screening in.
pub fn screening(
    index: &Index,
    g: &geo_types::Geometry<f64>,
    distance_m: f64,
    layers: &[Layer],
) -> Vec<Near> {
    use geo::BoundingRect;
    let Some(r) = g.bounding_rect() else {
        return Vec::new();
    };
    let reach = crate::geom::grow_rect_m(r, distance_m);
    let mut out: Vec<Near> = layers
        .iter()
        .flat_map(|l| index.read(*l).in_bbox(&reach))
        .filter_map(|asset| {
            let d = crate::geom::distance_between_m(g, &asset.geometry);
            (d <= distance_m).then_some(Near {
                asset,
                distance_m: d,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        grade_rank(&a.asset)
            .cmp(&grade_rank(&b.asset))
            .then(a.distance_m.total_cmp(&b.distance_m))
            .then(a.asset.id.cmp(&b.asset.id))
    });
    out
}

/// Grade I first, ungraded (and other layers) last.
fn grade_rank(a: &Asset) -> u8 {
    use crate::model::Grade;
    match a.attrs.grade {
        Some(Grade::I) => 0,
        Some(Grade::IIA) => 1,
        Some(Grade::IIB) => 2,
        Some(Grade::III) => 3,
        None => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_exact_prefix_word_substring() {
        let s = |k: &str, q: &str| score(k, q, &format!(" {q}"));
        assert_eq!(s("victoria memorial", "victoria memorial"), Some(0));
        assert_eq!(s("victoria memorial", "vict"), Some(1));
        assert_eq!(s("victoria memorial", "mem"), Some(2));
        assert_eq!(s("victoria memorial", "oria"), Some(3));
        assert_eq!(s("victoria memorial", "zzz"), None);
        assert_eq!(s("lal dighi\u{1f}লালদিঘি", &normalize("লালদিঘি")), Some(0));
    }

    #[test]
    fn the_top_k_selection_equals_the_head_of_a_full_sort() {
        let index = crate::index::Index::new();
        let mut by_layer: std::collections::HashMap<Layer, Vec<Asset>> = Default::default();
        for (i, f) in crate::synth::city(3).enumerate() {
            by_layer
                .entry(f.layer)
                .or_default()
                .push(f.to_asset(i as i64 + 1));
        }
        for (l, a) in by_layer {
            index.set_layer(l, crate::index::LayerIndex::bulk(a));
        }
        let layers = [Layer::Heritage, Layer::WaterBodies, Layer::Parks];
        for q in ["synthetic pond 1", "park 7", "কৃত্রিম", "12"] {
            let all = search(&index, q, 100_000, &layers);
            assert!(all.len() > 20, "{q}");
            let ids = |v: &[Hit]| v.iter().map(|h| h.asset.id).collect::<Vec<_>>();
            for k in [1, 7, 20] {
                assert_eq!(
                    ids(&search(&index, q, k, &layers)),
                    ids(&all[..k]),
                    "{q} top {k}"
                );
            }
        }
    }

    #[test]
    fn bengali_keeps_its_signs() {
        let n = normalize("ভিক্টোরিয়া মেমোরিয়াল");
        assert!(n.contains('ি'), "{n}");
        assert!(n.starts_with(&normalize("ভিক্টো")));
    }
}
