//! A document's metadata as staff send it: multipart fields on upload, a row of an ingest
//! manifest, or a JSON merge patch (RFC 7396) on change. Each field is checked here;
//! asset codes are only split (the caller looks them up).

use serde_json::Value;

use super::{DocKind, LANGUAGES};
use crate::history::{self, bad, FieldError, MAX_TITLE};
use crate::store::DocMeta;

/// Longest reference number, issuing office.
pub const MAX_REFERENCE: usize = 100;
/// Most assets one document may name.
pub const MAX_ASSETS: usize = 50;
/// Fields a document's record has.
pub const FIELDS: [&str; 10] = [
    "title",
    "type",
    "reference",
    "issuer",
    "issued_on",
    "valid_until",
    "language",
    "ward",
    "public",
    "assets",
];

/// Fields given (an absent field is `None`; a field given empty clears it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocFields {
    pub title: Option<Option<String>>,
    pub kind: Option<DocKind>,
    pub reference: Option<Option<String>>,
    pub issuer: Option<Option<String>>,
    pub issued_on: Option<Option<String>>,
    pub valid_until: Option<Option<String>>,
    pub language: Option<Option<String>>,
    pub ward: Option<Option<i64>>,
    pub public: Option<bool>,
    /// Asset codes, as given.
    pub assets: Option<Vec<String>>,
}

/// A type by its name, or a name people use for it.
pub fn kind(s: &str) -> Option<DocKind> {
    let k = s.trim().to_lowercase().replace([' ', '-', '/'], "_");
    match k.as_str() {
        "permission" | "noc_permission" | "no_objection_certificate" => Some(DocKind::Noc),
        "committee_minutes" | "hcc_minutes" => Some(DocKind::Minutes),
        "report" | "inspection" => Some(DocKind::InspectionReport),
        "photo" => Some(DocKind::Photograph),
        _ => DocKind::parse(&k),
    }
}

fn language(s: &str) -> Result<String, FieldError> {
    let s = s.to_lowercase();
    let mut parts: Vec<&str> = s
        .split(['+', ',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p {
            "bengali" | "bangla" | "ben" => "bn",
            "english" | "eng" => "en",
            other => other,
        })
        .collect();
    parts.sort_unstable();
    parts.dedup();
    let l = parts.join("+");
    if LANGUAGES.contains(&l.as_str()) {
        Ok(l)
    } else {
        Err(bad("language", "must be bn, en or bn+en"))
    }
}

fn boolean(field: &'static str, s: &str) -> Result<bool, FieldError> {
    match s.trim().to_lowercase().as_str() {
        "true" | "1" | "on" | "yes" | "public" => Ok(true),
        "false" | "0" | "off" | "no" | "private" => Ok(false),
        other => Err(bad(field, format!("must be true or false, not {other:?}"))),
    }
}

