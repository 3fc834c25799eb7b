//! Recursive descent from tokens to an [`Expr`]: `OR` over `AND` over `NOT` over
//! predicates, with nesting bounded by [`MAX_DEPTH`].

use geo_types::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon, Rect};

use super::lexer::{lex, Tok};
use super::{CmpOp, Expr, ParseError, Queryables, Scalar, SpatialOp, Value};

/// How deep parentheses and `NOT`s may nest. The parser (and evaluating and dropping the
/// tree) recurses once a level, and a URL can hold thousands of `(`: without a bound one
/// request overflows the stack and aborts the process. Real filters nest a handful deep.
pub const MAX_DEPTH: usize = 64;

struct Parser<'q> {
    toks: Vec<(usize, Tok)>,
    at: usize,
    end: usize,
    depth: usize,
    queryables: &'q dyn Queryables,
}

impl Parser<'_> {
    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |t| t.0) + 1
    }

    fn fail<T>(&self, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            pos: self.pos(),
            msg: msg.into(),
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.1)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).map(|t| t.1.clone());
        self.at += 1;
        t
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(k))
    }

    fn eat_keyword(&mut self, k: &str) -> bool {
        let yes = self.keyword(k);
        if yes {
            self.at += 1;
        }
        yes
    }

    fn expect(&mut self, t: Tok, what: &str) -> Result<(), ParseError> {
        if self.peek() == Some(&t) {
            self.at += 1;
            Ok(())
        } else {
            self.fail(format!("expected {what}"))
        }
    }

    /// Enters one nesting level (a parenthesis or a `NOT`), refusing past [`MAX_DEPTH`].
    fn deeper(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(format!(
                "parentheses and NOT nest deeper than {MAX_DEPTH} levels"
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut terms = vec![self.and()?];
        while self.eat_keyword("OR") {
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut terms = vec![self.not()?];
        while self.eat_keyword("AND") {
            terms.push(self.not()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.eat_keyword("NOT") {
            self.deeper()?;
            let e = Expr::Not(Box::new(self.not()?));
            self.depth -= 1;
            return Ok(e);
        }
        self.predicate()
    }

    fn number(&mut self) -> Result<f64, ParseError> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(n),
            _ => {
                self.at -= 1;
                self.fail("expected a number")
            }
        }
    }

    fn coord(&mut self) -> Result<Coord<f64>, ParseError> {
        let x = self.number()?;
        let y = self.number()?;
        Ok(Coord { x, y })
    }

    fn coords(&mut self) -> Result<Vec<Coord<f64>>, ParseError> {
        self.expect(Tok::LParen, "'('")?;
        let mut v = vec![self.coord()?];
        while self.peek() == Some(&Tok::Comma) {
            self.at += 1;
            v.push(self.coord()?);
        }
        self.expect(Tok::RParen, "')'")?;
        Ok(v)
    }

    fn polygon_body(&mut self) -> Result<Polygon<f64>, ParseError> {
        self.expect(Tok::LParen, "'('")?;
        let mut rings = vec![self.coords()?];
        while self.peek() == Some(&Tok::Comma) {
            self.at += 1;
            rings.push(self.coords()?);
        }
        self.expect(Tok::RParen, "')'")?;
        for r in &rings {
            if r.len() < 4 || r.first() != r.last() {
                return self.fail("a polygon ring needs at least 4 positions, first equal to last");
            }
        }
        let mut it = rings.into_iter();
        let exterior = LineString(it.next().unwrap_or_default());
        Ok(Polygon::new(exterior, it.map(LineString).collect()))
    }

    fn geometry(&mut self) -> Result<Geometry<f64>, ParseError> {
        let Some(Tok::Ident(name)) = self.peek().cloned() else {
            return self
                .fail("expected a geometry (POINT, LINESTRING, POLYGON, MULTIPOLYGON, BBOX)");
        };
        let start = self.at;
        self.at += 1;
        let g = match name.to_ascii_uppercase().as_str() {
            "POINT" => {
                self.expect(Tok::LParen, "'('")?;
                let c = self.coord()?;
                self.expect(Tok::RParen, "')'")?;
                Geometry::Point(Point(c))
            }
            "LINESTRING" => Geometry::LineString(LineString(self.coords()?)),
            "POLYGON" => Geometry::Polygon(self.polygon_body()?),
            "MULTIPOLYGON" => {
                self.expect(Tok::LParen, "'('")?;
                let mut ps = vec![self.polygon_body()?];
                while self.peek() == Some(&Tok::Comma) {
                    self.at += 1;
                    ps.push(self.polygon_body()?);
                }
                self.expect(Tok::RParen, "')'")?;
                Geometry::MultiPolygon(MultiPolygon(ps))
            }
            "BBOX" | "ENVELOPE" => {
                self.expect(Tok::LParen, "'('")?;
                let mut n = vec![self.number()?];
                while self.peek() == Some(&Tok::Comma) {
                    self.at += 1;
                    n.push(self.number()?);
                }
                self.expect(Tok::RParen, "')'")?;
                if n.len() != 4 {
                    return self.fail("BBOX takes 4 numbers: minx, miny, maxx, maxy");
                }
                Geometry::Rect(Rect::new((n[0], n[1]), (n[2], n[3])))
            }
            other => {
                self.at -= 1;
                return self.fail(format!("unknown geometry {other}"));
            }
        };
        let ok = geo::CoordsIter::coords_iter(&g).all(|c| {
            c.x.is_finite()
                && c.y.is_finite()
                && (-180.0..=180.0).contains(&c.x)
                && (-90.0..=90.0).contains(&c.y)
        });
        if !ok {
            self.at = start;
            return self.fail("geometry coordinates must be lon/lat in range");
        }
        Ok(g)
    }

    fn geometry_property(&mut self) -> Result<(), ParseError> {
        match self.next() {
            Some(Tok::Ident(s))
                if s.eq_ignore_ascii_case("geometry") || s.eq_ignore_ascii_case("geom") =>
            {
                Ok(())
            }
            _ => {
                self.at -= 1;
                self.fail("expected the geometry property `geometry`")
            }
        }
    }

    fn spatial(&mut self, name: &str) -> Result<Expr, ParseError> {
        self.expect(Tok::LParen, "'('")?;
        // Either order: S_INTERSECTS(geometry, POINT(…)) or S_INTERSECTS(POINT(…), geometry).
        let literal_first = !(self.keyword("geometry") || self.keyword("geom"));
        let g = if literal_first {
            let g = self.geometry()?;
            self.expect(Tok::Comma, "','")?;
            self.geometry_property()?;
            g
        } else {
            self.geometry_property()?;
            self.expect(Tok::Comma, "','")?;
            self.geometry()?
        };
        let e = if name == "S_DWITHIN" {
            self.expect(Tok::Comma, "','")?;
            let d = self.number()?;
            if d < 0.0 {
                return self.fail("the distance must not be negative");
            }
            let mut metres = d;
            if self.peek() == Some(&Tok::Comma) {
                self.at += 1;
                match self.next() {
                    Some(Tok::Ident(u)) => {
                        metres = match u.to_ascii_lowercase().as_str() {
                            "meters" | "metres" | "m" => d,
                            "kilometers" | "kilometres" | "km" => d * 1000.0,
                            _ => {
                                self.at -= 1;
                                return self.fail("units must be meters or kilometers");
                            }
                        }
                    }
                    _ => {
                        self.at -= 1;
                        return self.fail("expected units (meters)");
                    }
                }
            }
            let Geometry::Point(p) = g else {
                return self.fail("S_DWITHIN takes a POINT");
            };
            Expr::DWithin(p, metres)
        } else {
            let op = match name {
                "S_INTERSECTS" => SpatialOp::Intersects,
                "S_WITHIN" => SpatialOp::Within,
                "S_CONTAINS" => SpatialOp::Contains,
                _ => SpatialOp::Disjoint,
            };
            // With the literal first the relation reads the other way round.
            let op = match (op, literal_first) {
                (SpatialOp::Within, true) => SpatialOp::Contains,
                (SpatialOp::Contains, true) => SpatialOp::Within,
                (o, _) => o,
            };
            Expr::Spatial(op, g)
        };
        self.expect(Tok::RParen, "')'")?;
        Ok(e)
    }

    fn scalar(&mut self) -> Result<Scalar, ParseError> {
        let pos = self.at;
        match self.next() {
            Some(Tok::Str(s)) => Ok(Scalar::Lit(Value::Str(s))),
            Some(Tok::Num(n)) => Ok(Scalar::Lit(Value::Num(n))),
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("TRUE") => {
                Ok(Scalar::Lit(Value::Bool(true)))
            }
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("FALSE") => {
                Ok(Scalar::Lit(Value::Bool(false)))
            }
            Some(Tok::Ident(s))
                if s.eq_ignore_ascii_case("DATE") || s.eq_ignore_ascii_case("TIMESTAMP") =>
            {
                self.expect(Tok::LParen, "'('")?;
                let v = match self.next() {
                    Some(Tok::Str(v)) => v,
                    _ => {
                        self.at -= 1;
                        return self.fail("expected a quoted date");
                    }
                };
                self.expect(Tok::RParen, "')'")?;
                Ok(Scalar::Lit(Value::Str(v)))
            }
            Some(Tok::Ident(s)) => {
                if !self.queryables.is_queryable(&s) {
                    self.at = pos;
                    return self.fail(format!(
                        "{s:?} is not a queryable property of this collection"
                    ));
                }
                Ok(Scalar::Prop(s))
            }
            _ => {
                self.at = pos;
                self.fail("expected a property name or a value")
            }
        }
    }

    fn predicate(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some(&Tok::LParen) {
            self.deeper()?;
            self.at += 1;
            let e = self.or()?;
            self.expect(Tok::RParen, "')'")?;
            self.depth -= 1;
            return Ok(e);
        }
        if let Some(Tok::Ident(name)) = self.peek().cloned() {
            let upper = name.to_ascii_uppercase();
            if matches!(
                upper.as_str(),
                "S_INTERSECTS" | "S_WITHIN" | "S_CONTAINS" | "S_DISJOINT" | "S_DWITHIN"
            ) {
                self.at += 1;
                return self.spatial(&upper);
            }
            if (upper == "TRUE" || upper == "FALSE")
                && !matches!(self.toks.get(self.at + 1).map(|t| &t.1), Some(Tok::Op(_)))
            {
                self.at += 1;
                return Ok(Expr::Bool(upper == "TRUE"));
            }
        }
        let left = self.scalar()?;
        let negated = self.eat_keyword("NOT");
        if self.eat_keyword("LIKE") {
            return match self.next() {
                Some(Tok::Str(p)) => Ok(Expr::Like(left, p, negated)),
                _ => {
                    self.at -= 1;
                    self.fail("LIKE needs a quoted pattern")
                }
            };
        }
        if self.eat_keyword("BETWEEN") {
            let lo = self.scalar()?;
            if !self.eat_keyword("AND") {
                return self.fail("expected AND in BETWEEN … AND …");
            }
            let hi = self.scalar()?;
            return Ok(Expr::Between(left, lo, hi, negated));
        }
        if self.eat_keyword("IN") {
            self.expect(Tok::LParen, "'('")?;
            let mut items = vec![self.scalar()?];
            while self.peek() == Some(&Tok::Comma) {
                self.at += 1;
                items.push(self.scalar()?);
            }
            self.expect(Tok::RParen, "')'")?;
            return Ok(Expr::In(left, items, negated));
        }
        if negated {
            return self.fail("expected LIKE, BETWEEN or IN after NOT");
        }
        if self.eat_keyword("IS") {
            let not = self.eat_keyword("NOT");
            if !self.eat_keyword("NULL") {
                return self.fail("expected NULL");
            }
            return Ok(Expr::IsNull(left, not));
        }
        let op = match self.next() {
            Some(Tok::Op("=")) => CmpOp::Eq,
            Some(Tok::Op("<>")) => CmpOp::Ne,
            Some(Tok::Op("<")) => CmpOp::Lt,
            Some(Tok::Op("<=")) => CmpOp::Le,
            Some(Tok::Op(">")) => CmpOp::Gt,
            Some(Tok::Op(">=")) => CmpOp::Ge,
            _ => {
                self.at -= 1;
                return self.fail(
                    "expected a comparison (=, <>, <, <=, >, >=, LIKE, BETWEEN, IN, IS NULL)",
                );
            }
        };
        let right = self.scalar()?;
        Ok(Expr::Cmp(left, op, right))
    }
}

/// Parses CQL2 text; property names are checked against `q`.
pub fn parse(s: &str, q: &dyn Queryables) -> Result<Expr, ParseError> {
    if s.len() > 100_000 {
        return Err(ParseError {
            pos: 1,
            msg: "longer than 100,000 characters".into(),
        });
    }
    let toks = lex(s)?;
    let mut p = Parser {
        end: s.chars().count(),
        toks,
        at: 0,
        depth: 0,
        queryables: q,
    };
    if p.toks.is_empty() {
        return p.fail("the filter is empty");
    }
    let e = p.or()?;
    if p.at < p.toks.len() {
        return p.fail("unexpected text after the end of the expression");
    }
    Ok(e)
}
