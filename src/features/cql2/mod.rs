//! CQL2 text (OGC API - Features Part 3): a parser into an expression tree, and its
//! evaluation against a record through [`Record`].
//!
//! Supported: comparisons (`= <> < <= > >=`), `AND`/`OR`/`NOT`, parentheses, `IN (…)`,
//! `LIKE` (`%`, `_`), `BETWEEN … AND …`, `IS [NOT] NULL`, `TRUE`/`FALSE`,
//! `DATE('…')`/`TIMESTAMP('…')`, and the spatial predicates `S_INTERSECTS`, `S_WITHIN`,
//! `S_CONTAINS`, `S_DISJOINT` against `POINT`, `LINESTRING`, `POLYGON`, `MULTIPOLYGON`
//! or `BBOX(…)` literals, plus `S_DWITHIN(geometry, POINT(…), distance, meters)` (not in
//! CQL2 itself; what planners ask: everything within 100 m of a site). Errors name the
//! character where they were found.

use geo::{Contains, Intersects};
use geo_types::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon, Rect};

/// A value a record's property holds, or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
}

/// What an expression is evaluated against.
pub trait Record {
    /// A property's value (`Null` when absent); `None` if the name is not a property of
    /// the collection at all (an error at parse time, via [`Queryables`]).
    fn get(&self, name: &str) -> Value;
    fn geometry(&self) -> &Geometry<f64>;
}

