//! Clipping and simplification in tile space (MVT units, y down).
//!
//! Polygons are clipped ring by ring with Sutherland–Hodgman against the buffered tile
//! square (exact for a convex clip region; edges along the square where a concave shape
//! leaves and re-enters are harmless for rendering, as in geojson-vt); lines are cut with
//! Liang–Barsky into as many parts as the square takes from them.

use geo_types::Coord;

/// A square clip region `[min, max]²`.
#[derive(Debug, Clone, Copy)]
pub struct Square {
    pub min: f64,
    pub max: f64,
}

/// Clips an open ring (no repeated closing point) to the square.
pub fn clip_ring(ring: &[Coord<f64>], sq: Square) -> Vec<Coord<f64>> {
    let mut pts: Vec<Coord<f64>> = ring.to_vec();
    // Left, right, top, bottom: keep the inside of each edge in turn.
    for edge in 0..4 {
        if pts.is_empty() {
            break;
        }
        let inside = |c: &Coord<f64>| match edge {
            0 => c.x >= sq.min,
            1 => c.x <= sq.max,
            2 => c.y >= sq.min,
            _ => c.y <= sq.max,
        };
        let cross = |a: &Coord<f64>, b: &Coord<f64>| -> Coord<f64> {
            let (k, horizontal) = match edge {
                0 => (sq.min, false),
                1 => (sq.max, false),
                2 => (sq.min, true),
                _ => (sq.max, true),
            };
            if horizontal {
                let t = (k - a.y) / (b.y - a.y);
                Coord {
                    x: a.x + t * (b.x - a.x),
                    y: k,
                }
            } else {
                let t = (k - a.x) / (b.x - a.x);
                Coord {
                    x: k,
                    y: a.y + t * (b.y - a.y),
                }
            }
        };
        let mut out = Vec::with_capacity(pts.len() + 4);
        for i in 0..pts.len() {
            let cur = pts[i];
            let prev = pts[(i + pts.len() - 1) % pts.len()];
            match (inside(&prev), inside(&cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cross(&prev, &cur)),
                (false, true) => {
                    out.push(cross(&prev, &cur));
                    out.push(cur);
                }
                (false, false) => {}
            }
        }
        pts = out;
    }
    pts
}

