//! Deterministic synthetic layers for load tests and benchmarks, and the stand-in ward
//! grid bundled until the city's own ward file is imported.
//!
//! Same seed, same output, on every machine: a seeded ChaCha RNG and nothing else.
//! Every feature says it is synthetic in its `source` property.

use std::f64::consts::TAU;
use std::io::Write;

use geo_types::{Coord, Geometry, LineString, Polygon};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::model::{Kind, Layer, KMC_BOUNDS};

/// Water bodies counted by India's first water-body census (2018–19).
pub const INDIA_WATER_BODIES: usize = 2_424_540;

/// One synthetic feature.
#[derive(Debug, Clone)]
pub struct SynthFeature {
    pub layer: Layer,
    pub code: String,
    pub kind: Kind,
    pub name: String,
    pub name_bn: String,
    pub ward: Option<i64>,
    pub borough: Option<String>,
    pub extra: Vec<(&'static str, Value)>,
    pub geometry: Geometry<f64>,
    pub source: String,
}

impl SynthFeature {
    /// The feature as a GeoJSON Feature object.
    pub fn to_geojson(&self) -> Value {
        let mut props = serde_json::Map::new();
        props.insert("code".into(), self.code.clone().into());
        props.insert("kind".into(), self.kind.as_str().into());
        props.insert("name".into(), self.name.clone().into());
        props.insert("name_bn".into(), self.name_bn.clone().into());
        if let Some(w) = self.ward {
            props.insert("ward".into(), w.into());
        }
        if let Some(b) = &self.borough {
            props.insert("borough".into(), b.clone().into());
        }
        for (k, v) in &self.extra {
            props.insert((*k).into(), v.clone());
        }
        props.insert("source".into(), self.source.clone().into());
        json!({
            "type": "Feature",
            "geometry": geojson::Geometry::new(geojson::Value::from(&self.geometry)),
            "properties": props,
        })
    }
}

impl SynthFeature {
    /// The feature as a stored asset with the given id, for benchmarks that build an
    /// index without a database.
    pub fn to_asset(&self, id: i64) -> crate::model::Asset {
        use crate::model::{Asset, AssetId, Attributes, Condition};
        Asset {
            id: AssetId(id),
            code: self.code.clone(),
            layer: self.layer,
            kind: self.kind,
            attrs: Attributes {
                kind: Some(self.kind),
                name: Some(self.name.clone()),
                name_bn: Some(self.name_bn.clone()),
                ward: self.ward,
                borough: self.borough.clone(),
                condition: Some(Condition::Unknown),
                source: Some(self.source.clone()),
                ..Default::default()
            },
            area_m2: crate::geom::geodesic_area_m2(&self.geometry),
            geometry: self.geometry.clone(),
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
            ward_from_location: false,
            lock: None,
        }
    }
}

const ROMAN: [&str; 16] = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV",
    "XVI",
];

/// Borough numeral (I–XVI) for a 1-based borough number.
pub fn roman(n: usize) -> &'static str {
    ROMAN[(n - 1).min(15)]
}

/// The stand-in ward layer: a 12 × 12 grid of cells over [`KMC_BOUNDS`], numbered 1–144
/// from the north-west, row by row (KMC numbers its wards roughly north to south), in
/// 16 boroughs of 3 × 3 cells. Not the real boundaries: named as synthetic.
pub fn ward_grid() -> Vec<SynthFeature> {
    let [x0, y0, x1, y1] = KMC_BOUNDS;
    let (dx, dy) = ((x1 - x0) / 12.0, (y1 - y0) / 12.0);
    let mut out = Vec::with_capacity(144);
    for row in 0..12 {
        for col in 0..12 {
            let ward = row * 12 + col + 1;
            let borough = (row / 3) * 4 + col / 3 + 1;
            let (left, top) = (x0 + col as f64 * dx, y1 - row as f64 * dy);
            let r = |v: f64| (v * 1e6).round() / 1e6;
            let ring = vec![
                (r(left), r(top - dy)),
                (r(left + dx), r(top - dy)),
                (r(left + dx), r(top)),
                (r(left), r(top)),
                (r(left), r(top - dy)),
            ];
            out.push(SynthFeature {
                layer: Layer::Wards,
                code: format!("WRD-{ward:03}"),
                kind: Kind::Ward,
                name: format!("Ward {ward} (synthetic grid cell)"),
                name_bn: format!("ওয়ার্ড {}", bengali_digits(ward)),
                ward: Some(ward as i64),
                borough: Some(roman(borough).to_string()),
                extra: vec![("synthetic", Value::Bool(true))],
                geometry: Geometry::Polygon(Polygon::new(LineString::from(ring), vec![])),
                source: "synthetic 12x12 grid over the KMC extent; stands in for ward boundaries until the city's ward file is imported".into(),
            });
        }
    }
    out
}

