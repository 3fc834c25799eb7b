//! The decision letter of an application: its words in English and Bengali, made from
//! what was recorded — the resolution or order, the committee's recommendation, the
//! premises and the work — and set as a PDF by `documents::letter`.
//!
//! A letter names no applicant and quotes no internal note: it goes on the public register
//! (by its verification link), so it says only what the department decided and why.

use super::applications::AppError;
use crate::applications::AppType;
use crate::documents::letter::{letter_pdf, LetterText};
use crate::model::Asset;
use crate::store::{CaseRow, StepRow};

const HEADING_EN: &str = "Kolkata Municipal Corporation — Environment & Heritage Department";
const HEADING_BN: &str = "কলকাতা পুরসভা — পরিবেশ ও ঐতিহ্য বিভাগ";

/// The PDF of the letter communicating `decisive` (a resolution or an officials'
/// decision) on case `c`.
pub(super) fn decision_letter(
    t: &AppType,
    c: &CaseRow,
    asset: Option<&Asset>,
    decisive: &StepRow,
    steps: &[StepRow],
) -> Result<Vec<u8>, AppError> {
    let number = c.number.as_deref().unwrap_or_default();
    let approve = decisive.outcome.as_deref() == Some("approve");
    let work = c.work.as_deref().and_then(|w| t.works.get(w));
    let (premises_en, premises_bn) = match asset {
        Some(a) => {
            let grade = a
                .attrs
                .grade
                .map(|g| format!(", Grade {g}"))
                .unwrap_or_default();
            let grade_bn = a
                .attrs
                .grade
                .map(|g| format!(", শ্রেণি {g}"))
                .unwrap_or_default();
            (
                format!("{} ({}{grade})", a.display_name(), a.code),
                format!(
                    "{} ({}{grade_bn})",
                    a.attrs.name_bn.as_deref().unwrap_or(a.display_name()),
                    a.code
                ),
            )
        }
        None => (String::from("—"), String::from("—")),
    };
    let premises_no = c
        .fields
        .get("premises_no")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let reference = decisive.reference.clone().unwrap_or_default();
    let date = decisive.ref_date.clone().unwrap_or_default();
    let recommendation = steps
        .iter()
        .rev()
        .find(|s| s.kind == "recommendation")
        .map(|s| (s.outcome.as_deref() == Some("approve"), s.ref_date.clone()));
    let by_mic = decisive.kind == "resolution";

    let mut en = vec![
        format!("Application number: {number}"),
        format!("Application: {}", t.name.en),
        format!("Premises: {premises_en}"),
    ];
    let mut bn = vec![
        format!("আবেদন নম্বর: {number}"),
        format!("আবেদন: {}", t.name.bn),
        format!("প্রেমিসেস: {premises_bn}"),
    ];
    if let Some(p) = &premises_no {
        en.push(format!("Premises number: {p}"));
        bn.push(format!("প্রেমিসেস নম্বর: {p}"));
    }
    if let Some(w) = work {
        en.push(format!("Work applied for: {}", w.en));
        bn.push(format!("যে কাজের আবেদন: {}", w.bn));
    }
    if let Some((rec, on)) = &recommendation {
        let on = on.clone().unwrap_or_default();
        en.push(format!(
            "The Heritage Conservation Committee, meeting on {on}, recommended that the application be {}.",
            if *rec { "approved" } else { "refused" }
        ));
        bn.push(format!(
            "হেরিটেজ কনজারভেশন কমিটি {on} তারিখের সভায় আবেদনটি {} সুপারিশ করেছে।",
            if *rec {
                "অনুমোদনের"
            } else {
                "নামঞ্জুরের"
            }
        ));
    }
    if by_mic {
        en.push(format!(
            "By resolution no. {reference} of {date}, the Mayor-in-Council {} the application.",
            if approve { "approved" } else { "refused" }
        ));
        bn.push(format!(
            "মেয়র-ইন-কাউন্সিল {date} তারিখের {reference} নম্বর সিদ্ধান্তে আবেদনটি {}।",
            if approve {
                "অনুমোদন করেছে"
            } else {
                "নামঞ্জুর করেছে"
            }
        ));
    } else {
        en.push(format!(
            "By order {reference} of {date}, the officials of the Corporation {} the application.",
            if approve { "approved" } else { "refused" }
        ));
        bn.push(format!(
            "পুরসভার আধিকারিকরা {date} তারিখের {reference} আদেশে আবেদনটি {}।",
            if approve {
                "অনুমোদন করেছেন"
            } else {
                "নামঞ্জুর করেছেন"
            }
        ));
    }
    if let Some(text) = decisive.text.as_deref().filter(|s| !s.trim().is_empty()) {
        en.push(format!("Terms and reasons recorded: {text}"));
        bn.push(format!("নথিভুক্ত শর্ত ও কারণ: {text}"));
    }
    if approve && asset.is_some_and(|a| a.attrs.grade.is_some()) {
        en.push(format!(
            "The heritage lock on the premises is cleared for this application ({number}): the Building department may process the plan for the work approved, and for no other."
        ));
        bn.push(format!(
            "এই আবেদনের ({number}) জন্য প্রেমিসেসের হেরিটেজ লক তোলা হল: বিল্ডিং বিভাগ কেবল অনুমোদিত কাজের নকশা বিবেচনা করতে পারবে।"
        ));
    }
    en.push(
        "This letter is on record in the Corporation's document register; its QR code and verification link confirm this copy.".into(),
    );
    bn.push(
        "এই চিঠি পুরসভার নথি-নিবন্ধে রাখা আছে; এর কিউআর কোড ও যাচাই-লিংক এই প্রতিলিপির সত্যতা নিশ্চিত করে।"
            .into(),
    );

    let en = LetterText {
        heading: HEADING_EN.into(),
        title: format!(
            "{}: {}",
            t.name.en,
            if approve { "approved" } else { "refused" }
        ),
        paragraphs: en,
    };
    let bn = LetterText {
        heading: HEADING_BN.into(),
        title: format!(
            "{}: {}",
            t.name.bn,
            if approve {
                "অনুমোদিত"
            } else {
                "নামঞ্জুর"
            }
        ),
        paragraphs: bn,
    };
    letter_pdf(&en, &bn)
        .map_err(|e| AppError::Unavailable(format!("the letter could not be made: {e}")))
}
