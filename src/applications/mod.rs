//! Online applications to the department (issue 17): what an application type is — its
//! works, its rules by grade, the stages a case passes through, who acts at each, what
//! each must produce and its time limit, the form's fields and the documents it needs —
//! as *data* (`data/application_types/*.json`), checked here when loaded; and the sums the
//! desk and the tracker share (a stage's days, with the clock stopped while the applicant
//! is asked for more).
//!
//! Types are versioned: a definition whose content changes is a new version, and a case
//! keeps the version it was submitted under. Nothing here knows HTTP or SQL.

pub mod clock;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Grade, Layer};

/// The application types shipped with the server: (file, bytes).
pub const BUNDLED: [(&str, &str); 2] = [
    (
        "data/application_types/heritage_sanction.json",
        include_str!("../../data/application_types/heritage_sanction.json"),
    ),
    (
        "data/application_types/water_body_works.json",
        include_str!("../../data/application_types/water_body_works.json"),
    ),
];

/// A text in both languages of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub en: String,
    pub bn: String,
}

/// What a stage must produce before the case moves on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Produces {
    /// A scrutiny note (E&H, the Building department).
    ScrutinyNote,
    /// The Heritage Conservation Committee's recommendation, in a meeting.
    Recommendation,
    /// The Mayor-in-Council's resolution: its number and date.
    Resolution,
    /// An official's decision (approve or refuse) with reasons.
    Decision,
    /// The decision letter, issued and put on record.
    Letter,
}

/// One stage of a type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageDef {
    pub name: Text,
    /// The duty a staff member needs to act here (admins act everywhere).
    pub duty: String,
    pub produces: Produces,
    /// The time limit, in days the clock runs (not while the applicant is asked for more).
    pub days: u32,
}

/// The rule for one grade (or `*`: any asset of the type's layer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Works allowed.
    pub works: Vec<String>,
    /// The stages a case passes through, in order.
    pub path: Vec<String>,
    /// Why a work not allowed is refused at entry.
    #[serde(default)]
    pub refusal: Option<Text>,
}

/// A field of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub code: String,
    pub label: Text,
    pub required: bool,
    pub max_chars: usize,
}

/// A document the applicant uploads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocDef {
    pub code: String,
    pub label: Text,
    pub required: bool,
}

/// An application type, one version of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppType {
    pub code: String,
    pub version: u32,
    pub name: Text,
    /// The application number's prefix (`HS` → `HS-2026-000123`).
    pub number_prefix: String,
    /// The layer of the premises applied for.
    pub asset_layer: Layer,
    /// Where the rules come from (a circular, an act), for the record.
    #[serde(default)]
    pub source: Option<String>,
    /// Every work the form offers, by code.
    pub works: BTreeMap<String, Text>,
    /// By grade (`I`, `IIA`, `IIB`, `III`), or `*` for every asset.
    pub rules: BTreeMap<String, Rule>,
    pub stages: BTreeMap<String, StageDef>,
    pub fields: Vec<FieldDef>,
    pub documents: Vec<DocDef>,
}

/// Why a definition cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("application type {code:?}: {reason}")]
pub struct TypeError {
    pub code: String,
    pub reason: String,
}