/// Writes a number in Bengali digits.
pub fn bengali_digits(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| char::from_u32(0x09E6 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
        .collect()
}

/// A simple (non-self-intersecting) blob: vertices at increasing angles around a centre,
/// radii jittered within [0.6 r, r]. Counter-clockwise, closed.
fn blob(rng: &mut ChaCha8Rng, cx: f64, cy: f64, radius_m: f64, vertices: usize) -> Polygon<f64> {
    let m_per_deg_lat = 110_574.0;
    let m_per_deg_lon = 111_320.0 * cy.to_radians().cos();
    let phase = rng.random::<f64>() * TAU;
    let mut ring: Vec<Coord<f64>> = (0..vertices)
        .map(|i| {
            let a = phase + TAU * i as f64 / vertices as f64;
            let r = radius_m * rng.random_range(0.6..1.0);
            Coord {
                x: round7(cx + r * a.cos() / m_per_deg_lon),
                y: round7(cy + r * a.sin() / m_per_deg_lat),
            }
        })
        .collect();
    ring.dedup();
    ring.push(ring[0]);
    Polygon::new(LineString::from(ring), vec![])
}

/// A rectangle `w` × `h` metres rotated by `angle` about its centre.
fn footprint(cx: f64, cy: f64, w: f64, h: f64, angle: f64) -> Polygon<f64> {
    let m_per_deg_lat = 110_574.0;
    let m_per_deg_lon = 111_320.0 * cy.to_radians().cos();
    let (s, c) = angle.sin_cos();
    let mut ring: Vec<Coord<f64>> = [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)]
        .iter()
        .map(|(u, v)| {
            let (x, y) = (u * w, v * h);
            Coord {
                x: round7(cx + (x * c - y * s) / m_per_deg_lon),
                y: round7(cy + (x * s + y * c) / m_per_deg_lat),
            }
        })
        .collect();
    ring.push(ring[0]);
    Polygon::new(LineString::from(ring), vec![])
}

fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

pub fn in_kmc(rng: &mut ChaCha8Rng) -> (f64, f64) {
    let [x0, y0, x1, y1] = KMC_BOUNDS;
    (rng.random_range(x0..x1), rng.random_range(y0..y1))
}

pub fn ward_at(x: f64, y: f64) -> (i64, String) {
    let [x0, _, x1, y1] = KMC_BOUNDS;
    let col = (((x - x0) / (x1 - x0) * 12.0) as usize).min(11);
    let row = (((y1 - y) / (y1 - KMC_BOUNDS[1]) * 12.0) as usize).min(11);
    (
        (row * 12 + col + 1) as i64,
        roman((row / 3) * 4 + col / 3 + 1).to_string(),
    )
}

