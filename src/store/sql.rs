//! What the two databases need from every statement: which one this is, a query builder
//! that writes `$N` placeholders for both, and the reading of flags.

use std::fmt::Write as _;
use std::path::PathBuf;

use sqlx::any::{AnyArguments, AnyRow, AnyTypeInfo, AnyTypeInfoKind, AnyValueRef};
use sqlx::{Any, Arguments, Decode, Encode, Row, Type};

/// Which database a [`super::Store`] speaks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` and `postgresql://` URLs are PostgreSQL; anything else (a path, a
    /// `sqlite:` URL) is SQLite.
    pub fn of(url_or_path: &str) -> Backend {
        if url_or_path.starts_with("postgres://") || url_or_path.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// The text that puts WKB bytes bound as `$n` into a geometry column.
    pub fn geom_param(self, n: usize) -> String {
        match self {
            Backend::Sqlite => format!("${n}"),
            Backend::Postgres => format!("ST_GeomFromWKB(${n}, 4326)"),
        }
    }

    /// The text that reads a geometry column (`col`, qualified as need be) as WKB bytes
    /// named `geom`.
    pub fn geom_out(self, col: &str) -> String {
        match self {
            Backend::Sqlite => format!("{col} AS geom"),
            Backend::Postgres => format!("ST_AsBinary({col}) AS geom"),
        }
    }
}

/// The `sqlx` URL of a SQLite database given as a path or a `sqlite:` URL (created if
/// missing unless the URL says otherwise), and the file it names.
pub(super) fn sqlite_url(url_or_path: &str) -> (String, PathBuf) {
    static MEMORY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let bare = url_or_path
        .strip_prefix("sqlite://")
        .or_else(|| url_or_path.strip_prefix("sqlite:"));
    let (database, params) = match bare {
        Some(rest) => match rest.split_once('?') {
            Some((d, p)) => (d.to_owned(), Some(p.to_owned())),
            None => (rest.to_owned(), None),
        },
        // A path: `%`, `?` and `#` are what the driver's URL parsing would take for
        // something else.
        None => (
            url_or_path
                .replace('%', "%25")
                .replace('?', "%3F")
                .replace('#', "%23"),
            None,
        ),
    };
    if database == ":memory:" || params.as_deref().is_some_and(|p| p.contains("mode=memory")) {
        // One database shared by the pool's connections (each connection parses the URL
        // again, and `:memory:` would give each a database of its own).
        let n = MEMORY.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("heritage-atlas-memory-{}-{n}", std::process::id());
        return (
            format!("sqlite:file:{name}?mode=memory&cache=shared"),
            PathBuf::new(),
        );
    }
    let path = PathBuf::from(
        percent_encoding::percent_decode_str(&database)
            .decode_utf8_lossy()
            .into_owned(),
    );
    let params = params.unwrap_or_else(|| "mode=rwc".to_owned());
    (format!("sqlite://{database}?{params}"), path)
}

/// A flag as either database gives it back: PostgreSQL's `boolean` (`EXISTS`, `x IS
/// NULL`), or an integer 0/1 (SQLite's booleans, and the 0/1 columns of both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flag(pub bool);

impl Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <bool as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        ty.kind() == AnyTypeInfoKind::Bool || ty.kind().is_integer()
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(v: AnyValueRef<'r>) -> Result<Flag, sqlx::error::BoxDynError> {
        match <bool as Decode<Any>>::decode(v.clone()) {
            Ok(b) => Ok(Flag(b)),
            Err(_) => Ok(Flag(<i64 as Decode<Any>>::decode(v)? != 0)),
        }
    }
}

/// An `Option<f64>` to bind. sqlx 0.8.6's `Any` driver sends a NULL `f64` to PostgreSQL
/// typed `real` (its `convert_to` swaps `Real` and `Double` for NULLs), and PostgreSQL
/// then reads the next non-NULL value given to the same prepared statement as a `real`:
/// "incorrect binary data format". A NULL `f32` is sent as a `double precision`.
pub(crate) struct OptF64(pub Option<f64>);

impl Type<Any> for OptF64 {
    fn type_info() -> AnyTypeInfo {
        <f64 as Type<Any>>::type_info()
    }
}

impl<'q> Encode<'q, Any> for OptF64 {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match self.0 {
            Some(v) => <f64 as Encode<'q, Any>>::encode_by_ref(&v, buf),
            None => <Option<f32> as Encode<'q, Any>>::encode_by_ref(&None, buf),
        }
    }
}

