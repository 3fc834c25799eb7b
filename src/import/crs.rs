//! Reprojection of source coordinates to WGS84 lon/lat with `proj4rs` (pure Rust).
//!
//! Sources name their CRS as `EPSG:32645`, `32645`, `urn:ogc:def:crs:EPSG::32645`,
//! `http://www.opengis.net/def/crs/EPSG/0/32645`, `CRS84`, or a `+proj=` string.

use geo::MapCoords;
use geo_types::{Coord, Geometry};
use proj4rs::errors::Error as ProjError;
use proj4rs::proj::Proj;

/// Why a source CRS cannot be used, or a coordinate not reprojected from it. proj4rs's
/// error is part of the message, not a `source()`, so a `{:#}` chain (the command line's)
/// prints it once.
#[derive(Debug, thiserror::Error)]
pub enum CrsError {
    #[error("unrecognised CRS {0:?}: use EPSG:NNNN")]
    Unrecognised(String),
    #[error("CRS EPSG:{code} is not known to proj4rs: {reason}")]
    UnknownCode { code: u16, reason: ProjError },
    #[error("CRS {name:?}: {reason}")]
    ProjString { name: String, reason: ProjError },
    #[error("WGS84: {0}")]
    Wgs84(ProjError),
    #[error("cannot reproject ({x}, {y}) from {crs}: {reason}")]
    Transform {
        x: f64,
        y: f64,
        crs: String,
        reason: ProjError,
    },
}

/// A source CRS and the way to WGS84.
pub struct Reprojector {
    /// `None` when the source already is WGS84 lon/lat: coordinates pass untouched.
    from: Option<(Proj, Proj)>,
    name: String,
}

impl std::fmt::Debug for Reprojector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reprojector")
            .field("crs", &self.name)
            .finish()
    }
}

/// Parses a CRS name to an EPSG code, or `None` for a `+proj` string. CRS84 is 4326:
/// both are taken in lon/lat order, as GeoJSON and GDAL's traditional GIS order do.
pub fn epsg_code(name: &str) -> Result<Option<u16>, CrsError> {
    let s = name.trim();
    if s.starts_with('+') {
        return Ok(None);
    }
    let upper = s.to_ascii_uppercase();
    if upper.ends_with("CRS84") || upper == "WGS84" {
        return Ok(Some(4326));
    }
    let digits = upper
        .rsplit([':', '/'])
        .next()
        .filter(|_| upper.contains("EPSG") || upper.chars().all(|c| c.is_ascii_digit()))
        .ok_or_else(|| CrsError::Unrecognised(s.to_string()))?;
    digits
        .parse::<u16>()
        .map(Some)
        .map_err(|_| CrsError::Unrecognised(s.to_string()))
}

impl Reprojector {
    /// The identity: source already WGS84 lon/lat.
    pub fn wgs84() -> Self {
        Reprojector {
            from: None,
            name: "EPSG:4326".into(),
        }
    }

    /// Builds the transform from `name` to WGS84; an unknown code is an error naming it.
    pub fn new(name: &str) -> Result<Self, CrsError> {
        let code = epsg_code(name)?;
        if code == Some(4326) {
            return Ok(Self::wgs84());
        }
        let src = match code {
            Some(code) => Proj::from_epsg_code(code)
                .map_err(|reason| CrsError::UnknownCode { code, reason })?,
            None => Proj::from_proj_string(name).map_err(|reason| CrsError::ProjString {
                name: name.to_string(),
                reason,
            })?,
        };
        let dst = Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs")
            .map_err(CrsError::Wgs84)?;
        let label = code
            .map(|c| format!("EPSG:{c}"))
            .unwrap_or_else(|| name.to_string());
        Ok(Reprojector {
            from: Some((src, dst)),
            name: label,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_identity(&self) -> bool {
        self.from.is_none()
    }

    /// Transforms one coordinate to lon/lat degrees. Non-finite input stays non-finite so
    /// that validation reports it rather than the projection.
    pub fn coord(&self, c: Coord<f64>) -> Result<Coord<f64>, CrsError> {
        let Some((src, dst)) = &self.from else {
            return Ok(c);
        };
        if !c.x.is_finite() || !c.y.is_finite() {
            return Ok(c);
        }
        let mut p = if src.is_latlong() {
            (c.x.to_radians(), c.y.to_radians(), 0.0)
        } else {
            (c.x, c.y, 0.0)
        };
        proj4rs::transform::transform(src, dst, &mut p).map_err(|reason| CrsError::Transform {
            x: c.x,
            y: c.y,
            crs: self.name.clone(),
            reason,
        })?;
        Ok(Coord {
            x: p.0.to_degrees(),
            y: p.1.to_degrees(),
        })
    }

    /// Transforms every coordinate of a geometry.
    pub fn geometry(&self, g: Geometry<f64>) -> Result<Geometry<f64>, CrsError> {
        if self.from.is_none() {
            return Ok(g);
        }
        g.try_map_coords(|c| self.coord(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_to_codes() {
        assert_eq!(epsg_code("EPSG:32645").unwrap(), Some(32645));
        assert_eq!(epsg_code("urn:ogc:def:crs:EPSG::7755").unwrap(), Some(7755));
        assert_eq!(
            epsg_code("http://www.opengis.net/def/crs/EPSG/0/3857").unwrap(),
            Some(3857)
        );
        assert_eq!(
            epsg_code("urn:ogc:def:crs:OGC:1.3:CRS84").unwrap(),
            Some(4326)
        );
        assert_eq!(epsg_code("4326").unwrap(), Some(4326));
        assert!(epsg_code("Kolkata local grid").is_err());
    }

    #[test]
    fn unknown_code_is_an_error() {
        assert!(Reprojector::new("EPSG:1").is_err());
    }
}