/// City-scale synthetic layers over Kolkata: about 1,400 heritage footprints, 8,000 ponds
/// and 750 parks, as the real register will hold.
pub fn city(seed: u64) -> impl Iterator<Item = SynthFeature> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let source = format!("synthetic: heritage-atlas generate --scale city --seed {seed}");
    let grades = ["I", "IIA", "IIB", "III"];
    let conditions = ["good", "fair", "poor", "critical", "unknown"];
    (0..1_400 + 8_000 + 750).map(move |i| {
        let (x, y) = in_kmc(&mut rng);
        let (ward, borough) = ward_at(x, y);
        let condition = Value::from(conditions[rng.random_range(0..conditions.len())]);
        if i < 1_400 {
            let n = i + 1;
            let g = footprint(
                x,
                y,
                rng.random_range(15.0..60.0),
                rng.random_range(15.0..60.0),
                rng.random::<f64>() * TAU,
            );
            SynthFeature {
                layer: Layer::Heritage,
                code: format!("SYN-HER-{n:05}"),
                kind: Kind::Building,
                name: format!("Synthetic heritage building {n}"),
                name_bn: format!("কৃত্রিম ঐতিহ্য ভবন {}", bengali_digits(n)),
                ward: Some(ward),
                borough: Some(borough),
                extra: vec![
                    ("grade", grades[rng.random_range(0..4)].into()),
                    ("condition", condition),
                ],
                geometry: Geometry::Polygon(g),
                source: source.clone(),
            }
        } else if i < 9_400 {
            let n = i - 1_400 + 1;
            let vertices = rng.random_range(8..16);
            let radius = rng.random_range(10.0..60.0);
            let g = blob(&mut rng, x, y, radius, vertices);
            SynthFeature {
                layer: Layer::WaterBodies,
                code: format!("SYN-WAT-{n:05}"),
                kind: Kind::Pond,
                name: format!("Synthetic pond {n}"),
                name_bn: format!("কৃত্রিম পুকুর {}", bengali_digits(n)),
                ward: Some(ward),
                borough: Some(borough),
                extra: vec![("condition", condition)],
                geometry: Geometry::Polygon(g),
                source: source.clone(),
            }
        } else {
            let n = i - 9_400 + 1;
            let g = footprint(
                x,
                y,
                rng.random_range(40.0..220.0),
                rng.random_range(40.0..220.0),
                rng.random::<f64>() * TAU,
            );
            SynthFeature {
                layer: Layer::Parks,
                code: format!("SYN-PRK-{n:04}"),
                kind: Kind::Park,
                name: format!("Synthetic park {n}"),
                name_bn: format!("কৃত্রিম উদ্যান {}", bengali_digits(n)),
                ward: Some(ward),
                borough: Some(borough),
                extra: vec![("condition", condition)],
                geometry: Geometry::Polygon(g),
                source: source.clone(),
            }
        }
    })
}

/// Regions of India's land (lon/lat boxes) the national synthetic layer is spread over,
/// weighted by area. Coarse on purpose: it is load-test data.
const INDIA_BOXES: [[f64; 4]; 5] = [
    [68.5, 20.0, 88.0, 30.0],
    [73.0, 8.5, 80.5, 20.0],
    [80.5, 13.0, 87.0, 20.0],
    [88.0, 21.5, 97.0, 28.5],
    [74.0, 30.0, 79.0, 35.0],
];

/// India-scale synthetic water bodies: [`INDIA_WATER_BODIES`] ponds spread over India.
pub fn india(seed: u64) -> impl Iterator<Item = SynthFeature> {
    india_n(seed, INDIA_WATER_BODIES)
}

/// The first `n` of the india-scale layer (same seed, same prefix).
pub fn india_n(seed: u64, n: usize) -> impl Iterator<Item = SynthFeature> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x1d1a);
    let source = format!("synthetic: heritage-atlas generate --scale india --seed {seed}");
    let areas: Vec<f64> = INDIA_BOXES
        .iter()
        .map(|b| (b[2] - b[0]) * (b[3] - b[1]))
        .collect();
    let total: f64 = areas.iter().sum();
    (0..n).map(move |i| {
        let mut pick = rng.random::<f64>() * total;
        let mut b = INDIA_BOXES[0];
        for (bx, a) in INDIA_BOXES.iter().zip(&areas) {
            b = *bx;
            if pick < *a {
                break;
            }
            pick -= a;
        }
        let (x, y) = (rng.random_range(b[0]..b[2]), rng.random_range(b[1]..b[3]));
        let vertices = rng.random_range(6..12);
        let radius = rng.random_range(15.0..80.0);
        let g = blob(&mut rng, x, y, radius, vertices);
        let n = i + 1;
        SynthFeature {
            layer: Layer::WaterBodies,
            code: format!("SYN-IN-{n:07}"),
            kind: Kind::Pond,
            name: format!("Synthetic water body {n}"),
            name_bn: format!("কৃত্রিম জলাশয় {}", bengali_digits(n)),
            ward: None,
            borough: None,
            extra: vec![],
            geometry: Geometry::Polygon(g),
            source: source.clone(),
        }
    })
}