/// Why an application cannot go ahead as asked, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", reason.en)]
pub struct Refused {
    pub reason: Text,
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl AppType {
    /// Reads and checks a definition: every stage a path names exists, every work a rule
    /// allows is offered, codes are plain, limits are sane, rules are by grade only for
    /// the heritage layer.
    pub fn parse(json: &str) -> Result<AppType, TypeError> {
        let t: AppType = serde_json::from_str(json).map_err(|e| TypeError {
            code: "?".into(),
            reason: e.to_string(),
        })?;
        let bad = |reason: String| TypeError {
            code: t.code.clone(),
            reason,
        };
        if !is_code(&t.code) {
            return Err(bad(
                "the code must be lower-case letters, digits and _".into()
            ));
        }
        if t.version == 0 {
            return Err(bad("versions start at 1".into()));
        }
        let p = &t.number_prefix;
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad(format!("number_prefix {p:?}: 1 to 4 capital letters")));
        }
        if t.works.is_empty() || t.rules.is_empty() || t.stages.is_empty() {
            return Err(bad("works, rules and stages may not be empty".into()));
        }
        for code in t.works.keys().chain(t.stages.keys()) {
            if !is_code(code) {
                return Err(bad(format!("{code:?} is not a plain code")));
            }
        }
        for (key, rule) in &t.rules {
            let by_grade = key.parse::<Grade>().is_ok();
            if key != "*" && !by_grade {
                return Err(bad(format!(
                    "rule {key:?}: a grade (I, IIA, IIB, III) or *"
                )));
            }
            if by_grade && t.asset_layer != Layer::Heritage {
                return Err(bad(format!(
                    "rule {key:?}: only heritage assets have grades"
                )));
            }
            if rule.path.is_empty() {
                return Err(bad(format!("rule {key:?}: an empty path")));
            }
            for w in &rule.works {
                if !t.works.contains_key(w) {
                    return Err(bad(format!(
                        "rule {key:?} allows {w:?}, which is not a work of the type"
                    )));
                }
            }
            for s in &rule.path {
                if !t.stages.contains_key(s) {
                    return Err(bad(format!(
                        "rule {key:?} passes through {s:?}, which is not a stage"
                    )));
                }
            }
            let mut seen = std::collections::BTreeSet::new();
            if !rule.path.iter().all(|s| seen.insert(s)) {
                return Err(bad(format!("rule {key:?} passes through a stage twice")));
            }
            if rule.works.len() < t.works.len() && rule.refusal.is_none() {
                return Err(bad(format!(
                    "rule {key:?} refuses some works without saying why (refusal)"
                )));
            }
        }
        for (code, s) in &t.stages {
            if !(1..=365).contains(&s.days) {
                return Err(bad(format!("stage {code:?}: days must be from 1 to 365")));
            }
            if !is_code(&s.duty) {
                return Err(bad(format!(
                    "stage {code:?}: duty {:?} is not a plain code",
                    s.duty
                )));
            }
        }
        let mut codes = std::collections::BTreeSet::new();
        for f in &t.fields {
            if !is_code(&f.code) || !codes.insert(f.code.clone()) {
                return Err(bad(format!("field {:?}: a plain code, once", f.code)));
            }
            if !(1..=20_000).contains(&f.max_chars) {
                return Err(bad(format!(
                    "field {:?}: max_chars from 1 to 20000",
                    f.code
                )));
            }
        }
        let mut codes = std::collections::BTreeSet::new();
        for d in &t.documents {
            if !is_code(&d.code) || !codes.insert(d.code.clone()) {
                return Err(bad(format!("document {:?}: a plain code, once", d.code)));
            }
        }
        Ok(t)
    }

    /// The bundled types, checked.
    pub fn bundled() -> Result<Vec<AppType>, TypeError> {
        BUNDLED
            .iter()
            .map(|(_, json)| AppType::parse(json))
            .collect()
    }

    /// The rule for premises of this grade (`None`: not a graded asset).
    pub fn rule(&self, grade: Option<Grade>) -> Result<&Rule, Refused> {
        let by_grade = grade.and_then(|g| self.rules.get(g.as_str()));
        by_grade
            .or_else(|| self.rules.get("*"))
            .ok_or_else(|| Refused {
                reason: match grade {
                    Some(g) => Text {
                        en: format!("{} is not open to Grade {g} premises.", self.name.en),
                        bn: format!("শ্রেণি {g} ভবনের জন্য {} প্রযোজ্য নয়।", self.name.bn),
                    },
                    None => Text {
                        en: format!(
                            "{} is for graded heritage premises only; these are not graded.",
                            self.name.en
                        ),
                        bn: format!(
                            "{} শুধু শ্রেণিভুক্ত ঐতিহ্যবাহী ভবনের জন্য; এই ভবনটি শ্রেণিভুক্ত নয়।",
                            self.name.bn
                        ),
                    },
                },
            })
    }

    /// The stages a case for `work` at premises of `grade` passes through, or why it is
    /// refused at entry (a demolition of a Grade I building).
    pub fn path_for(&self, grade: Option<Grade>, work: &str) -> Result<&[String], Refused> {
        let Some(work_name) = self.works.get(work) else {
            return Err(Refused {
                reason: Text {
                    en: format!("{work:?} is not a work this application is for."),
                    bn: format!("{work:?} এই আবেদনের কাজ নয়।"),
                },
            });
        };
        let rule = self.rule(grade)?;
        if !rule.works.iter().any(|w| w == work) {
            let why = rule.refusal.clone().unwrap_or_else(|| Text {
                en: "This work is not allowed here.".into(),
                bn: "এখানে এই কাজের অনুমতি নেই।".into(),
            });
            return Err(Refused {
                reason: Text {
                    en: format!("{} refused: {}", work_name.en, why.en),
                    bn: format!("{} নাকচ: {}", work_name.bn, why.bn),
                },
            });
        }
        Ok(&rule.path)
    }

    /// The fields and documents a submission still lacks (codes), given what it has.
    pub fn missing<'a>(
        &'a self,
        fields: &BTreeMap<String, String>,
        documents: &std::collections::BTreeSet<String>,
    ) -> Vec<&'a str> {
        let mut out: Vec<&str> = self
            .fields
            .iter()
            .filter(|f| f.required && fields.get(&f.code).is_none_or(|v| v.trim().is_empty()))
            .map(|f| f.code.as_str())
            .collect();
        out.extend(
            self.documents
                .iter()
                .filter(|d| d.required && !documents.contains(&d.code))
                .map(|d| d.code.as_str()),
        );
        out
    }

    /// The SHA-256 of the definition as loaded: a changed file is a new version.
    pub fn digest(&self) -> String {
        let canonical = serde_json::to_string(self).unwrap_or_default();
        crate::auth::sha256_hex(&canonical)
    }
}

