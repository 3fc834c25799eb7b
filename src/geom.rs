//! Geometry rules and measures shared by import, index and queries: what a valid asset
//! geometry is, its bounding box and area, and ground distance from a point to it.
//!
//! All geometries here are WGS84 lon/lat degrees.

use geo::line_measures::Distance;
use geo::{
    BoundingRect, Closest, ClosestPoint, CoordsIter, Geodesic, GeodesicArea, Intersects, MapCoords,
    Validation,
};
use geo_types::{Coord, Geometry, Point, Rect};

/// Metres per degree of latitude, at its smallest (the equator). Dividing a distance by it
/// gives a latitude span that is never too small.
const MIN_M_PER_DEG_LAT: f64 = 110_574.0;
/// Metres per degree of longitude at the equator.
const M_PER_DEG_LON_EQ: f64 = 111_320.0;

/// Why a geometry cannot be an asset's geometry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryProblem {
    #[error("geometry is empty")]
    Empty,
    #[error("coordinate {index} is not a finite number ({x}, {y})")]
    NotFinite { index: usize, x: f64, y: f64 },
    #[error("coordinate {index} ({x}, {y}) is outside longitude -180..180 / latitude -90..90")]
    OutOfRange { index: usize, x: f64, y: f64 },
    #[error("{count} vertices exceed the cap of {cap} per geometry")]
    TooManyVertices { count: usize, cap: usize },
    #[error("invalid polygon: {0}")]
    InvalidPolygon(String),
    #[error("invalid line: {0}")]
    InvalidLine(String),
    #[error("geometry collections are not accepted; split them into separate features")]
    Collection,
}

/// Checks that `g` is usable as an asset's geometry: non-empty, finite, in lon/lat range,
/// at most `max_vertices` vertices, and (for polygons) OGC-valid — closed rings of at
/// least three distinct points with no self-intersections, holes inside the shell.
///
/// Rings are closed by geo-types on construction, so an *unclosed* ring in the source
/// must be caught by the reader, before conversion.
pub fn validate(g: &Geometry<f64>, max_vertices: usize) -> Result<(), GeometryProblem> {
    if matches!(g, Geometry::GeometryCollection(_)) {
        return Err(GeometryProblem::Collection);
    }
    let mut count = 0usize;
    for (index, c) in g.coords_iter().enumerate() {
        count += 1;
        if !c.x.is_finite() || !c.y.is_finite() {
            return Err(GeometryProblem::NotFinite {
                index,
                x: c.x,
                y: c.y,
            });
        }
        if !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y) {
            return Err(GeometryProblem::OutOfRange {
                index,
                x: c.x,
                y: c.y,
            });
        }
    }
    if count == 0 {
        return Err(GeometryProblem::Empty);
    }
    if count > max_vertices {
        return Err(GeometryProblem::TooManyVertices {
            count,
            cap: max_vertices,
        });
    }
    match g {
        Geometry::Polygon(p) => p
            .check_validation()
            .map_err(|e| GeometryProblem::InvalidPolygon(e.to_string())),
        Geometry::MultiPolygon(mp) => mp
            .check_validation()
            .map_err(|e| GeometryProblem::InvalidPolygon(e.to_string())),
        Geometry::LineString(ls) => ls
            .check_validation()
            .map_err(|e| GeometryProblem::InvalidLine(e.to_string())),
        Geometry::MultiLineString(mls) => mls
            .check_validation()
            .map_err(|e| GeometryProblem::InvalidLine(e.to_string())),
        _ => Ok(()),
    }
}

/// Bounding box, or `None` for an empty geometry.
pub fn bbox(g: &Geometry<f64>) -> Option<Rect<f64>> {
    g.bounding_rect()
}

/// Geodesic (WGS84 ellipsoid) area in m² of a polygonal geometry; `None` for points and lines.
pub fn geodesic_area_m2(g: &Geometry<f64>) -> Option<f64> {
    match g {
        Geometry::Polygon(p) => Some(p.geodesic_area_unsigned()),
        Geometry::MultiPolygon(mp) => Some(mp.geodesic_area_unsigned()),
        _ => None,
    }
}