/// A wetland the shape of the East Kolkata Wetlands problem: one polygon of `vertices`
/// boundary points (a wobbly ring about 12 km across, east of the city) with `holes`
/// islands of 40 vertices each. For the "tile crossing a 20,000-vertex polygon" benchmark.
pub fn big_wetland(seed: u64, vertices: usize, holes: usize) -> SynthFeature {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (cx, cy, r): (f64, f64, f64) = (88.46, 22.52, 6_000.0);
    let m_lat = 110_574.0;
    let m_lon = 111_320.0 * cy.to_radians().cos();
    let ring: Vec<Coord<f64>> = (0..vertices)
        .map(|i| {
            let a = TAU * i as f64 / vertices as f64;
            // Slow swells plus fine wiggle: a coastline, not a circle.
            let k = 1.0
                + 0.15 * (a * 3.0).sin()
                + 0.05 * (a * 17.0).sin()
                + 0.01 * rng.random_range(-1.0..1.0);
            Coord {
                x: round7(cx + r * k * a.cos() / m_lon),
                y: round7(cy + r * k * a.sin() / m_lat),
            }
        })
        .chain(std::iter::once(Coord {
            x: round7(cx + r * 1.0 / m_lon),
            y: round7(cy),
        }))
        .collect();
    let mut ring = ring;
    ring.dedup();
    if ring.first() != ring.last() {
        ring.push(ring[0]);
    }
    let interiors = (0..holes)
        .map(|h| {
            // Islands on a spiral well inside the shell, far enough apart not to touch.
            let a = TAU * h as f64 / holes as f64 * 7.0;
            let d = r * (0.15 + 0.55 * h as f64 / holes as f64);
            let (hx, hy) = (cx + d * a.cos() / m_lon, cy + d * a.sin() / m_lat);
            blob(&mut rng, hx, hy, 120.0, 40).exterior().clone()
        })
        .collect();
    SynthFeature {
        layer: Layer::WaterBodies,
        code: "SYN-WETLAND".into(),
        kind: Kind::Wetland,
        name: "Synthetic wetland (20,000 vertices)".into(),
        name_bn: "কৃত্রিম জলাভূমি".into(),
        ward: None,
        borough: None,
        extra: vec![],
        geometry: Geometry::Polygon(Polygon::new(LineString::from(ring), interiors)),
        source: format!("synthetic: big_wetland seed {seed}"),
    }
}

/// Writes features as GeoJSONSeq (one Feature per line).
pub fn write_seq<W: Write>(
    mut out: W,
    features: impl Iterator<Item = SynthFeature>,
) -> std::io::Result<u64> {
    let mut n = 0;
    for f in features {
        serde_json::to_writer(&mut out, &f.to_geojson())?;
        out.write_all(b"\n")?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Validation;

    #[test]
    fn ward_grid_has_144_wards_in_16_boroughs() {
        let w = ward_grid();
        assert_eq!(w.len(), 144);
        let boroughs: std::collections::BTreeSet<_> =
            w.iter().filter_map(|f| f.borough.clone()).collect();
        assert_eq!(boroughs.len(), 16);
        assert_eq!(
            w.iter()
                .filter(|f| f.borough.as_deref() == Some("I"))
                .count(),
            9
        );
    }

    #[test]
    fn synthetic_layers_are_deterministic_and_valid() {
        let a: Vec<_> = city(42).take(2_000).map(|f| f.to_geojson()).collect();
        let b: Vec<_> = city(42).take(2_000).map(|f| f.to_geojson()).collect();
        assert_eq!(a, b);
        for f in city(7).step_by(37).chain(india_n(7, 2_000)) {
            if let Geometry::Polygon(p) = &f.geometry {
                assert!(p.is_valid(), "{} invalid", f.code);
            }
        }
        assert_eq!(city(1).count(), 10_150);
        // The same shape at a tenth of the detail (validating 20,000 vertices takes over a
        // minute in a debug build).
        let w = big_wetland(1, 2_000, 12);
        if let Geometry::Polygon(p) = &w.geometry {
            assert!(p.exterior().0.len() > 1_900 && p.interiors().len() == 12);
            assert!(p.is_valid(), "the big wetland must be a valid polygon");
        }
    }
}
