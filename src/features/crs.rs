//! Coordinate reference systems of OGC API - Features Part 2: the ones we serve, their
//! URIs, axis order, and the transforms from our WGS84 lon/lat storage (proj4rs).

use std::borrow::Cow;

use geo::MapCoords;
use geo_types::{Coord, Geometry, Rect};
use proj4rs::errors::Error as ProjError;
use proj4rs::proj::Proj;

pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// EPSG codes served besides CRS84: WGS84 (lat/lon axis order, as EPSG defines it), Web
/// Mercator, UTM zone 45N (Kolkata's), and WGS 84 / India NSF LCC.
pub const EPSG: [u16; 4] = [4326, 3857, 32645, 7755];

/// Every CRS URI we serve, CRS84 first.
pub fn supported() -> Vec<String> {
    std::iter::once(CRS84.to_string())
        .chain(EPSG.iter().map(|c| uri(*c)))
        .collect()
}

pub fn uri(code: u16) -> String {
    format!("http://www.opengis.net/def/crs/EPSG/0/{code}")
}

/// Why a CRS is not served, or a coordinate or box not taken back to lon/lat. proj4rs's
/// error is part of the message, not a `source()`.
#[derive(Debug, thiserror::Error)]
pub enum CrsError {
    #[error("unsupported CRS {given:?}; supported: {}", supported().join(", "))]
    Unsupported { given: String },
    #[error("WGS84: {0}")]
    Wgs84(ProjError),
    #[error("EPSG:{code}: {reason}")]
    Proj { code: u16, reason: ProjError },
    #[error("cannot transform ({x}, {y}) from {crs}: {reason}")]
    Transform {
        x: f64,
        y: f64,
        crs: String,
        reason: ProjError,
    },
    #[error("bbox is outside the area of {0}")]
    OutsideArea(String),
}

/// An output (or `bbox-crs`) CRS and the way there from WGS84 lon/lat.
pub struct Crs {
    pub uri: String,
    pub code: Option<u16>,
    /// EPSG:4326 is latitude first.
    lat_first: bool,
    /// `None`: degrees, no projection.
    proj: Option<(Proj, Proj)>,
}

impl std::fmt::Debug for Crs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.uri)
    }
}

impl Crs {
    pub fn crs84() -> Crs {
        Crs {
            uri: CRS84.into(),
            code: None,
            lat_first: false,
            proj: None,
        }
    }

    /// Parses a CRS URI (or `EPSG:n`); an unsupported one is an error listing ours.
    pub fn parse(s: &str) -> Result<Crs, CrsError> {
        let t = s.trim();
        let upper = t.to_ascii_uppercase();
        if upper.ends_with("CRS84") || upper.ends_with("CRS84]") {
            return Ok(Crs::crs84());
        }
        let code = crate::import::crs::epsg_code(t)
            .ok()
            .flatten()
            .filter(|c| EPSG.contains(c) && !upper.contains("CRS84"))
            .ok_or_else(|| CrsError::Unsupported {
                given: t.to_string(),
            })?;
        if code == 4326 {
            return Ok(Crs {
                uri: uri(4326),
                code: Some(4326),
                lat_first: true,
                proj: None,
            });
        }
        let wgs = Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs")
            .map_err(CrsError::Wgs84)?;
        let dst = Proj::from_epsg_code(code).map_err(|reason| CrsError::Proj { code, reason })?;
        Ok(Crs {
            uri: uri(code),
            code: Some(code),
            lat_first: false,
            proj: Some((wgs, dst)),
        })
    }

    pub fn is_crs84(&self) -> bool {
        self.code.is_none()
    }

    /// `<uri>` as the `Content-Crs` header wants it.
    pub fn header(&self) -> String {
        format!("<{}>", self.uri)
    }

    /// One lon/lat coordinate into this CRS (axis order included).
    pub fn forward(&self, c: Coord<f64>) -> Coord<f64> {
        if self.lat_first {
            return Coord { x: c.y, y: c.x };
        }
        let Some((src, dst)) = &self.proj else {
            return c;
        };
        let mut p = (c.x.to_radians(), c.y.to_radians(), 0.0);
        match proj4rs::transform::transform(src, dst, &mut p) {
            Ok(()) => Coord { x: p.0, y: p.1 },
            Err(_) => Coord {
                x: f64::NAN,
                y: f64::NAN,
            },
        }
    }