/// Asset codes separated by commas, semicolons or spaces.
pub fn codes(s: &str) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = s
        .split([',', ';', ' ', '\n', '\t'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    out.dedup();
    if out.len() > MAX_ASSETS {
        return Err(bad("assets", format!("at most {MAX_ASSETS} assets")));
    }
    if let Some(c) = out.iter().find(|c| c.len() > 64) {
        return Err(bad(
            "assets",
            format!("no asset code is that long: {c:.20}…"),
        ));
    }
    Ok(out)
}

impl DocFields {
    /// From name/value pairs (multipart fields, a manifest row): a field given empty
    /// clears it; unknown names are refused.
    pub fn from_pairs(
        pairs: &[(String, String)],
        today: time::Date,
    ) -> Result<DocFields, FieldError> {
        let mut f = DocFields::default();
        for (name, v) in pairs {
            f.set(name, Some(v.as_str()), today)?;
        }
        f.check_dates()?;
        Ok(f)
    }

    /// From a JSON merge patch: `null` clears a field.
    pub fn from_patch(patch: &Value, today: time::Date) -> Result<DocFields, FieldError> {
        let Value::Object(o) = patch else {
            return Err(bad(
                "body",
                "must be a JSON object (a merge patch of the record)",
            ));
        };
        let mut f = DocFields::default();
        for (name, v) in o {
            let text = match v {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Number(n) => Some(n.to_string()),
                Value::Array(items) if name == "assets" => Some(
                    items
                        .iter()
                        .map(|i| {
                            i.as_str()
                                .map(str::to_string)
                                .ok_or_else(|| bad("assets", "must be asset codes (strings)"))
                        })
                        .collect::<Result<Vec<_>, _>>()?
                        .join(","),
                ),
                _ => {
                    return Err(bad(
                        field_name(name)?,
                        "must be a string, number, boolean or null",
                    ))
                }
            };
            f.set(name, text.as_deref(), today)?;
        }
        f.check_dates()?;
        Ok(f)
    }

    fn set(&mut self, name: &str, v: Option<&str>, today: time::Date) -> Result<(), FieldError> {
        let field = field_name(name)?;
        let v = v.map(str::trim).filter(|s| !s.is_empty());
        let text = |max| history::text(field, v.map(str::to_string), max);
        match field {
            "title" => self.title = Some(text(MAX_TITLE)?),
            "type" => {
                let v =
                    v.ok_or_else(|| bad("type", format!("required: one of {}", DocKind::names())))?;
                self.kind = Some(kind(v).ok_or_else(|| {
                    bad(
                        "type",
                        format!("must be one of {}, not {v:?}", DocKind::names()),
                    )
                })?);
            }
            "reference" => self.reference = Some(text(MAX_REFERENCE)?),
            "issuer" => self.issuer = Some(text(MAX_TITLE)?),
            "issued_on" => {
                self.issued_on = Some(v.map(|s| history::day("issued_on", s, today)).transpose()?)
            }
            "valid_until" => {
                // A validity may run into the future, within reason.
                let far = today.replace_year(today.year() + 200).unwrap_or(today);
                self.valid_until = Some(v.map(|s| history::day("valid_until", s, far)).transpose()?)
            }
            "language" => self.language = Some(v.map(language).transpose()?),
            "ward" => {
                self.ward = Some(
                    v.map(|s| {
                        s.parse::<i64>()
                            .ok()
                            .filter(|w| (1..=1000).contains(w))
                            .ok_or_else(|| bad("ward", format!("must be a ward number, not {s:?}")))
                    })
                    .transpose()?,
                )
            }
            "public" => {
                self.public = Some(boolean(
                    "public",
                    v.ok_or_else(|| bad("public", "must be true or false"))?,
                )?)
            }
            "assets" => self.assets = Some(codes(v.unwrap_or(""))?),
            other => return Err(bad("body", format!("unknown field {other:?}"))),
        }
        Ok(())
    }

    fn check_dates(&self) -> Result<(), FieldError> {
        if let (Some(Some(a)), Some(Some(b))) = (&self.issued_on, &self.valid_until) {
            if b < a {
                return Err(bad("valid_until", "is before issued_on"));
            }
        }
        Ok(())
    }

    /// These fields over a record (`assets` is set by the caller, who looks codes up).
    pub fn apply(&self, mut m: DocMeta) -> Result<DocMeta, FieldError> {
        if let Some(t) = &self.title {
            m.title = t
                .clone()
                .ok_or_else(|| bad("title", "required: what the document is"))?;
        }
        if let Some(k) = self.kind {
            m.kind = k;
        }
        let set = |slot: &mut Option<String>, v: &Option<Option<String>>| {
            if let Some(v) = v {
                *slot = v.clone();
            }
        };
        set(&mut m.reference, &self.reference);
        set(&mut m.issuer, &self.issuer);
        set(&mut m.issued_on, &self.issued_on);
        set(&mut m.valid_until, &self.valid_until);
        set(&mut m.language, &self.language);
        if let Some(w) = self.ward {
            m.ward = w;
        }
        if let Some(p) = self.public {
            m.public = p;
        }
        if let (Some(a), Some(b)) = (&m.issued_on, &m.valid_until) {
            if b < a {
                return Err(bad("valid_until", "is before issued_on"));
            }
        }
        Ok(m)
    }
}

/// A field's name, or the error that there is no such field.
fn field_name(name: &str) -> Result<&'static str, FieldError> {
    FIELDS.into_iter().find(|f| *f == name).ok_or_else(|| {
        bad(
            "body",
            format!("unknown field {name:?} (fields: {})", FIELDS.join(", ")),
        )
    })
}

/// A record with nothing but a title (the base a new document's fields apply to).
pub fn blank(title: String) -> DocMeta {
    DocMeta {
        title,
        kind: DocKind::Other,
        reference: None,
        issuer: None,
        issued_on: None,
        valid_until: None,
        language: None,
        ward: None,
        public: true,
        assets: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> time::Date {
        time::macros::date!(2026 - 12 - 01)
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn fields_are_checked_and_applied() {
        let f = DocFields::from_pairs(
            &pairs(&[
                ("title", " NOC for repair "),
                ("type", "Permission"),
                ("reference", "KMC/EH/2019/17"),
                ("issued_on", "2019-03-04"),
                ("valid_until", "2029-03-04"),
                ("language", "English, Bangla"),
                ("ward", "63"),
                ("public", "no"),
                ("assets", "HER-0001; HER-0002"),
            ]),
            today(),
        )
        .unwrap();
        let m = f.apply(blank("x".into())).unwrap();
        assert_eq!(m.title, "NOC for repair");
        assert_eq!(m.kind, DocKind::Noc);
        assert_eq!(m.language.as_deref(), Some("bn+en"));
        assert_eq!(m.ward, Some(63));
        assert!(!m.public);
        assert_eq!(f.assets.unwrap(), ["HER-0001", "HER-0002"]);
    }

    #[test]
    fn bad_fields_are_named() {
        let err = |p: &[(&str, &str)]| DocFields::from_pairs(&pairs(p), today()).unwrap_err().field;
        assert_eq!(err(&[("type", "memo")]), "type");
        assert_eq!(err(&[("issued_on", "2030-01-01")]), "issued_on");
        assert_eq!(
            err(&[("issued_on", "2020-01-02"), ("valid_until", "2020-01-01")]),
            "valid_until"
        );
        assert_eq!(err(&[("language", "fr")]), "language");
        assert_eq!(err(&[("ward", "0")]), "ward");
        assert_eq!(err(&[("colour", "red")]), "body");
        assert_eq!(err(&[("title", "a\u{1}b")]), "title");
    }

    #[test]
    fn a_patch_clears_with_null() {
        let f = DocFields::from_patch(
            &serde_json::json!({"reference": null, "assets": ["A", "B"], "ward": 5, "public": false}),
            today(),
        )
        .unwrap();
        let mut base = blank("t".into());
        base.reference = Some("R".into());
        let m = f.apply(base).unwrap();
        assert_eq!(m.reference, None);
        assert_eq!(m.ward, Some(5));
        assert!(
            DocFields::from_patch(&serde_json::json!({"title": null}), today())
                .unwrap()
                .apply(blank("t".into()))
                .is_err()
        );
        assert!(DocFields::from_patch(&serde_json::json!([1]), today()).is_err());
    }
}