/// Ground distance in metres from `p` to the nearest point of `g` — zero when `p` lies
/// inside or on it (holes respected).
///
/// The nearest point is found in a plane tangent at `p` (equirectangular about `p`, whose
/// distortion over the few kilometres a query spans is far below a metre), and the
/// distance to it is then measured on the WGS84 ellipsoid.
pub fn distance_m(p: Point<f64>, g: &Geometry<f64>) -> f64 {
    if g.intersects(&p) {
        return 0.0;
    }
    let plane = LocalPlane::at(p);
    let local = g.map_coords(|c| plane.forward(c));
    match local.closest_point(&Point::new(0.0, 0.0)) {
        Closest::Intersection(_) => 0.0,
        Closest::SinglePoint(q) => Geodesic.distance(p, Point::from(plane.inverse(q.0))),
        // Several points equally near (e.g. the centre of a circle of vertices): any one
        // gives the distance; fall back to the nearest vertex.
        Closest::Indeterminate => g
            .coords_iter()
            .map(|c| Geodesic.distance(p, Point::from(c)))
            .fold(f64::INFINITY, f64::min),
    }
}

/// Ground distance in metres between two geometries — zero where they touch or overlap —
/// for screening a proposed work (an alignment, a plot) against the register.
///
/// Their nearest approach is found in a plane tangent at the middle of `b` (the asset,
/// small beside the work), equirectangular as [`distance_m`]'s is. Over the few kilometres
/// a screening spans its scale error is below 0.1 % (6 m at 10 km, 0.3 m at 500 m at
/// Kolkata's latitude).
pub fn distance_between_m(a: &Geometry<f64>, b: &Geometry<f64>) -> f64 {
    if a.intersects(b) {
        return 0.0;
    }
    let Some(centre) = b.bounding_rect().map(|r| r.center()) else {
        return f64::INFINITY;
    };
    let plane = LocalPlane::at(Point::from(centre));
    let la = a.map_coords(|c| plane.forward(c));
    let lb = b.map_coords(|c| plane.forward(c));
    geo::Euclidean.distance(&la, &lb)
}

/// The box around `r` reaching at least `metres` further on every side on the ground.
pub fn grow_rect_m(r: Rect<f64>, metres: f64) -> Rect<f64> {
    let dlat = metres / MIN_M_PER_DEG_LAT * 1.01;
    let lat_max = (r.min().y.abs().max(r.max().y.abs()) + dlat).min(89.0);
    let dlon = metres / (M_PER_DEG_LON_EQ * lat_max.to_radians().cos()) * 1.01;
    Rect::new(
        Coord {
            x: r.min().x - dlon,
            y: r.min().y - dlat,
        },
        Coord {
            x: r.max().x + dlon,
            y: r.max().y + dlat,
        },
    )
}

/// A lower bound, in metres, on the ground distance from `p` to any point at least
/// `d_deg` degrees away from it in the plain lon/lat plane.
///
/// A degree of latitude is at least 110,574 m and a degree of longitude at least
/// 111,320·cos(φ) m, where φ is the largest latitude within reach; the smaller of the two
/// scales every component of the offset from below. The 1 % margin covers the ellipsoid's
/// departure from those figures over the ≤ 100 km a query spans.
pub fn min_ground_m(p: Point<f64>, d_deg: f64) -> f64 {
    let lat_max = (p.y().abs() + d_deg).min(89.999);
    let per_deg = MIN_M_PER_DEG_LAT.min(M_PER_DEG_LON_EQ * lat_max.to_radians().cos());
    d_deg * per_deg * 0.99
}

/// Equirectangular plane about a point, in metres.
struct LocalPlane {
    lon0: f64,
    lat0: f64,
    kx: f64,
    ky: f64,
}

