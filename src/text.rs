//! Text folding for search: the one place names and queries are brought to a common form
//! (below both the index, which keeps a folded key per asset, and the search).

use unicode_normalization::UnicodeNormalization;

/// Folds text for matching: compatibility decomposition, Latin diacritics dropped,
/// lower case, punctuation to single spaces. Bengali vowel signs and the nukta are kept
/// (they change the word), but decomposed the same way on both sides so that `য়` typed
/// as one code point or two matches either.
///
/// ```
/// use heritage_atlas::text::normalize;
/// assert_eq!(normalize("Writers’ Building"), "writers building");
/// assert_eq!(normalize("Café  Dé Paris"), "cafe de paris");
/// assert_eq!(normalize("\u{09DF}"), normalize("\u{09AF}\u{09BC}"));
/// ```
pub fn normalize(s: &str) -> String {
    if s.is_ascii() {
        normalize_ascii(s)
    } else {
        normalize_unicode(s)
    }
}

fn normalize_unicode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfkd() {
        if ('\u{0300}'..='\u{036f}').contains(&c) {
            continue;
        }
        // Apostrophes join a word ("Writers'" → "writers").
        if matches!(c, '\'' | '’' | '‘' | 'ʼ') {
            continue;
        }
        // The Bengali block first: it is kept whole and has no case, which spares two
        // table lookups a character in a Bengali name.
        let bengali = ('\u{0980}'..='\u{09ff}').contains(&c);
        if bengali || c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            if bengali {
                out.push(c);
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            pending_space = true;
        }
    }
    out
}

/// [`normalize`] for ASCII text, where decomposition is the identity: the common case
/// for names and codes, and the one a national layer's index build spends its time on.
fn normalize_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for b in s.bytes() {
        if b == b'\'' {
            continue;
        }
        if b.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(b.to_ascii_lowercase() as char);
        } else {
            pending_space = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_fast_path_agrees_with_the_general_one() {
        for s in [
            "Writers' Building",
            "  St. Paul's  Cathedral ",
            "HER-0001",
            "a--b__c",
            "X'Y Z9",
            "",
        ] {
            assert_eq!(normalize_ascii(s), normalize_unicode(s), "{s:?}");
        }
    }
}
