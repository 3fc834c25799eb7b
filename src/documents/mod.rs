//! The department's documents as records of their own: what a document is (type,
//! reference, issuing office, dates, language, ward, the assets it concerns), its text
//! (the PDF's text layer, or OCR of a scan), how it is found (full-text search, see
//! [`search`]) and how a printed copy is checked ([`pdf::stamp`], [`qr`]).

pub mod extract;
pub mod form;
pub mod ingest;
pub mod letter;
pub mod pdf;
pub mod qr;
pub mod search;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    Notice,
    Order,
    /// A no-objection certificate or permission.
    Noc,
    /// Minutes of a committee (e.g. the Heritage Conservation Committee).
    Minutes,
    Survey,
    InspectionReport,
    Photograph,
    Other,
}

impl DocKind {
    pub const ALL: [DocKind; 8] = [
        DocKind::Notice,
        DocKind::Order,
        DocKind::Noc,
        DocKind::Minutes,
        DocKind::Survey,
        DocKind::InspectionReport,
        DocKind::Photograph,
        DocKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Notice => "notice",
            DocKind::Order => "order",
            DocKind::Noc => "noc",
            DocKind::Minutes => "minutes",
            DocKind::Survey => "survey",
            DocKind::InspectionReport => "inspection_report",
            DocKind::Photograph => "photograph",
            DocKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<DocKind> {
        DocKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The accepted names, for error messages.
    pub fn names() -> String {
        DocKind::ALL.map(DocKind::as_str).join(", ")
    }
}

/// Whether a document still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocStatus {
    Current,
    /// Replaced by a later document (named by `superseded_by`).
    Superseded,
    /// Withdrawn: no longer valid.
    Revoked,
}

impl DocStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocStatus::Current => "current",
            DocStatus::Superseded => "superseded",
            DocStatus::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<DocStatus> {
        match s {
            "current" => Some(DocStatus::Current),
            "superseded" => Some(DocStatus::Superseded),
            "revoked" => Some(DocStatus::Revoked),
            _ => None,
        }
    }
}

/// The languages a document's text may be in: they choose the OCR models.
pub const LANGUAGES: [&str; 3] = ["bn", "en", "bn+en"];

/// How a document's text was got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSource {
    /// The PDF's own text layer.
    Pdf,
    /// Read from the page images by Tesseract.
    Ocr,
    /// Neither gave any text.
    None,
}

impl TextSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TextSource::Pdf => "pdf",
            TextSource::Ocr => "ocr",
            TextSource::None => "none",
        }
    }
}

/// Folds text for the index and for queries alike, so the two meet: Unicode NFKC (a
/// Bengali letter typed precomposed or as letter + nukta is one letter, as OCR and
/// keyboards differ; a PDF's `ﬀ` ligature is `ff`), zero-width joiners and soft hyphens dropped, khanda ta as ta + virama, and
/// Bengali digits as ASCII digits (a reference typed either way is found). Case and Latin
/// diacritics are folded by the index's tokenizer.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkc() {
        match c {
            '\u{200C}' | '\u{200D}' | '\u{00AD}' | '\u{FEFF}' => {}
            '\u{09CE}' => out.push_str("\u{09A4}\u{09CD}"),
            '\u{09E6}'..='\u{09EF}' => {
                out.push(char::from(b'0' + (c as u32 - 0x09E6) as u8));
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_meets_the_ways_bengali_is_typed() {
        // য় precomposed (U+09DF) and as য + nukta fold to one form.
        assert_eq!(fold("কলকাতা\u{09DF}"), fold("কলকাতা\u{09AF}\u{09BC}"));
        // Joiners vanish; Bengali digits become ASCII.
        assert_eq!(fold("র\u{200D}্য"), "র্য");
        assert_eq!(fold("২০১৯"), "2019");
        assert_eq!(fold("উৎসব"), fold("উত্\u{200D}সব"));
        assert_eq!(fold("scaﬀolding"), "scaffolding");
    }

    #[test]
    fn kinds_round_trip() {
        for k in DocKind::ALL {
            assert_eq!(DocKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(DocKind::parse("memo"), None);
    }
}
