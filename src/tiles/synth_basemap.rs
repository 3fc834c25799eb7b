//! `generate-basemap`: a small synthetic street basemap of central Kolkata in the
//! Protomaps basemap schema (layers `earth`, `water`, `landuse`, `roads`, `buildings`,
//! `places`; names in English and Bengali), as a PMTiles archive — for tests, and to try
//! `serve --basemap` without an OpenStreetMap extract. Its streets are a grid, not the
//! city's: a real extract is in README, "Street basemap".

use std::io::BufWriter;
use std::path::Path;

use pmtiles::{Compression, PmTilesWriter, TileType};

use super::cache::{compress, Coding, Effort};
use super::coord::to_mercator;
use super::mvt::{GeomType, LayerWriter, Val};
use super::TileCoord;

/// The box the synthetic basemap covers (west, south, east, north).
pub const BBOX: [f64; 4] = [88.30, 22.50, 88.40, 22.60];
pub const MINZOOM: u8 = 10;
pub const MAXZOOM: u8 = 15;

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Point,
    Line,
    Area,
}

struct Feature {
    layer: &'static str,
    shape: Shape,
    /// lon/lat; an area's ring is closed implicitly.
    coords: Vec<(f64, f64)>,
    kind: &'static str,
    name: Option<(String, String)>,
    min_zoom: i64,
}

/// Bengali digits for a number.
fn bn_digits(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| char::from_u32(0x09E6 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
        .collect()
}

fn features() -> Vec<Feature> {
    let [w, s, e, n] = BBOX;
    let rect = |x0: f64, y0: f64, x1: f64, y1: f64| vec![(x0, y1), (x1, y1), (x1, y0), (x0, y0)];
    let mut v = vec![Feature {
        layer: "earth",
        shape: Shape::Area,
        coords: rect(w, s, e, n),
        kind: "earth",
        name: None,
        min_zoom: 0,
    }];
    // The river, west of the grid, with its name along it.
    let river = (88.322, 88.331);
    v.push(Feature {
        layer: "water",
        shape: Shape::Area,
        coords: rect(river.0, s, river.1, n),
        kind: "water",
        name: None,
        min_zoom: 0,
    });
    v.push(Feature {
        layer: "water",
        shape: Shape::Line,
        coords: vec![
            ((river.0 + river.1) / 2.0, s),
            ((river.0 + river.1) / 2.0, n),
        ],
        kind: "river",
        name: Some(("Hooghly River".into(), "হুগলি নদী".into())),
        min_zoom: 8,
    });
    v.push(Feature {
        layer: "landuse",
        shape: Shape::Area,
        coords: rect(88.338, 22.548, 88.350, 22.566),
        kind: "park",
        name: Some(("Maidan".into(), "ময়দান".into())),
        min_zoom: 10,
    });
    // A grid east of the river: avenues (north–south) and streets (east–west) every
    // 0.01°, lanes and roads between them every 0.0025°.
    let x0 = 88.3405;
    let steps = |from: f64, to: f64| {
        (0usize..)
            .map(move |i| (i, from + i as f64 * 0.0025))
            .take_while(move |(_, v)| *v <= to)
    };
    // The `i`th road of a direction: every fourth a major one, numbered among its kind.
    let road = |i: usize, coords: Vec<(f64, f64)>, major: (&str, &str), minor: (&str, &str)| {
        let is_major = i.is_multiple_of(4);
        let (k, (en, bn)) = if is_major {
            (i / 4 + 1, major)
        } else {
            (i + 1, minor)
        };
        Feature {
            layer: "roads",
            shape: Shape::Line,
            coords,
            kind: if is_major { "major_road" } else { "minor_road" },
            name: Some((format!("{en} {k}"), format!("{bn} {}", bn_digits(k)))),
            min_zoom: if is_major { 9 } else { 13 },
        }
    };
    for (i, x) in steps(x0, e) {
        let mut avenue = road(
            i,
            vec![(x, s), (x, n)],
            ("Avenue", "অ্যাভিনিউ"),
            ("Lane", "লেন"),
        );
        if i == 4 {
            avenue.name = Some((
                "Jawaharlal Nehru Road".to_string(),
                "জওহরলাল নেহরু রোড".to_string(),
            ));
        }
        v.push(avenue);
    }
    for (j, y) in steps(s, n) {
        v.push(road(
            j,
            vec![(x0, y), (e, y)],
            ("Street", "স্ট্রিট"),
            ("Road", "রোড"),
        ));
    }
    // A railway along the east.
    v.push(Feature {
        layer: "roads",
        shape: Shape::Line,
        coords: vec![(88.392, s), (88.392, n)],
        kind: "rail",
        name: None,
        min_zoom: 10,
    });
    // A building in each central block.
    let mut bx = 88.3355;
    while bx < 88.375 {
        let mut by = 22.5405;
        while by < 22.575 {
            v.push(Feature {
                layer: "buildings",
                shape: Shape::Area,
                coords: rect(bx, by, bx + 0.0013, by + 0.0013),
                kind: "building",
                name: None,
                min_zoom: 14,
            });
            by += 0.0025;
        }
        bx += 0.0025;
    }
    for (lon, lat, kind, en, bn, z) in [
        (88.3639, 22.5726, "locality", "Kolkata", "কলকাতা", 4),
        (88.3460, 22.5560, "neighbourhood", "Maidan", "ময়দান", 12),
        (
            88.3470,
            22.5330,
            "neighbourhood",
            "Bhowanipore",
            "ভবানীপুর",
            12,
        ),
        (
            88.3520,
            22.5530,
            "neighbourhood",
            "Park Street",
            "পার্ক স্ট্রিট",
            12,
        ),
    ] {
        v.push(Feature {
            layer: "places",
            shape: Shape::Point,
            coords: vec![(lon, lat)],
            kind,
            name: Some((en.into(), bn.into())),
            min_zoom: z,
        });
    }
    v
}

/// The layer order in each tile.
const LAYERS: [&str; 6] = ["earth", "water", "landuse", "roads", "buildings", "places"];

fn encode(t: TileCoord, all: &[Feature]) -> Vec<u8> {
    let [mx0, _, _, my1] = t.mercator_bounds();
    let scale = f64::from(super::EXTENT) / t.size_m();
    let to_tile = |(lon, lat): (f64, f64)| {
        let (x, y) = to_mercator(lon, lat);
        (
            ((x - mx0) * scale).round() as i32,
            ((my1 - y) * scale).round() as i32,
        )
    };
    let query = t.lonlat_bounds(super::BUFFER);
    let mut tile = Vec::new();
    for layer in LAYERS {
        let mut w = LayerWriter::new(layer, 16);
        for f in all.iter().filter(|f| f.layer == layer) {
            if i64::from(t.z) < f.min_zoom {
                continue;
            }
            let (lo, hi) = f.coords.iter().fold(
                ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN)),
                |(lo, hi), &(x, y)| ((lo.0.min(x), lo.1.min(y)), (hi.0.max(x), hi.1.max(y))),
            );
            if hi.0 < query.min().x
                || lo.0 > query.max().x
                || hi.1 < query.min().y
                || lo.1 > query.max().y
            {
                continue;
            }
            // Coordinates past the tile's edge are kept (MapLibre clips): the features are
            // few and straight.
            let coords: Vec<(i32, i32)> = f.coords.iter().map(|c| to_tile(*c)).collect();
            let ty = match f.shape {
                Shape::Point => GeomType::Point,
                Shape::Line => GeomType::Linestring,
                Shape::Area => GeomType::Polygon,
            };
            let Some(start) = w.begin_parts(ty, &coords, 0, &[coords.len() as u32]) else {
                continue;
            };
            w.tag("kind", Val::Str(f.kind));
            w.tag("min_zoom", Val::Int(f.min_zoom));
            if let Some((en, bn)) = &f.name {
                w.tag("name", Val::Str(en));
                w.tag("name:en", Val::Str(en));
                w.tag("name:bn", Val::Str(bn));
            }
            if layer == "places" {
                w.tag(
                    "population_rank",
                    Val::Int(if f.kind == "locality" { 12 } else { 4 }),
                );
            }
            w.end(start, None);
        }
        if !w.is_empty() {
            w.finish(&mut tile);
        }
    }
    tile
}

