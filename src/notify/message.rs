//! The words of a notice: a subject and a short plain-text body in the reporter's
//! language, the same text whether it goes out as an email or (through the webhook) as
//! an SMS.
//!
//! The Bengali reuses the web app's vocabulary (`web/js/strings/bn.js`: the `status.*`,
//! `cat.*` and `event.*` strings), so the message and the tracking page a reporter opens
//! from it call things by the same names. Assigning never names the member of staff: the
//! reporter deals with the department, not with a person.
//!
//! What a reporter or staff member wrote (name, note) is tidied before it is used: control
//! characters dropped, the name on one line, and the note cut at a word to
//! [`NOTE_MAX_CHARS`] — a complaint note may run to 4,000 characters, an SMS gateway
//! bills per 70 Bengali characters, and the whole note is one tap away on the ticket page.

use super::{Action, Category, Lang, Notice, Status};

/// Subject and plain text body in the reporter's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
}

/// Longest note quoted in a message, in characters; longer ones are cut at a word.
pub const NOTE_MAX_CHARS: usize = 300;

/// Longest reporter name used in the greeting; a longer one is cut.
const NAME_MAX_CHARS: usize = 60;

/// The subject and body of a notice, in `n.lang`.
pub fn render(n: &Notice) -> Rendered {
    let name = n
        .reporter_name
        .as_deref()
        .map(|s| clip(&one_line(s), NAME_MAX_CHARS).0)
        .filter(|s| !s.is_empty());
    let note = n
        .note
        .as_deref()
        .map(tidy_note)
        .filter(|(s, _)| !s.is_empty());
    let original = n
        .duplicate_of
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    // The caller builds links; the original's is the ticket's with the ticket swapped,
    // which holds for the app's `#/track/{ticket}` links. Otherwise only its number is given.
    let original_url = original.and_then(|o| {
        n.ticket_url
            .strip_suffix(n.ticket.as_str())
            .filter(|_| !n.ticket.is_empty())
            .map(|base| format!("{base}{o}"))
    });
    let parts = Parts {
        n,
        name: name.as_deref(),
        note: note.as_ref().map(|(s, cut)| (s.as_str(), *cut)),
        original,
        original_url: original_url.as_deref(),
    };
    match n.lang {
        Lang::En => english(&parts),
        Lang::Bn => bengali(&parts),
    }
}

/// What the two languages' templates fill in.
struct Parts<'a> {
    n: &'a Notice,
    name: Option<&'a str>,
    /// The tidied note and whether it was shortened.
    note: Option<(&'a str, bool)>,
    original: Option<&'a str>,
    original_url: Option<&'a str>,
}

fn english(p: &Parts) -> Rendered {
    let t = &p.n.ticket;
    let cat = p.n.category.name();
    let subject = match p.n.action {
        Action::Acknowledge => format!("Complaint {t}: acknowledged"),
        Action::Assign => format!("Complaint {t}: given to staff to handle"),
        Action::Start => format!("Complaint {t}: work has started"),
        Action::Resolve => format!("Complaint {t}: resolved"),
        Action::Reject => format!("Complaint {t}: rejected"),
        Action::Duplicate => match p.original {
            Some(o) => format!("Complaint {t}: duplicate of {o}"),
            None => format!("Complaint {t}: duplicate"),
        },
        Action::Note => format!("Complaint {t}: update from the department"),
    };
    let mut lead = match p.n.action {
        Action::Acknowledge => format!(
            "The Environment & Heritage Department has received your complaint {t} ({cat}) \
             and will look into it."
        ),
        Action::Assign => format!(
            "Your complaint {t} ({cat}) has been given to a member of the department's staff \
             to handle."
        ),
        Action::Start => format!("Work has started on your complaint {t} ({cat})."),
        Action::Resolve => format!("The department has resolved your complaint {t} ({cat})."),
        Action::Reject => {
            format!("The department has closed your complaint {t} ({cat}) without action.")
        }
        Action::Duplicate => match p.original {
            Some(o) => format!(
                "Your complaint {t} ({cat}) is about the same problem as complaint {o}, filed \
                 earlier. The work goes on under that complaint."
            ),
            None => format!(
                "Your complaint {t} ({cat}) is about the same problem as another complaint, \
                 filed earlier. The work goes on under that complaint."
            ),
        },
        Action::Note => format!("The department has news about your complaint {t} ({cat})."),
    };
    if let Some((note, cut)) = p.note {
        let intro = match p.n.action {
            Action::Resolve => "The department says what was done:\n",
            Action::Reject => "Reason: ",
            _ => "The department adds: ",
        };
        lead += &format!("\n\n{intro}{note}");
        if cut {
            lead += "\n(Shortened: the whole note is on the complaint's page.)";
        }
    }
    if let (Some(o), Some(url)) = (p.original, p.original_url) {
        lead += &format!("\n\nFollow complaint {o}: {url}");
    }
    let greeting = match p.name {
        Some(name) => format!("Dear {name},"),
        None => "Dear citizen,".to_string(),
    };
    assemble(&[
        &subject,
        &greeting,
        &lead,
        &format!(
            "Status now: {}\nFollow your complaint: {}",
            status_en(p.n.status),
            p.n.ticket_url
        ),
        "Environment & Heritage Department\nKolkata Municipal Corporation\n\
         (This message was sent automatically; replies are not read.)",
        &format!(
            "To stop these messages about this complaint: {}",
            p.n.optout_url
        ),
    ])
}

