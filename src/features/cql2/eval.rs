//! Evaluating an [`Expr`] against a [`Record`], and the lon/lat box it implies.

use geo::{Contains, Intersects};
use geo_types::{Coord, Geometry, Rect};

use super::{CmpOp, Expr, Record, Scalar, SpatialOp, Value};

fn resolve(s: &Scalar, r: &dyn Record) -> Value {
    match s {
        Scalar::Prop(p) => r.get(p),
        Scalar::Lit(v) => v.clone(),
    }
}

/// Orders two values of the same kind (numbers, strings — dates compare as their text,
/// which for RFC 3339 in UTC is their order); `None` across kinds or with null.
fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        // A number compared with numeric text (a ward given as '63').
        (Value::Num(x), Value::Str(y)) => {
            y.trim().parse::<f64>().ok().and_then(|y| x.partial_cmp(&y))
        }
        (Value::Str(x), Value::Num(y)) => {
            x.trim().parse::<f64>().ok().and_then(|x| x.partial_cmp(y))
        }
        _ => None,
    }
}

fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    // Iterative wildcard match with backtracking on the last '%'.
    let (mut i, mut j) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while i < t.len() {
        if j < p.len() && p[j] == '\\' && j + 1 < p.len() && p[j + 1] == t[i] {
            i += 1;
            j += 2;
        } else if j < p.len() && (p[j] == '_' || (p[j] == t[i] && p[j] != '%')) {
            i += 1;
            j += 1;
        } else if j < p.len() && p[j] == '%' {
            star = Some(j);
            mark = i;
            j += 1;
        } else if let Some(s) = star {
            j = s + 1;
            mark += 1;
            i = mark;
        } else {
            return false;
        }
    }
    while j < p.len() && p[j] == '%' {
        j += 1;
    }
    j == p.len()
}

impl Expr {
    /// Whether the record satisfies the expression (comparisons with null are false).
    pub fn matches(&self, r: &dyn Record) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Expr::And(terms) => terms.iter().all(|e| e.matches(r)),
            Expr::Or(terms) => terms.iter().any(|e| e.matches(r)),
            Expr::Not(a) => !a.matches(r),
            Expr::Bool(b) => *b,
            Expr::Cmp(a, op, b) => {
                let (a, b) = (resolve(a, r), resolve(b, r));
                let Some(o) = order(&a, &b) else {
                    return false;
                };
                match op {
                    CmpOp::Eq => o == Equal,
                    CmpOp::Ne => o != Equal,
                    CmpOp::Lt => o == Less,
                    CmpOp::Le => o != Greater,
                    CmpOp::Gt => o == Greater,
                    CmpOp::Ge => o != Less,
                }
            }
            Expr::Like(a, p, neg) => match resolve(a, r) {
                Value::Str(s) => like(&s, p) != *neg,
                Value::Num(n) => like(&n.to_string(), p) != *neg,
                _ => false,
            },
            Expr::Between(a, lo, hi, neg) => {
                let v = resolve(a, r);
                let inside = order(&v, &resolve(lo, r)).is_some_and(|o| o != Less)
                    && order(&v, &resolve(hi, r)).is_some_and(|o| o != Greater);
                if matches!(v, Value::Null) {
                    return false;
                }
                inside != *neg
            }
            Expr::In(a, items, neg) => {
                let v = resolve(a, r);
                if matches!(v, Value::Null) {
                    return false;
                }
                let found = items
                    .iter()
                    .any(|i| order(&v, &resolve(i, r)) == Some(Equal));
                found != *neg
            }
            Expr::IsNull(a, not) => matches!(resolve(a, r), Value::Null) != *not,
            Expr::Spatial(op, g) => {
                let geom = r.geometry();
                match op {
                    SpatialOp::Intersects => geom.intersects(g),
                    SpatialOp::Disjoint => !geom.intersects(g),
                    SpatialOp::Within => contains(g, geom),
                    SpatialOp::Contains => contains(geom, g),
                }
            }
            Expr::DWithin(p, d) => crate::geom::distance_m(*p, r.geometry()) <= *d,
        }
    }

    /// A lon/lat box every match must meet, when the expression implies one (a top-level
    /// spatial predicate, or one under AND): lets the R-tree narrow the search.
    pub fn bbox_hint(&self) -> Option<Rect<f64>> {
        match self {
            Expr::And(terms) => terms.iter().filter_map(Expr::bbox_hint).reduce(|x, y| {
                let min = Coord {
                    x: x.min().x.max(y.min().x),
                    y: x.min().y.max(y.min().y),
                };
                let max = Coord {
                    x: x.max().x.min(y.max().x),
                    y: x.max().y.min(y.max().y),
                };
                if min.x > max.x || min.y > max.y {
                    Rect::new((0.0, 0.0), (0.0, 0.0))
                } else {
                    Rect::new(min, max)
                }
            }),
            Expr::Spatial(SpatialOp::Intersects | SpatialOp::Within | SpatialOp::Contains, g) => {
                geo::BoundingRect::bounding_rect(g)
            }
            Expr::DWithin(p, d) => {
                let dlat = d / 110_000.0 * 1.01 + 1e-9;
                let (south, north) = (p.y() - dlat, p.y() + dlat);
                let dlon = dlat / p.y().to_radians().cos().max(0.01);
                let (west, east) = (p.x() - dlon, p.x() + dlon);
                // Past a pole, or across the antimeridian, the circle takes in longitudes
                // on the other side: then only the latitude band narrows the search.
                if south < -90.0 || north > 90.0 || west < -180.0 || east > 180.0 {
                    return Some(Rect::new(
                        (-180.0, south.max(-90.0)),
                        (180.0, north.min(90.0)),
                    ));
                }
                Some(Rect::new((west, south), (east, north)))
            }
            _ => None,
        }
    }
}

fn contains(outer: &Geometry<f64>, inner: &Geometry<f64>) -> bool {
    match outer {
        Geometry::Rect(r) => r.contains(inner),
        Geometry::Polygon(p) => p.contains(inner),
        Geometry::MultiPolygon(mp) => mp.contains(inner),
        Geometry::LineString(l) => l.contains(inner),
        Geometry::Point(p) => p.contains(inner),
        Geometry::MultiPoint(mp) => mp.contains(inner),
        other => other.intersects(inner) && geo::Contains::contains(other, inner),
    }
}