/// How an applicant is reached: by email (the SMTP notifier) or phone (the webhook
/// notifier, read by an SMS gateway).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Phone,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Phone => "phone",
        }
    }
}

/// An applicant's contact as typed, in one canonical form — an email address in lower
/// case, a phone number as `+<country><number>` (ten digits alone are an Indian mobile
/// number) — or why it is not one.
pub fn contact(s: &str) -> Result<(String, Channel), String> {
    let s = s.trim();
    if s.is_empty() || s.len() > 254 {
        return Err("an email address or a phone number, at most 254 characters".into());
    }
    if s.contains('@') {
        let lower = s.to_lowercase();
        let (local, domain) = lower.rsplit_once('@').unwrap_or_default();
        let ok = !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && lower
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[],;:\\\"".contains(c))
            && lower.matches('@').count() == 1;
        return if ok {
            Ok((lower, Channel::Email))
        } else {
            Err(format!("{s:?} is not an email address"))
        };
    }
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let (plus, rest) = match digits.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, digits.as_str()),
    };
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{s:?} is neither an email address nor a phone number"
        ));
    }
    let number = if plus {
        rest.to_string()
    } else if rest.len() == 10 && matches!(rest.as_bytes()[0], b'6'..=b'9') {
        format!("91{rest}")
    } else if rest.len() == 11 && rest.starts_with('0') {
        format!("91{}", &rest[1..])
    } else {
        return Err(format!(
            "{s:?}: give a ten-digit mobile number or the number with its country code (+91…)"
        ));
    };
    if !(8..=15).contains(&number.len()) || number.starts_with('0') {
        return Err(format!("{s:?} is not a phone number"));
    }
    Ok((format!("+{number}"), Channel::Phone))
}

/// `HS-2026-000123`.
pub fn format_number(prefix: &str, year: i32, seq: i64) -> String {
    format!("{prefix}-{year}-{seq:06}")
}