/// The property names a collection can be filtered on.
pub trait Queryables {
    fn is_queryable(&self, name: &str) -> bool;
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All of them (n-ary, so a long `a AND b AND …` chain is flat, not deep).
    And(Vec<Expr>),
    /// Any of them.
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(Scalar, CmpOp, Scalar),
    Like(Scalar, String, bool),
    Between(Scalar, Scalar, Scalar, bool),
    In(Scalar, Vec<Scalar>, bool),
    IsNull(Scalar, bool),
    Spatial(SpatialOp, Geometry<f64>),
    DWithin(Point<f64>, f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Prop(String),
    Lit(Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialOp {
    Intersects,
    Within,
    Contains,
    Disjoint,
}

/// A parse error at a character position (1-based, as people count).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("filter: at character {pos}: {msg}")]
pub struct ParseError {
    pub pos: usize,
    pub msg: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
    Comma,
    Op(&'static str),
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |pos: usize, msg: String| ParseError { pos: pos + 1, msg };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push((start, Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push((start, Tok::RParen));
                i += 1;
            }
            ',' => {
                out.push((start, Tok::Comma));
                i += 1;
            }
            '=' => {
                out.push((start, Tok::Op("=")));
                i += 1;
            }
            '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = match two.as_str() {
                    "<=" => "<=",
                    ">=" => ">=",
                    "<>" => "<>",
                    _ if c == '<' => "<",
                    _ => ">",
                };
                i += op.len();
                out.push((start, Tok::Op(op)));
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err(start, "unterminated string".into())),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            v.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push((start, Tok::Str(v)));
            }
            '"' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(err(start, "unterminated quoted name".into())),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            v.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push((start, Tok::Ident(v)));
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+' || c == '.')
                    && chars
                        .get(i + 1)
                        .is_some_and(|d| d.is_ascii_digit() || *d == '.')) =>
            {
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || chars[i] == '.'
                        || chars[i] == 'e'
                        || chars[i] == 'E'
                        || ((chars[i] == '-' || chars[i] == '+')
                            && matches!(chars[i - 1], 'e' | 'E')))
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n: f64 = text
                    .parse()
                    .map_err(|_| err(start, format!("{text:?} is not a number")))?;
                if !n.is_finite() {
                    return Err(err(start, format!("{text:?} is not a finite number")));
                }
                out.push((start, Tok::Num(n)));
            }
            c if c.is_alphabetic() || c == '_' => {
                while i < chars.len()
                    && (chars[i].is_alphanumeric()
                        || chars[i] == '_'
                        || chars[i] == '.'
                        || chars[i] == ':')
                {
                    i += 1;
                }
                out.push((start, Tok::Ident(chars[start..i].iter().collect())));
            }
            other => return Err(err(start, format!("unexpected character {other:?}"))),
        }
    }
    Ok(out)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    struct All;
    impl Queryables for All {
        fn is_queryable(&self, name: &str) -> bool {
            ["grade", "name", "ward", "condition", "updated_at", "owner"].contains(&name)
        }
    }

    struct R(Vec<(&'static str, Value)>, Geometry<f64>);
    impl Record for R {
        fn get(&self, name: &str) -> Value {
            self.0
                .iter()
                .find(|(k, _)| *k == name)
                .map_or(Value::Null, |(_, v)| v.clone())
        }
        fn geometry(&self) -> &Geometry<f64> {
            &self.1
        }
    }

    fn rec() -> R {
        R(
            vec![
                ("grade", Value::Str("I".into())),
                ("name", Value::Str("Victoria Memorial".into())),
                ("ward", Value::Num(63.0)),
                ("condition", Value::Str("good".into())),
                ("updated_at", Value::Str("2026-11-28T10:00:00Z".into())),
            ],
            Geometry::Point(Point::new(88.3426, 22.5448)),
        )
    }

    fn eval(s: &str) -> bool {
        parse(s, &All)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .matches(&rec())
    }

    #[test]
    fn comparisons_and_logic() {
        assert!(eval("grade = 'I'"));
        assert!(!eval("grade <> 'I'"));
        assert!(eval("ward > 60 AND ward <= 63"));
        assert!(eval("ward = '63'"));
        assert!(eval("grade = 'IIA' OR NOT (condition = 'poor')"));
        assert!(
            eval("name LIKE 'Victoria%'")
                && eval("name LIKE '%Mem_rial'")
                && !eval("name LIKE 'victoria%'")
        );
        assert!(eval("name NOT LIKE 'Howrah%'"));
        assert!(eval("ward BETWEEN 60 AND 70") && !eval("ward NOT BETWEEN 60 AND 70"));
        assert!(eval("grade IN ('I', 'IIA')") && eval("ward NOT IN (1, 2)"));
        assert!(eval("owner IS NULL") && eval("grade IS NOT NULL"));
        assert!(!eval("owner = 'KMC'"), "null compares false");
        assert!(eval("updated_at > TIMESTAMP('2026-01-01T00:00:00Z')"));
        assert!(eval("\"grade\" = 'I'"));
        assert!(eval("TRUE") && !eval("FALSE AND TRUE"));
    }

    #[test]
    fn spatial_predicates() {
        assert!(eval("S_INTERSECTS(geometry, BBOX(88.3, 22.5, 88.4, 22.6))"));
        assert!(!eval("S_INTERSECTS(geometry, POINT(88.0 22.0))"));
        assert!(eval(
            "S_WITHIN(geometry, POLYGON((88.3 22.5, 88.4 22.5, 88.4 22.6, 88.3 22.6, 88.3 22.5)))"
        ));
        assert!(eval(
            "S_DWITHIN(geometry, POINT(88.3436 22.5448), 110, meters)"
        ));
        assert!(!eval(
            "S_DWITHIN(geometry, POINT(88.3436 22.5448), 90, meters)"
        ));
        assert!(eval("S_DISJOINT(geometry, POINT(88.0 22.0))"));
        let e = parse(
            "S_DWITHIN(geometry, POINT(88.3 22.5), 100, meters) AND grade = 'I'",
            &All,
        )
        .unwrap();
        let b = e.bbox_hint().unwrap();
        assert!(b.min().x < 88.3 && b.max().x > 88.3 && b.width() < 0.01);
    }

    #[test]
    fn errors_name_their_position() {
        for (s, pos) in [
            ("grade = ", 9),
            ("grade == 'I'", 8),
            ("colour = 'red'", 1),
            ("grade = 'I' AND", 16),
            ("grade = 'I' extra", 13),
            ("name LIKE 5", 11),
            ("S_INTERSECTS(geometry, POINT(88.3))", 34),
            ("S_INTERSECTS(geometry, POINT(288.3 22))", 24),
            ("grade = 'I", 9),
            ("(grade = 'I'", 13),
            ("", 1),
        ] {
            let e = parse(s, &All).expect_err(s);
            assert_eq!(e.pos, pos, "{s}: {e}");
        }
    }

    /// One anonymous GET with 2,000 `(` used to overflow the stack and abort the server.
    #[test]
    fn nesting_is_bounded_and_chains_are_flat() {
        let nested = |n: usize| format!("{}ward=1{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&nested(MAX_DEPTH), &All).is_ok());
        for s in [
            nested(MAX_DEPTH + 1),
            nested(2_000),
            "NOT ".repeat(10_000) + "ward=1",
            "(NOT ".repeat(5_000) + "ward=1" + &")".repeat(5_000),
        ] {
            let e = parse(&s, &All).expect_err("too deep");
            assert!(e.msg.contains("deeper than 64"), "{e}");
        }
        // Long chains are wide, not deep: 5,000 terms parse, evaluate and drop.
        let chain = vec!["ward = 2"; 5_000].join(" OR ") + " OR ward = 63";
        let e = parse(&chain, &All).unwrap();
        assert!(matches!(&e, Expr::Or(t) if t.len() == 5_001));
        assert!(e.matches(&rec()));
        let chain = vec!["ward = 63"; 5_000].join(" AND ");
        assert!(parse(&chain, &All).unwrap().matches(&rec()));
    }
}
