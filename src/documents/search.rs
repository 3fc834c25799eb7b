//! What a searcher types, as an FTS5 query that cannot fail to parse.
//!
//! The language is small: words (all must match), `"a phrase"`, `word*` (a prefix),
//! `-word` (must not match). Every term reaches FTS5 quoted, so nothing typed is read as
//! FTS5 syntax. A word that the index would split (`KMC/EH/2019/17`) is searched as the
//! phrase of its parts. A Bengali word also matches its inflected forms: a common case
//! ending is taken off (`পুকুরের` → `পুকুর`) and the rest is matched as a prefix, so
//! `কলকাতা` finds `কলকাতার` and `কলকাতায়`; English is stemmed by the index (porter).

use super::fold;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 300;
/// Most terms in one query.
pub const MAX_TERMS: usize = 16;

/// A query that FTS5 will accept, and the same query as PostgreSQL's `to_tsquery`
/// takes it (`migrations-postgres/0006`: the `atlas_text` configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fts {
    pub expr: String,
    pub tsquery: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    /// Words in this order (one word is a one-word phrase).
    Phrase(Vec<String>),
    /// A prefix of a word.
    Prefix(String),
    /// A Bengali word: itself, or its stem as a prefix.
    Bengali { word: String, stem: String },
}

/// Parses a query; `Ok(None)` for a query with no words (punctuation only).
pub fn parse(q: &str) -> Result<Option<Fts>, String> {
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(format!("at most {MAX_QUERY_CHARS} characters"));
    }
    let q = fold(q);
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    let mut rest = q.as_str();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let negated = rest.starts_with('-');
        if negated {
            rest = &rest[1..];
        }
        let term = if let Some(after) = rest.strip_prefix('"') {
            let end = after.find('"').unwrap_or(after.len());
            let words = words(&after[..end]);
            rest = after.get(end + 1..).unwrap_or("");
            (!words.is_empty()).then_some(Term::Phrase(words))
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let token = &rest[..end];
            rest = &rest[end..];
            term_of(token)?
        };
        if let Some(t) = term {
            if negated {
                exclude.push(t);
            } else {
                include.push(t);
            }
        }
        if include.len() + exclude.len() > MAX_TERMS {
            return Err(format!("at most {MAX_TERMS} words or phrases"));
        }
    }
    if include.is_empty() {
        // Only exclusions (or nothing): FTS5 cannot search for "not X" alone.
        return if exclude.is_empty() {
            Ok(None)
        } else {
            Err("say what to look for, not only what to leave out".into())
        };
    }
    let mut expr = include.iter().map(render).collect::<Vec<_>>().join(" AND ");
    let mut tsquery = include
        .iter()
        .map(render_ts)
        .collect::<Vec<_>>()
        .join(" & ");
    for t in &exclude {
        expr = format!("({expr}) NOT {}", render(t));
        tsquery = format!("({tsquery}) & !{}", render_ts(t));
    }
    Ok(Some(Fts { expr, tsquery }))
}

/// The words of a piece of text as the index splits it: runs of letters, marks and digits.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_bengali(c)
}

/// Bengali script, including its vowel signs and virama (marks, which FTS5's tokenizer
/// keeps inside a word, as we do).
fn is_bengali(c: char) -> bool {
    ('\u{0980}'..='\u{09FF}').contains(&c)
}

/// Shortest prefix searched (a one-letter prefix would match most of the index).
const MIN_PREFIX: usize = 2;

fn term_of(token: &str) -> Result<Option<Term>, String> {
    let prefix = token.ends_with('*');
    let parts = words(token.trim_end_matches('*'));
    let letters = |w: &str| w.chars().filter(|c| c.is_alphanumeric()).count();
    Ok(match parts.len() {
        0 => None,
        1 if prefix && letters(&parts[0]) < MIN_PREFIX => {
            return Err(format!("at least {MIN_PREFIX} letters before *"))
        }
        1 if prefix => Some(Term::Prefix(parts[0].clone())),
        1 if parts[0].chars().any(is_bengali) && letters(&parts[0]) >= MIN_PREFIX => {
            let word = parts[0].clone();
            let stem = bengali_stem(&word).to_string();
            Some(Term::Bengali { word, stem })
        }
        _ => Some(Term::Phrase(parts)),
    })
}