fn bengali(p: &Parts) -> Rendered {
    let t = &p.n.ticket;
    let cat = category_bn(p.n.category);
    let subject = match p.n.action {
        Action::Acknowledge => format!("অভিযোগ {t}: গৃহীত"),
        Action::Assign => format!("অভিযোগ {t}: কর্মীকে দায়িত্ব দেওয়া হয়েছে"),
        Action::Start => format!("অভিযোগ {t}: কাজ শুরু হয়েছে"),
        Action::Resolve => format!("অভিযোগ {t}: সমাধান হয়েছে"),
        Action::Reject => format!("অভিযোগ {t}: বাতিল"),
        Action::Duplicate => match p.original {
            Some(o) => format!("অভিযোগ {t}: একই অভিযোগ ({o})"),
            None => format!("অভিযোগ {t}: একই অভিযোগ"),
        },
        Action::Note => format!("অভিযোগ {t}: বিভাগের কাছ থেকে খবর"),
    };
    let mut lead = match p.n.action {
        Action::Acknowledge => format!(
            "পরিবেশ ও ঐতিহ্য বিভাগ আপনার অভিযোগটি (টিকিট নম্বর {t}, {cat}) গ্রহণ করেছে। \
             বিষয়টি খতিয়ে দেখা হবে।"
        ),
        Action::Assign => format!(
            "আপনার অভিযোগটি (টিকিট নম্বর {t}, {cat}) দেখার দায়িত্ব বিভাগের একজন কর্মীকে \
             দেওয়া হয়েছে।"
        ),
        Action::Start => {
            format!("আপনার অভিযোগটি (টিকিট নম্বর {t}, {cat}) নিয়ে কাজ শুরু হয়েছে।")
        }
        Action::Resolve => {
            format!("বিভাগ আপনার অভিযোগটির (টিকিট নম্বর {t}, {cat}) সমাধান করেছে।")
        }
        Action::Reject => {
            format!("বিভাগ কোনো ব্যবস্থা না নিয়ে আপনার অভিযোগটি (টিকিট নম্বর {t}, {cat}) বন্ধ করেছে।")
        }
        Action::Duplicate => match p.original {
            Some(o) => format!(
                "আপনার অভিযোগে (টিকিট নম্বর {t}, {cat}) যে সমস্যার কথা বলা হয়েছে, সেটি নিয়ে \
                 আগেই {o} নম্বর অভিযোগ জমা পড়েছে। কাজ ওই অভিযোগেই এগোবে।"
            ),
            None => format!(
                "আপনার অভিযোগে (টিকিট নম্বর {t}, {cat}) যে সমস্যার কথা বলা হয়েছে, সেটি নিয়ে \
                 আগেই অন্য একটি অভিযোগ জমা পড়েছে। কাজ ওই অভিযোগেই এগোবে।"
            ),
        },
        Action::Note => {
            format!("আপনার অভিযোগ (টিকিট নম্বর {t}, {cat}) নিয়ে বিভাগের কাছ থেকে খবর।")
        }
    };
    if let Some((note, cut)) = p.note {
        let intro = match p.n.action {
            Action::Resolve => "কী করা হয়েছে, বিভাগ জানিয়েছে:\n",
            Action::Reject => "কারণ: ",
            _ => "বিভাগ জানিয়েছে: ",
        };
        lead += &format!("\n\n{intro}{note}");
        if cut {
            lead += "\n(সংক্ষেপিত: পুরো লেখা অভিযোগের পাতায় আছে।)";
        }
    }
    if let (Some(o), Some(url)) = (p.original, p.original_url) {
        lead += &format!("\n\n{o} নম্বর অভিযোগের খোঁজ নিন: {url}");
    }
    let greeting = match p.name {
        Some(name) => format!("প্রিয় {name},"),
        None => "প্রিয় নাগরিক,".to_string(),
    };
    assemble(&[
        &subject,
        &greeting,
        &lead,
        &format!(
            "বর্তমান অবস্থা: {}\nঅভিযোগের খোঁজ নিন: {}",
            status_bn(p.n.status),
            p.n.ticket_url
        ),
        "পরিবেশ ও ঐতিহ্য বিভাগ\nকলকাতা পৌরনিগম\n\
         (এই বার্তা স্বয়ংক্রিয়ভাবে পাঠানো; উত্তর দিলে তা পড়া হবে না।)",
        &format!("এই অভিযোগ নিয়ে আর বার্তা না চাইলে: {}", p.n.optout_url),
    ])
}