/// The (prefix, year, sequence) of a well-formed application number.
pub fn parse_number(s: &str) -> Option<(&str, i32, i64)> {
    let mut parts = s.trim().splitn(3, '-');
    let (p, y, n) = (parts.next()?, parts.next()?, parts.next()?);
    if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    if y.len() != 4 || n.len() < 6 || n.len() > 12 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((p, y.parse().ok()?, n.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heritage() -> AppType {
        AppType::parse(BUNDLED[0].1).unwrap()
    }

    #[test]
    fn the_bundled_types_load() {
        let types = AppType::bundled().unwrap();
        assert_eq!(types.len(), 2);
        assert_eq!(types[0].code, "heritage_sanction");
        assert_eq!(types[1].asset_layer, Layer::WaterBodies);
    }

    #[test]
    fn grade_rules_follow_the_circular() {
        let t = heritage();
        let err = t.path_for(Some(Grade::I), "demolition").unwrap_err();
        assert!(
            err.reason.en.contains("repair and restoration only"),
            "{}",
            err.reason.en
        );
        assert!(err.reason.bn.contains("শ্রেণি I"));
        assert_eq!(
            t.path_for(Some(Grade::I), "repair").unwrap(),
            [
                "eh_scrutiny",
                "building_scrutiny",
                "hcc",
                "mic",
                "communication"
            ]
        );
        // Grade III: decided by KMC officials, without the HCC.
        let p = t.path_for(Some(Grade::III), "demolition").unwrap();
        assert!(!p.iter().any(|s| s == "hcc" || s == "mic"), "{p:?}");
        assert!(t.path_for(None, "repair").is_err(), "ungraded premises");
        assert!(t.path_for(Some(Grade::IIA), "painting").is_err());
        let wb = AppType::parse(BUNDLED[1].1).unwrap();
        let no = wb.path_for(None, "filling").unwrap_err();
        assert!(no.reason.en.contains("offence"));
        assert_eq!(wb.path_for(None, "desilting").unwrap().len(), 3);
    }

    #[test]
    fn a_definition_that_does_not_hold_together_is_refused() {
        let base: serde_json::Value = serde_json::from_str(BUNDLED[0].1).unwrap();
        let broken = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = base.clone();
            f(&mut v);
            AppType::parse(&v.to_string()).unwrap_err().reason
        };
        assert!(broken(&|v| v["rules"]["I"]["path"][0] = "nowhere".into()).contains("not a stage"));
        assert!(broken(&|v| v["rules"]["I"]["works"][0] = "painting".into()).contains("not a work"));
        assert!(broken(&|v| v["rules"]["IV"] = v["rules"]["III"].clone()).contains("a grade"));
        assert!(broken(&|v| v["rules"]["I"]
            .as_object_mut()
            .unwrap()
            .remove("refusal")
            .map(|_| ())
            .unwrap_or(()))
        .contains("without saying why"));
        assert!(broken(&|v| v["stages"]["hcc"]["days"] = 0.into()).contains("days"));
        assert!(broken(&|v| v["number_prefix"] = "hs".into()).contains("number_prefix"));
        assert!(broken(&|v| v["surprise"] = true.into()).contains("unknown field"));
        assert!(broken(&|v| v["rules"]["I"]["path"][1] = "eh_scrutiny".into()).contains("twice"));
    }

    #[test]
    fn what_is_missing_is_named() {
        let t = heritage();
        let mut fields = BTreeMap::new();
        fields.insert("premises_no".to_string(), "12".to_string());
        fields.insert("owner_name".to_string(), "  ".to_string());
        let docs = ["drawings".to_string()].into_iter().collect();
        let missing = t.missing(&fields, &docs);
        assert!(missing.contains(&"owner_name") && missing.contains(&"photographs"));
        assert!(!missing.contains(&"premises_no") && !missing.contains(&"drawings"));
        assert!(!missing.contains(&"architect"), "optional");
    }

    #[test]
    fn contacts_have_one_form() {
        let ok = |s: &str| contact(s).unwrap();
        assert_eq!(
            ok(" Ria.Sen@Example.ORG "),
            ("ria.sen@example.org".into(), Channel::Email)
        );
        assert_eq!(ok("98300 12345"), ("+919830012345".into(), Channel::Phone));
        assert_eq!(ok("09830012345"), ("+919830012345".into(), Channel::Phone));
        assert_eq!(
            ok("+91 98300-12345"),
            ("+919830012345".into(), Channel::Phone)
        );
        assert_eq!(
            ok("+44 20 7946 0958"),
            ("+442079460958".into(), Channel::Phone)
        );
        for bad in [
            "",
            "a@b",
            "@x.org",
            "a b@x.org",
            "a@@x.org",
            "12345",
            "5830012345",
            "+0123456789",
            "phone",
            "a@x.org>",
        ] {
            assert!(contact(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn numbers_round_trip() {
        assert_eq!(format_number("HS", 2026, 42), "HS-2026-000042");
        assert_eq!(parse_number("HS-2026-000042"), Some(("HS", 2026, 42)));
        for bad in [
            "hs-2026-000042",
            "HS-26-000042",
            "HS-2026-42",
            "HS-2026-00004x",
            "../x",
            "",
        ] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_changed_definition_has_another_digest() {
        let a = heritage();
        let mut b = a.clone();
        b.stages.get_mut("hcc").unwrap().days += 1;
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), heritage().digest());
    }
}