impl LocalPlane {
    /// Metres per degree from the WGS84 ellipsoid's radii of curvature at `p`'s latitude
    /// (meridional for north-south, prime vertical for east-west), so a short distance in
    /// the plane is the ground's to within its curvature, not a sphere's 0.2 % off.
    fn at(p: Point<f64>) -> Self {
        const A: f64 = 6_378_137.0;
        const E2: f64 = 0.006_694_379_990_14;
        let phi = p.y().to_radians();
        let w = 1.0 - E2 * phi.sin().powi(2);
        let n = A / w.sqrt();
        let m = A * (1.0 - E2) / (w * w.sqrt());
        let per_rad = std::f64::consts::PI / 180.0;
        LocalPlane {
            lon0: p.x(),
            lat0: p.y(),
            kx: n * phi.cos() * per_rad,
            ky: m * per_rad,
        }
    }
    fn forward(&self, c: Coord<f64>) -> Coord<f64> {
        Coord {
            x: (c.x - self.lon0) * self.kx,
            y: (c.y - self.lat0) * self.ky,
        }
    }
    fn inverse(&self, c: Coord<f64>) -> Coord<f64> {
        Coord {
            x: c.x / self.kx + self.lon0,
            y: c.y / self.ky + self.lat0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use geo_types::{line_string, polygon};

    fn square(x0: f64, y0: f64, d: f64) -> Geometry<f64> {
        Geometry::Polygon(polygon![
            (x: x0, y: y0), (x: x0 + d, y: y0), (x: x0 + d, y: y0 + d), (x: x0, y: y0 + d), (x: x0, y: y0)
        ])
    }

    #[test]
    fn distance_between_agrees_with_the_ellipsoid_for_a_point() {
        // A point beside a pond: the plane's answer and the ellipsoid's (distance_m) agree
        // within 0.1 %, at 50 m and at 3 km.
        let pond = square(88.30, 22.50, 0.01);
        for dx in [0.0005, 0.03] {
            let p = Point::new(88.31 + dx, 22.505);
            let plane = distance_between_m(&Geometry::Point(p), &pond);
            let ellipsoid = distance_m(p, &pond);
            assert_relative_eq!(plane, ellipsoid, max_relative = 0.001);
        }
        assert_eq!(
            distance_between_m(&Geometry::Point(Point::new(88.305, 22.505)), &pond),
            0.0
        );
    }

    #[test]
    fn grown_box_reaches_far_enough() {
        let r = Rect::new(Coord { x: 88.3, y: 22.5 }, Coord { x: 88.4, y: 22.6 });
        let g = grow_rect_m(r, 500.0);
        // 500 m east of the box's north-east corner, on the ellipsoid, is still inside.
        let corner = Point::new(88.4, 22.6);
        use geo::Destination;
        let east = Geodesic.destination(corner, 90.0, 500.0);
        let north = Geodesic.destination(corner, 0.0, 500.0);
        assert!(g.intersects(&east) && g.intersects(&north));
    }

    #[test]
    fn point_inside_pond_is_zero_metres_away() {
        let pond = square(88.36, 22.51, 0.001);
        assert_eq!(distance_m(Point::new(88.3605, 22.5105), &pond), 0.0);
    }

    #[test]
    fn distance_is_to_nearest_edge_not_centroid() {
        // A square 0.01° wide; a point 0.001° east of its east edge at mid-height.
        let pond = square(88.30, 22.50, 0.01);
        let d = distance_m(Point::new(88.311, 22.505), &pond);
        // 0.001° of longitude at 22.505°N on the ellipsoid is ≈ 102.9 m.
        let expected = Geodesic.distance(Point::new(88.311, 22.505), Point::new(88.310, 22.505));
        assert_relative_eq!(d, expected, max_relative = 1e-4);
        assert!((102.0..104.0).contains(&d), "{d}");
    }

    #[test]
    fn hole_is_outside() {
        let shell = line_string![(x: 0.0, y: 0.0), (x: 0.01, y: 0.0), (x: 0.01, y: 0.01), (x: 0.0, y: 0.01), (x: 0.0, y: 0.0)];
        let hole = line_string![(x: 0.004, y: 0.004), (x: 0.006, y: 0.004), (x: 0.006, y: 0.006), (x: 0.004, y: 0.006), (x: 0.004, y: 0.004)];
        let g = Geometry::Polygon(geo_types::Polygon::new(shell, vec![hole]));
        let d = distance_m(Point::new(0.005, 0.005), &g);
        assert!(d > 100.0 && d < 112.0, "{d}");
    }

    #[test]
    fn validation_rejects_bowtie_nan_range_and_cap() {
        let bowtie = Geometry::Polygon(
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0), (x: 1.0, y: 0.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)],
        );
        assert!(matches!(
            validate(&bowtie, 100),
            Err(GeometryProblem::InvalidPolygon(_))
        ));
        let nan = Geometry::Point(Point::new(f64::NAN, 1.0));
        assert!(matches!(
            validate(&nan, 100),
            Err(GeometryProblem::NotFinite { .. })
        ));
        let far = Geometry::Point(Point::new(190.0, 1.0));
        assert!(matches!(
            validate(&far, 100),
            Err(GeometryProblem::OutOfRange { .. })
        ));
        assert!(matches!(
            validate(&square(0.0, 0.0, 1.0), 4),
            Err(GeometryProblem::TooManyVertices { .. })
        ));
        assert!(validate(&square(0.0, 0.0, 1.0), 5).is_ok());
    }

    #[test]
    fn area_of_a_known_square() {
        // ~111 m × ~103 m near Kolkata.
        let a = geodesic_area_m2(&square(88.36, 22.51, 0.001)).unwrap();
        assert!((11_300.0..11_600.0).contains(&a), "{a}");
    }
}