/// The subject, then the body's paragraphs separated by blank lines.
fn assemble(parts: &[&str]) -> Rendered {
    let (subject, body) = parts.split_first().map_or(("", &[][..]), |(s, b)| (*s, b));
    Rendered {
        subject: subject.to_string(),
        text: body.join("\n\n") + "\n",
    }
}

/// English status names, as the app's `status.*` strings (`en.js`).
fn status_en(s: Status) -> &'static str {
    match s {
        Status::Submitted => "Submitted",
        Status::Acknowledged => "Acknowledged",
        Status::InProgress => "In progress",
        Status::Resolved => "Resolved",
        Status::Rejected => "Rejected",
        Status::Duplicate => "Duplicate",
    }
}

/// Bengali status names, as the app's `status.*` strings (`bn.js`).
fn status_bn(s: Status) -> &'static str {
    match s {
        Status::Submitted => "জমা পড়েছে",
        Status::Acknowledged => "গৃহীত",
        Status::InProgress => "কাজ চলছে",
        Status::Resolved => "সমাধান হয়েছে",
        Status::Rejected => "বাতিল",
        Status::Duplicate => "একই অভিযোগ",
    }
}

/// Bengali category names, as the app's `cat.*` strings (`bn.js`).
pub fn category_bn(c: Category) -> &'static str {
    match c {
        Category::WaterBodyFilling => "জলাশয় বোজানো হচ্ছে",
        Category::WaterBodyPollution => "জলাশয় দূষিত",
        Category::HeritageDamage => "ঐতিহ্যবাহী স্থানের ক্ষতি",
        Category::HeritageUnauthorizedConstruction => "ঐতিহ্যবাহী স্থানে অননুমোদিত নির্মাণ",
        Category::ParkMaintenance => "পার্কের রক্ষণাবেক্ষণ দরকার",
        Category::TreeFelling => "গাছ কাটা হচ্ছে",
        Category::Other => "পরিবেশ বা ঐতিহ্যের অন্য সমস্যা",
    }
}