/// Clips a polyline to the square; returns the parts inside.
pub fn clip_line(line: &[Coord<f64>], sq: Square) -> Vec<Vec<Coord<f64>>> {
    let mut parts: Vec<Vec<Coord<f64>>> = Vec::new();
    let mut current: Vec<Coord<f64>> = Vec::new();
    for w in line.windows(2) {
        match clip_segment(w[0], w[1], sq) {
            Some((a, b)) => {
                if current.last() != Some(&a) {
                    if current.len() >= 2 {
                        parts.push(std::mem::take(&mut current));
                    }
                    current.clear();
                    current.push(a);
                }
                current.push(b);
                // The segment left the square: the part ends here.
                if b != w[1] {
                    parts.push(std::mem::take(&mut current));
                }
            }
            None => {
                if current.len() >= 2 {
                    parts.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() >= 2 {
        parts.push(current);
    }
    parts
}

/// Liang–Barsky segment clipping.
fn clip_segment(a: Coord<f64>, b: Coord<f64>, sq: Square) -> Option<(Coord<f64>, Coord<f64>)> {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.x - sq.min),
        (dx, sq.max - a.x),
        (-dy, a.y - sq.min),
        (dy, sq.max - a.y),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| {
        if t == 0.0 {
            a
        } else if t == 1.0 {
            b
        } else {
            Coord {
                x: a.x + t * dx,
                y: a.y + t * dy,
            }
        }
    };
    Some((at(t0), at(t1)))
}

/// Buffers reused from one ring to the next while a tile is drawn.
#[derive(Debug, Default)]
pub struct Work {
    keep: Vec<bool>,
    stack: Vec<(usize, usize)>,
}

/// Douglas–Peucker at `tolerance` units, then snapped to integers with repeated points
/// dropped; a closed ring comes back open (no repeated first point). Returns a new vector;
/// [`simplify_snap_into`] appends to one instead.
pub fn simplify_snap(mut pts: Vec<Coord<f64>>, tolerance: f64, closed: bool) -> Vec<(i32, i32)> {
    let mut out = Vec::with_capacity(pts.len());
    simplify_snap_into(&mut pts, tolerance, closed, &mut Work::default(), &mut out);
    out
}

/// [`simplify_snap`] appending its points to `out` (deduplicated from where `out` ended),
/// with its bookkeeping in `work`: drawing a tile of thousands of ponds allocates nothing
/// per ring.
pub fn simplify_snap_into(
    pts: &mut Vec<Coord<f64>>,
    tolerance: f64,
    closed: bool,
    work: &mut Work,
    out: &mut Vec<(i32, i32)>,
) {
    if closed && pts.len() > 1 && pts.first() != pts.last() {
        pts.push(pts[0]);
    }
    let n = pts.len();
    let keep = &mut work.keep;
    keep.clear();
    keep.resize(n, n <= 4);
    if n > 4 {
        keep[0] = true;
        keep[n - 1] = true;
        let t2 = tolerance * tolerance;
        let stack = &mut work.stack;
        stack.clear();
        stack.push((0usize, n - 1));
        while let Some((a, b)) = stack.pop() {
            // Distances to the segment a–b, all scaled by its squared length so the loop
            // divides nothing: the farthest point and the tolerance test come out the same.
            let (pa, pb) = (pts[a], pts[b]);
            let (dx, dy) = (pb.x - pa.x, pb.y - pa.y);
            let len2 = dx * dx + dy * dy;
            // A closed ring starts with a = b: plain distance to the point.
            let scale = if len2 == 0.0 { 1.0 } else { len2 };
            let (mut far, mut at) = (-1.0f64, 0usize);
            for (i, p) in pts.iter().enumerate().take(b).skip(a + 1) {
                let (px, py) = (p.x - pa.x, p.y - pa.y);
                let dot = px * dx + py * dy;
                let d = if len2 == 0.0 || dot <= 0.0 {
                    (px * px + py * py) * scale
                } else if dot >= len2 {
                    let (qx, qy) = (p.x - pb.x, p.y - pb.y);
                    (qx * qx + qy * qy) * len2
                } else {
                    let cross = px * dy - py * dx;
                    cross * cross
                };
                if d > far {
                    far = d;
                    at = i;
                }
            }
            if far > t2 * scale {
                keep[at] = true;
                stack.push((a, at));
                stack.push((at, b));
            }
        }
    }
    let start = out.len();
    for (c, k) in pts.iter().zip(keep.iter()) {
        if !k {
            continue;
        }
        let p = (round(c.x), round(c.y));
        if out.len() == start || out.last() != Some(&p) {
            out.push(p);
        }
    }
    if closed && out.len() > start + 1 && out[start] == out[out.len() - 1] {
        out.pop();
    }
}

/// `x.round() as i32` without the libm call (half away from zero, as `round` does).
#[inline]
pub fn round(x: f64) -> i32 {
    if x >= 0.0 {
        (x + 0.5) as i32
    } else {
        (x - 0.5) as i32
    }
}

/// Twice the signed area of an open ring by the surveyor's formula, in tile coordinates
/// (y down): positive is what MVT 2.1 calls an exterior ring.
pub fn signed_area2(ring: &[(i32, i32)]) -> i64 {
    let n = ring.len();
    let mut s = 0i64;
    for i in 0..n {
        let (x0, y0) = ring[i];
        let (x1, y1) = ring[(i + 1) % n];
        s += i64::from(x0) * i64::from(y1) - i64::from(x1) * i64::from(y0);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQ: Square = Square {
        min: 0.0,
        max: 10.0,
    };

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    #[test]
    fn ring_clipped_to_square_keeps_inside_area() {
        // A 15×15 square overlapping the clip square's corner by 5×5: that 5×5 remains
        // (the doubled area is 50).
        let ring = [c(-10.0, -10.0), c(5.0, -10.0), c(5.0, 5.0), c(-10.0, 5.0)];
        let out = clip_ring(&ring, SQ);
        let snapped = simplify_snap(out, 0.0, true);
        assert_eq!(signed_area2(&snapped).abs(), 2 * 25);
    }

    #[test]
    fn line_leaving_and_reentering_gives_two_parts() {
        let line = [c(1.0, 1.0), c(20.0, 1.0), c(20.0, 5.0), c(1.0, 5.0)];
        let parts = clip_line(&line, SQ);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], vec![c(1.0, 1.0), c(10.0, 1.0)]);
        assert_eq!(parts[1], vec![c(10.0, 5.0), c(1.0, 5.0)]);
        assert!(clip_line(&[c(-5.0, -5.0), c(-1.0, -1.0)], SQ).is_empty());
    }

    #[test]
    fn simplification_agrees_with_geo() {
        use geo::Simplify;
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..200 {
            let n = rng.random_range(5..60);
            let pts: Vec<Coord<f64>> = (0..n)
                .map(|_| c(rng.random_range(0.0..50.0), rng.random_range(0.0..50.0)))
                .collect();
            let ours = simplify_snap(pts.clone(), 1.5, false);
            let theirs: Vec<(i32, i32)> = geo_types::LineString::from(pts)
                .simplify(1.5)
                .0
                .iter()
                .map(|c| (c.x.round() as i32, c.y.round() as i32))
                .fold(Vec::new(), |mut v, p| {
                    if v.last() != Some(&p) {
                        v.push(p);
                    }
                    v
                });
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn snapping_removes_repeats() {
        let out = simplify_snap(
            vec![c(0.1, 0.1), c(0.2, 0.2), c(5.0, 0.0), c(5.0, 5.0)],
            0.0,
            true,
        );
        assert_eq!(out, vec![(0, 0), (5, 0), (5, 5)]);
    }
}