/// Case endings and plural markers of Bengali nouns, longest first.
const BENGALI_SUFFIXES: [&str; 18] = [
    "গুলোর",
    "গুলির",
    "গুলো",
    "গুলি",
    "দের",
    "টির",
    "টার",
    "য়ের",
    "েরা",
    "ের",
    "টি",
    "টা",
    "কে",
    "তে",
    "রা",
    "য়",
    "র",
    "ে",
];

/// A Bengali word without its case ending, if at least two letters remain.
pub fn bengali_stem(word: &str) -> &str {
    for s in BENGALI_SUFFIXES {
        if let Some(stem) = word.strip_suffix(s) {
            if stem.chars().filter(|c| c.is_alphabetic()).count() >= 2 {
                return stem;
            }
        }
    }
    word
}

fn quoted(words: &[String]) -> String {
    // The words hold no quote (they are letters, marks and digits only).
    format!("\"{}\"", words.join(" "))
}

fn render(t: &Term) -> String {
    match t {
        Term::Phrase(w) => quoted(w),
        Term::Prefix(w) => {
            // The index keeps English words stemmed (`meeting` as `meet`), so a prefix
            // longer than the stem (`meeti*`) would find nothing: a Latin prefix is also
            // tried one and two letters shorter, down to four.
            let mut alts = vec![format!("{}*", quoted(std::slice::from_ref(w)))];
            if w.chars().all(|c| c.is_ascii_alphabetic()) {
                for cut in 1..=2 {
                    if w.len() >= 4 + cut {
                        alts.push(format!("\"{}\"*", &w[..w.len() - cut]));
                    }
                }
            }
            if alts.len() == 1 {
                alts.remove(0)
            } else {
                format!("({})", alts.join(" OR "))
            }
        }
        Term::Bengali { word, stem } if word == stem => {
            format!("{}*", quoted(std::slice::from_ref(word)))
        }
        Term::Bengali { word, stem } => format!(
            "({} OR {}*)",
            quoted(std::slice::from_ref(word)),
            quoted(std::slice::from_ref(stem))
        ),
    }
}

/// A lexeme for `to_tsquery` (the words hold letters, marks and digits only; a quote is
/// doubled all the same).
fn lexeme(w: &str) -> String {
    format!("'{}'", w.replace('\'', "''"))
}

/// [`render`] in tsquery syntax: a phrase's words follow each other (`<->`), a prefix is
/// `:*`, alternatives are `|`. Lexemes are stemmed by the configuration as the index's
/// words are.
fn render_ts(t: &Term) -> String {
    match t {
        Term::Phrase(w) if w.len() == 1 => lexeme(&w[0]),
        Term::Phrase(w) => format!(
            "({})",
            w.iter()
                .map(|w| lexeme(w))
                .collect::<Vec<_>>()
                .join(" <-> ")
        ),
        Term::Prefix(w) => {
            let mut alts = vec![format!("{}:*", lexeme(w))];
            if w.chars().all(|c| c.is_ascii_alphabetic()) {
                for cut in 1..=2 {
                    if w.len() >= 4 + cut {
                        alts.push(format!("{}:*", lexeme(&w[..w.len() - cut])));
                    }
                }
            }
            format!("({})", alts.join(" | "))
        }
        Term::Bengali { word, stem } if word == stem => format!("{}:*", lexeme(word)),
        Term::Bengali { word, stem } => format!("({} | {}:*)", lexeme(word), lexeme(stem)),
    }
}

/// Marks that bracket a hit in a snippet from the index (control characters no document
/// text keeps: [`clean_text`] drops them).
pub const HIT_START: char = '\u{2}';
pub const HIT_END: char = '\u{3}';