/// The flag in column `col` (see [`Flag`]).
pub(crate) fn flag(r: &AnyRow, col: &str) -> super::Result<bool> {
    Ok(r.try_get::<Flag, _>(col)?.0)
}

/// A statement built piece by piece, its values bound as `$1, $2, …` (which both
/// databases read; sqlx's `QueryBuilder<Any>` writes `?`, which PostgreSQL does not).
pub(crate) struct Sql<'a> {
    text: String,
    args: Option<AnyArguments<'a>>,
    n: usize,
}

impl<'a> Sql<'a> {
    pub fn new(init: impl Into<String>) -> Sql<'a> {
        Sql {
            text: init.into(),
            args: Some(AnyArguments::default()),
            n: 0,
        }
    }

    pub fn push(&mut self, s: impl std::fmt::Display) -> &mut Sql<'a> {
        let _ = write!(self.text, "{s}");
        self
    }

    pub fn push_bind<T: 'a + Encode<'a, Any> + Type<Any>>(&mut self, v: T) -> &mut Sql<'a> {
        // An encoding failure shows when the statement runs (sqlx's builder does the same).
        if let Some(args) = self.args.as_mut() {
            let _ = args.add(v);
        }
        self.n += 1;
        let _ = write!(self.text, "${}", self.n);
        self
    }

    /// Binds each value, the placeholders separated by `sep`.
    pub fn separated(&mut self, sep: &'static str) -> Separated<'_, 'a> {
        Separated {
            sql: self,
            sep,
            first: true,
        }
    }

    /// The statement's text as it stands.
    #[cfg(test)]
    pub fn sql(&self) -> &str {
        &self.text
    }

    pub fn build<'s>(&'s mut self) -> sqlx::query::Query<'s, Any, AnyArguments<'s>>
    where
        'a: 's,
    {
        sqlx::query_with(&self.text, self.args.take().unwrap_or_default())
    }

    pub fn build_query_as<'s, T>(&'s mut self) -> sqlx::query::QueryAs<'s, Any, T, AnyArguments<'s>>
    where
        'a: 's,
        T: for<'r> sqlx::FromRow<'r, AnyRow>,
    {
        sqlx::query_as_with(&self.text, self.args.take().unwrap_or_default())
    }

    pub fn build_query_scalar<'s, T>(
        &'s mut self,
    ) -> sqlx::query::QueryScalar<'s, Any, T, AnyArguments<'s>>
    where
        'a: 's,
        (T,): for<'r> sqlx::FromRow<'r, AnyRow>,
    {
        sqlx::query_scalar_with(&self.text, self.args.take().unwrap_or_default())
    }
}

pub(crate) struct Separated<'s, 'a> {
    sql: &'s mut Sql<'a>,
    sep: &'static str,
    first: bool,
}

impl<'a> Separated<'_, 'a> {
    pub fn push_bind<T: 'a + Encode<'a, Any> + Type<Any>>(&mut self, v: T) -> &mut Self {
        if !self.first {
            self.sql.push(self.sep);
        }
        self.first = false;
        self.sql.push_bind(v);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls_name_the_same_file() {
        let (url, path) = sqlite_url("/tmp/a b/x?y#z%.db");
        assert_eq!(url, "sqlite:///tmp/a b/x%3Fy%23z%25.db?mode=rwc");
        assert_eq!(path, PathBuf::from("/tmp/a b/x?y#z%.db"));
        let (url, path) = sqlite_url("sqlite:rel.db");
        assert_eq!(
            (url.as_str(), path),
            ("sqlite://rel.db?mode=rwc", PathBuf::from("rel.db"))
        );
        let (url, _) = sqlite_url("sqlite://x.db?mode=ro");
        assert_eq!(url, "sqlite://x.db?mode=ro");
        assert!(sqlite_url(":memory:").0.contains("mode=memory"));
        assert_eq!(Backend::of("postgres://a@b/c"), Backend::Postgres);
        assert_eq!(Backend::of("heritage-atlas.db"), Backend::Sqlite);
    }

    #[test]
    fn placeholders_are_numbered() {
        let mut q = Sql::new("SELECT 1 WHERE a = ");
        q.push_bind(1_i64).push(" AND b IN (");
        let mut s = q.separated(", ");
        s.push_bind("x");
        s.push_bind("y");
        q.push(")");
        assert_eq!(q.sql(), "SELECT 1 WHERE a = $1 AND b IN ($2, $3)");
    }
}