    /// One coordinate of this CRS back to lon/lat (for `bbox-crs`).
    pub fn inverse(&self, c: Coord<f64>) -> Result<Coord<f64>, CrsError> {
        if self.lat_first {
            return Ok(Coord { x: c.y, y: c.x });
        }
        let Some((wgs, proj)) = &self.proj else {
            return Ok(c);
        };
        let mut p = (c.x, c.y, 0.0);
        proj4rs::transform::transform(proj, wgs, &mut p).map_err(|reason| CrsError::Transform {
            x: c.x,
            y: c.y,
            crs: self.uri.clone(),
            reason,
        })?;
        Ok(Coord {
            x: p.0.to_degrees(),
            y: p.1.to_degrees(),
        })
    }

    /// A geometry into this CRS (borrowed as it is in CRS84: no copy of every feature).
    pub fn geometry<'g>(&self, g: &'g Geometry<f64>) -> Cow<'g, Geometry<f64>> {
        if self.is_crs84() {
            return Cow::Borrowed(g);
        }
        Cow::Owned(g.map_coords(|c| self.forward(c)))
    }

    /// A box given in this CRS (its axis order) as a lon/lat box; corners and edge
    /// midpoints are transformed so a projected box's curved edges are covered.
    pub fn bbox_to_lonlat(&self, b: [f64; 4]) -> Result<Rect<f64>, CrsError> {
        let (x0, y0, x1, y1) = (b[0], b[1], b[2], b[3]);
        let pts = [
            (x0, y0),
            (x1, y0),
            (x0, y1),
            (x1, y1),
            ((x0 + x1) / 2.0, y0),
            ((x0 + x1) / 2.0, y1),
            (x0, (y0 + y1) / 2.0),
            (x1, (y0 + y1) / 2.0),
        ];
        let mut lo = Coord {
            x: f64::MAX,
            y: f64::MAX,
        };
        let mut hi = Coord {
            x: f64::MIN,
            y: f64::MIN,
        };
        for (x, y) in pts {
            let c = self.inverse(Coord { x, y })?;
            lo = Coord {
                x: lo.x.min(c.x),
                y: lo.y.min(c.y),
            };
            hi = Coord {
                x: hi.x.max(c.x),
                y: hi.y.max(c.y),
            };
        }
        if !(lo.x.is_finite() && lo.y.is_finite() && hi.x.is_finite() && hi.y.is_finite()) {
            return Err(CrsError::OutsideArea(self.uri.clone()));
        }
        Ok(Rect::new(lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_crs_round_trips_kolkata_to_a_centimetre() {
        let vm = Coord {
            x: 88.3426,
            y: 22.5448,
        };
        for code in EPSG {
            let c = Crs::parse(&uri(code)).unwrap();
            let there = c.forward(vm);
            let back = c.inverse(there).unwrap();
            assert!(
                (back.x - vm.x).abs() < 1e-7 && (back.y - vm.y).abs() < 1e-7,
                "{code}"
            );
        }
        let c4326 = Crs::parse("EPSG:4326").unwrap().forward(vm);
        assert_eq!((c4326.x, c4326.y), (vm.y, vm.x), "EPSG:4326 is lat, lon");
        let merc = Crs::parse(&uri(3857)).unwrap().forward(vm);
        assert!((merc.x - 9_834_244.0).abs() < 100.0, "{merc:?}");
        let utm = Crs::parse(&uri(32645)).unwrap().forward(vm);
        assert!(
            utm.x > 600_000.0 && utm.x < 700_000.0 && utm.y > 2_400_000.0,
            "{utm:?}"
        );
        assert_eq!(
            Crs::parse("EPSG:27700").unwrap_err().to_string(),
            format!(
                "unsupported CRS \"EPSG:27700\"; supported: {}",
                supported().join(", ")
            )
        );
        assert!(Crs::parse(CRS84).unwrap().is_crs84());
    }
}