/// Writes the synthetic basemap to `out`; returns the number of tiles.
pub fn write(out: &Path) -> anyhow::Result<usize> {
    let all = features();
    let [w, s, e, n] = BBOX;
    let metadata = serde_json::json!({
        "name": "heritage-atlas synthetic streets",
        "description": "A synthetic street grid over central Kolkata in the Protomaps basemap schema, for tests (not the city's streets)",
        "attribution": super::archive::OSM_ATTRIBUTION,
        "vector_layers": LAYERS.iter().map(|l| serde_json::json!({"id": l, "fields": {}})).collect::<Vec<_>>(),
    });
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .precompressed(Compression::Gzip)
        .min_zoom(MINZOOM)
        .max_zoom(MAXZOOM)
        .bounds(w, s, e, n)
        .center((w + e) / 2.0, (s + n) / 2.0)
        .center_zoom(14)
        .metadata(metadata.to_string())
        .create(BufWriter::new(std::fs::File::create(out)?))?;
    let mut count = 0;
    for z in MINZOOM..=MAXZOOM {
        let mut tiles = super::build::covering(BBOX, z);
        tiles.sort_unstable_by_key(|t| super::build::hilbert(*t));
        for t in tiles {
            let raw = encode(t, &all);
            if raw.is_empty() {
                continue;
            }
            let gz = compress(&raw, Coding::Gzip, Effort::Once);
            writer.add_tile(pmtiles::TileCoord::new(t.z, t.x, t.y)?, &gz)?;
            count += 1;
        }
    }
    writer.finalize()?;
    Ok(count)
}
