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
//!
//! `lexer.rs` turns the text into tokens that keep their character positions,
//! `parser.rs` builds the [`Expr`] tree (checking property names against [`Queryables`]),
//! and `eval.rs` answers it against a [`Record`] and says what box it implies.

use geo_types::{Geometry, Point};

mod eval;
mod lexer;
mod parser;
pub use parser::{parse, MAX_DEPTH};

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