/// A snippet with its hits marked, as plain text and as HTML (escaped, hits in `<mark>`).
pub fn snippet(marked: &str) -> (String, String) {
    let mut text = String::with_capacity(marked.len());
    let mut html = String::with_capacity(marked.len() + 32);
    for c in marked.chars() {
        match c {
            HIT_START => html.push_str("<mark>"),
            HIT_END => html.push_str("</mark>"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '&' => html.push_str("&amp;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
        if c != HIT_START && c != HIT_END {
            text.push(c);
        }
    }
    (text, html)
}

/// Text as the index keeps it: folded, control characters (but newlines and tabs) as
/// spaces.
pub fn clean_text(text: &str) -> String {
    fold(text)
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn expr(q: &str) -> String {
        parse(q).unwrap().unwrap().expr
    }

    #[test]
    fn words_phrases_prefixes_and_exclusions() {
        assert_eq!(expr("repair NOC"), "\"repair\" AND \"NOC\"");
        assert_eq!(expr("\"park street\" 2019"), "\"park street\" AND \"2019\"");
        assert_eq!(expr("herit*"), "(\"herit\"* OR \"heri\"*)");
        assert_eq!(expr("meeti*"), "(\"meeti\"* OR \"meet\"*)");
        assert_eq!(expr("park*"), "\"park\"*");
        assert_eq!(expr("notice -draft"), "(\"notice\") NOT \"draft\"");
        assert_eq!(expr("KMC/EH/2019/17"), "\"KMC EH 2019 17\"");
        // FTS5 syntax typed by a user is just words.
        assert_eq!(
            expr("a OR b NEAR(c)"),
            "\"a\" AND \"OR\" AND \"b\" AND \"NEAR c\""
        );
        assert_eq!(parse("  ,, ").unwrap(), None);
        assert!(parse("-only").is_err());
        assert!(parse(&"x ".repeat(40)).is_err());
        assert!(parse(&"x".repeat(400)).is_err());
        assert!(parse("a*").is_err());
        // A one-letter Bengali word is itself, not a prefix of everything.
        assert_eq!(expr("ও"), "\"ও\"");
    }

    #[test]
    fn bengali_words_find_their_inflections() {
        assert_eq!(bengali_stem("পুকুরের"), "পুকুর");
        assert_eq!(bengali_stem("কলকাতায়"), "কলকাতা");
        assert_eq!(bengali_stem("বাড়ির"), "বাড়ি");
        assert_eq!(bengali_stem("নোটিশ"), "নোটিশ");
        // Too short to cut.
        assert_eq!(bengali_stem("এর"), "এর");
        assert_eq!(expr("পুকুরের"), "(\"পুকুরের\" OR \"পুকুর\"*)");
        // A word whose last letter looks like an ending still finds itself.
        assert_eq!(expr("পুকুর"), "(\"পুকুর\" OR \"পুকু\"*)");
        assert_eq!(expr("নোটিশ"), "\"নোটিশ\"*");
        // Bengali digits are searched as ASCII, as they are indexed.
        assert_eq!(expr("২০১৯"), "\"2019\"");
    }

    #[test]
    fn snippets_are_escaped_with_hits_marked() {
        let (t, h) = snippet("a <b> \u{2}NOC\u{3} & \"c\"");
        assert_eq!(t, "a <b> NOC & \"c\"");
        assert_eq!(h, "a &lt;b&gt; <mark>NOC</mark> &amp; &quot;c&quot;");
    }

    proptest! {
        /// Whatever is typed, the expression has balanced quotes and no bare syntax.
        #[test]
        fn any_query_is_safe(q in "\\PC{0,80}") {
            if let Ok(Some(f)) = parse(&q) {
                prop_assert_eq!(f.expr.matches('"').count() % 2, 0);
                for piece in f.expr.split('"').step_by(2) {
                    for w in piece.split(|c: char| c.is_whitespace() || "()*".contains(c)) {
                        prop_assert!(w.is_empty() || w == "AND" || w == "OR" || w == "NOT", "{}", f.expr);
                    }
                }
            }
        }
    }
}