/// Whitespace runs (line breaks included) as single spaces, control characters dropped.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A note as quoted: each line tidied like [`one_line`], runs of blank lines as one, cut to
/// [`NOTE_MAX_CHARS`]; the flag says whether it was cut.
fn tidy_note(s: &str) -> (String, bool) {
    let mut lines: Vec<String> = Vec::new();
    for line in s.lines().map(one_line) {
        if !line.is_empty() || lines.last().is_some_and(|l| !l.is_empty()) {
            lines.push(line);
        }
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    clip(&lines.join("\n"), NOTE_MAX_CHARS)
}

/// At most `max` characters (an ellipsis counted among them), cut at the last whitespace
/// when there is one in the second half, so a Bengali word keeps its vowel signs.
fn clip(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        return (s.to_string(), false);
    }
    let head: String = s.chars().take(max.saturating_sub(1)).collect();
    let cut = head
        .char_indices()
        .filter(|(_, c)| c.is_whitespace())
        .map(|(i, _)| i)
        .next_back()
        .filter(|&i| head[..i].chars().count() >= max / 2)
        .unwrap_or(head.len());
    (format!("{}…", head[..cut].trim_end()), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::notice;

    const SENT: [Action; 6] = [
        Action::Acknowledge,
        Action::Assign,
        Action::Start,
        Action::Resolve,
        Action::Reject,
        Action::Duplicate,
    ];

    fn has_bengali(s: &str) -> bool {
        s.chars().any(|c| ('\u{0980}'..='\u{09FF}').contains(&c))
    }

    #[test]
    fn every_action_renders_in_both_languages() {
        for action in SENT {
            for lang in [Lang::En, Lang::Bn] {
                let n = notice(action, lang);
                let r = render(&n);
                let what = format!("{action} {lang}: {r:?}");
                assert!(r.subject.contains(&n.ticket), "{what}");
                assert!(!r.subject.contains('\n'), "{what}");
                assert!(r.text.contains(&n.ticket), "{what}");
                assert!(r.text.contains(&n.ticket_url), "{what}");
                assert!(r.text.contains("Anita Sen"), "{what}");
                let last = r.text.trim_end().lines().last().unwrap_or_default();
                assert!(last.ends_with(&n.optout_url), "{what}");
                assert!(r.text.chars().count() <= 900, "{what}");
                assert_eq!(has_bengali(&r.subject), lang == Lang::Bn, "{what}");
                assert_eq!(has_bengali(&r.text), lang == Lang::Bn, "{what}");
                let cat = match lang {
                    Lang::En => n.category.name(),
                    Lang::Bn => category_bn(n.category),
                };
                assert!(r.text.contains(cat), "{what}");
            }
        }
    }

    #[test]
    fn the_note_is_quoted_for_resolve_and_reject() {
        for action in [Action::Resolve, Action::Reject] {
            for lang in [Lang::En, Lang::Bn] {
                let n = notice(action, lang);
                let note = n.note.clone().unwrap_or_default();
                assert!(!note.is_empty());
                assert!(render(&n).text.contains(&note), "{action} {lang}");
            }
        }
        let r = render(&notice(Action::Resolve, Lang::En));
        assert!(r
            .text
            .contains("The department says what was done:\nDumping stopped"));
        let r = render(&notice(Action::Reject, Lang::Bn));
        assert!(r.text.contains("কারণ: The pond is on private land"));
    }

    #[test]
    fn a_duplicate_names_and_links_the_original() {
        for lang in [Lang::En, Lang::Bn] {
            let r = render(&notice(Action::Duplicate, lang));
            assert!(r.subject.contains("EH-2026-000100"), "{r:?}");
            assert!(
                r.text
                    .contains("https://atlas.example/#/track/EH-2026-000100"),
                "{r:?}"
            );
        }
        // A link that does not end in the ticket is not guessed at; the number still is given.
        let mut n = notice(Action::Duplicate, Lang::En);
        n.ticket_url = "https://atlas.example/track?t=EH-2026-000123&x=1".into();
        let r = render(&n);
        assert!(r.text.contains("EH-2026-000100"));
        assert!(!r.text.contains("Follow complaint EH-2026-000100"));
        // Without the original's ticket the message still reads.
        n.duplicate_of = None;
        assert!(render(&n).text.contains("another complaint"));
    }

    #[test]
    fn assigning_names_no_one() {
        let mut n = notice(Action::Assign, Lang::En);
        n.note = None;
        let r = render(&n);
        assert!(r.text.contains("a member of the department's staff"));
    }

    #[test]
    fn no_name_greets_the_citizen() {
        for (lang, greeting) in [(Lang::En, "Dear citizen,"), (Lang::Bn, "প্রিয় নাগরিক,")]
        {
            let mut n = notice(Action::Start, lang);
            n.reporter_name = Some(" \n\t ".into());
            assert!(render(&n).text.starts_with(greeting));
            n.reporter_name = None;
            assert!(render(&n).text.starts_with(greeting));
        }
    }

    #[test]
    fn outside_text_is_tidied_and_bounded() {
        let mut n = notice(Action::Resolve, Lang::Bn);
        n.reporter_name = Some(format!("Anita\r\nBcc: x@y\u{7} {}", "ন".repeat(200)));
        n.note = Some(format!(
            "{}\n\n\n\nend",
            "জলাশয় পরিষ্কার করা হয়েছে। ".repeat(200)
        ));
        let r = render(&n);
        assert!(r.text.starts_with("প্রিয় Anita Bcc: x@y নননন"), "{}", r.text);
        assert!(!r.text.contains('\u{7}'));
        assert!(r.text.contains("(সংক্ষেপিত"));
        assert!(r.text.chars().count() <= 900, "{}", r.text.chars().count());
        // Cut at a word: the quoted note ends in a whole word, then the ellipsis.
        let at = r
            .text
            .find("…\n(সংক্ষেপিত")
            .expect("a cut note ends in an ellipsis");
        let before = &r.text[..at];
        assert!(
            ["জলাশয়", "পরিষ্কার", "করা", "হয়েছে।"]
                .iter()
                .any(|w| before.ends_with(&format!(" {w}"))),
            "{}",
            r.text
        );
        assert!(!r.text.contains("end"));
    }

    #[test]
    fn clip_cuts_at_a_word() {
        assert_eq!(clip("short", 10), ("short".into(), false));
        assert_eq!(clip("one two three four", 12), ("one two…".into(), true));
        let (s, cut) = clip(&"x".repeat(50), 10);
        assert!(cut);
        assert_eq!(s.chars().count(), 10);
    }

    #[test]
    fn a_note_keeps_its_lines() {
        let (s, cut) = tidy_note("  1. debris removed \r\n\r\n\r\n2.\tfence\u{0} mended\n\n");
        assert_eq!(s, "1. debris removed\n\n2. fence mended");
        assert!(!cut);
    }
}
