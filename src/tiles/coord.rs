//! Tile math: checked z/x/y coordinates and Web Mercator (EPSG:3857) conversions.

use geo_types::{Coord, Rect};

/// Deepest zoom served. At z22 a tile is about 10 m across at Kolkata's latitude: finer
/// than any footprint in the register.
pub const MAX_ZOOM: u8 = 22;
/// Tile extent in MVT units.
pub const EXTENT: u32 = 4096;
/// Buffer around each tile, in MVT units, so strokes and labels at edges join up.
pub const BUFFER: u32 = 64;

/// Half the Web Mercator world width in metres (π · 6,378,137).
pub const HALF_WORLD: f64 = 20_037_508.342_789_244;
/// Web Mercator's latitude limit.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

/// A tile address that is known to exist: `z ≤ MAX_ZOOM`, `x, y < 2^z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileCoord {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileCoord {
    /// Returns the tile if it exists.
    ///
    /// ```
    /// use heritage_atlas::tiles::TileCoord;
    /// assert!(TileCoord::new_checked(0, 0, 0).is_some());
    /// assert!(TileCoord::new_checked(1, 2, 0).is_none());
    /// assert!(TileCoord::new_checked(23, 0, 0).is_none());
    /// ```
    pub fn new_checked(z: u8, x: u32, y: u32) -> Option<TileCoord> {
        if z > MAX_ZOOM {
            return None;
        }
        let n = 1u32 << z;
        (x < n && y < n).then_some(TileCoord { z, x, y })
    }

    /// Width of the tile in Web Mercator metres.
    pub fn size_m(&self) -> f64 {
        2.0 * HALF_WORLD / f64::from(1u32 << self.z)
    }

    /// The tile's bounds in Web Mercator metres: (min x, min y, max x, max y).
    pub fn mercator_bounds(&self) -> [f64; 4] {
        // Each edge from its own index, so neighbouring tiles share edges exactly.
        let s = self.size_m();
        let edge_x = |i: u32| -HALF_WORLD + f64::from(i) * s;
        let edge_y = |i: u32| HALF_WORLD - f64::from(i) * s;
        [
            edge_x(self.x),
            edge_y(self.y + 1),
            edge_x(self.x + 1),
            edge_y(self.y),
        ]
    }

    /// Bounds grown by `buffer` MVT units on every side.
    pub fn buffered_mercator_bounds(&self, buffer: u32) -> [f64; 4] {
        let [a, b, c, d] = self.mercator_bounds();
        let m = self.size_m() * f64::from(buffer) / f64::from(EXTENT);
        [a - m, b - m, c + m, d + m]
    }

    /// Bounds in lon/lat degrees (buffered by `buffer` MVT units).
    pub fn lonlat_bounds(&self, buffer: u32) -> Rect<f64> {
        let [a, b, c, d] = self.buffered_mercator_bounds(buffer);
        let (w, s) = to_lonlat(a.max(-HALF_WORLD), b.max(-HALF_WORLD));
        let (e, n) = to_lonlat(c.min(HALF_WORLD), d.min(HALF_WORLD));
        Rect::new(Coord { x: w, y: s }, Coord { x: e, y: n })
    }

    /// The tile containing a lon/lat point at zoom `z`.
    pub fn containing(lon: f64, lat: f64, z: u8) -> TileCoord {
        let (mx, my) = to_mercator(lon, lat);
        let n = f64::from(1u32 << z);
        let s = 2.0 * HALF_WORLD / n;
        let x = (((mx + HALF_WORLD) / s).floor()).clamp(0.0, n - 1.0) as u32;
        let y = (((HALF_WORLD - my) / s).floor()).clamp(0.0, n - 1.0) as u32;
        TileCoord { z, x, y }
    }
}

/// Lon/lat degrees to Web Mercator metres; latitude clamped to Mercator's limit.
///
/// ```
/// use heritage_atlas::tiles::coord::to_mercator;
/// let (x, y) = to_mercator(180.0, 0.0);
/// assert!((x - 20_037_508.342789244).abs() < 1e-6 && y.abs() < 1e-9);
/// ```
#[inline]
pub fn to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LAT, MAX_LAT);
    let x = lon * HALF_WORLD / 180.0;
    let y = (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
        .tan()
        .ln()
        * HALF_WORLD
        / std::f64::consts::PI;
    (x, y)
}

/// Web Mercator metres to lon/lat degrees.
#[inline]
pub fn to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = x * 180.0 / HALF_WORLD;
    let lat = (2.0 * (y * std::f64::consts::PI / HALF_WORLD).exp().atan()
        - std::f64::consts::FRAC_PI_2)
        .to_degrees();
    (lon, lat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mercator_round_trips() {
        for (lon, lat) in [
            (88.3639, 22.5726),
            (-179.9, -80.0),
            (0.0, 0.0),
            (179.99, 85.0),
        ] {
            let (x, y) = to_mercator(lon, lat);
            let (a, b) = to_lonlat(x, y);
            assert!(
                (a - lon).abs() < 1e-9 && (b - lat).abs() < 1e-9,
                "{lon},{lat}"
            );
        }
    }

    #[test]
    fn tile_and_bounds_round_trip() {
        // Victoria Memorial's z14 tile is the one whose bounds contain it.
        let t = TileCoord::containing(88.3426, 22.5448, 14);
        assert_eq!((t.x, t.y), (12212, 7138)); // by the slippy-map formula, computed independently
        let r = t.lonlat_bounds(0);
        assert!(
            r.min().x <= 88.3426
                && 88.3426 <= r.max().x
                && r.min().y <= 22.5448
                && 22.5448 <= r.max().y
        );
        for z in 0..=MAX_ZOOM {
            let t = TileCoord::containing(88.3426, 22.5448, z);
            let r = t.lonlat_bounds(0);
            assert!(r.min().x <= 88.3426 && 88.3426 <= r.max().x, "z{z}");
            // Neighbouring tiles share edges exactly.
            if t.x + 1 < (1 << z) {
                let n = TileCoord::new_checked(z, t.x + 1, t.y).unwrap();
                assert_eq!(t.mercator_bounds()[2], n.mercator_bounds()[0]);
            }
        }
    }
}
