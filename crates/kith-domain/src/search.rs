//! Text folding for search.
//!
//! Search must find "Häusler" with "haus", "José" with "jose" whether it was stored composed or
//! decomposed, and "O'Brien" with "obrien". Both the stored search text and the query go through
//! [`fold`], so the two sides can never disagree.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Characters that are dropped rather than matched: apostrophes in all their forms.
const APOSTROPHES: [char; 5] = ['\'', '\u{2019}', '\u{2018}', '\u{02BC}', '`'];

/// Lower-cases, strips accents and apostrophes, and collapses runs of whitespace to one space.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut pending_space = false;

    for c in text.nfkd() {
        if is_combining_mark(c)
            || APOSTROPHES.contains(&c)
            || (c.is_control() && !c.is_whitespace())
        {
            continue;
        }
        if let Some(plain) = plain_letters(c) {
            if pending_space {
                folded.push(' ');
                pending_space = false;
            }
            folded.push_str(plain);
            continue;
        }
        if c.is_whitespace() {
            pending_space = !folded.is_empty();
            continue;
        }
        if pending_space {
            folded.push(' ');
            pending_space = false;
        }
        folded.extend(c.to_lowercase());
    }
    folded
}

/// What a search query is matched as: its folded text, or for a query that looks like a phone
/// number (at least six digits, with only spaces, `+`, `-`, `.` and parentheses between), its
/// digits alone, so that "+44 7911 123456" finds "07911 123456" stored with its E.164 form.
pub fn needle(query: &str) -> String {
    let digits = phone_digits(query);
    let phone_like = digits.len() >= 6
        && query
            .trim()
            .chars()
            .all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    if phone_like { digits } else { fold(query) }
}

/// The digits of a phone number, for the search text.
pub fn phone_digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// Latin letters that carry no combining mark to strip, spelled the way people type them
/// without the special key: `Łódź` → `lodz`, `Søren` → `soren`, `Straße` → `strasse`.
fn plain_letters(c: char) -> Option<&'static str> {
    Some(match c {
        'ł' | 'Ł' => "l",
        'ø' | 'Ø' => "o",
        'ß' | 'ẞ' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'þ' | 'Þ' => "th",
        'ı' => "i",
        'ħ' | 'Ħ' => "h",
        _ => return None,
    })
}

/// Builds a record's stored search text from its searchable parts, folded and joined.
pub fn document<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let parts: Vec<String> = parts
        .into_iter()
        .map(fold)
        .filter(|p| !p.is_empty())
        .collect();
    parts.join(" \u{1f} ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_and_case_are_ignored_in_both_normal_forms() {
        let decomposed = "Jose\u{301} Garci\u{301}a";
        assert_eq!(fold(decomposed), "jose garcia");
        assert_eq!(fold("JOSÉ"), "jose");
        assert_eq!(fold("Häusler AG"), "hausler ag");
        assert_eq!(fold("Café Lumière"), "cafe lumiere");
    }

    #[test]
    fn apostrophes_vanish() {
        assert_eq!(fold("O'Brien"), "obrien");
        assert_eq!(fold("O\u{2019}Brien"), "obrien");
    }

    #[test]
    fn sql_wildcards_are_plain_characters() {
        assert_eq!(fold("50%_off\\"), "50%_off\\");
    }

    #[test]
    fn letters_without_marks_fold_too() {
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("Søren Ærø"), "soren aero");
        assert_eq!(fold("Straße"), "strasse");
    }

    #[test]
    fn phone_like_queries_match_by_digits() {
        assert_eq!(needle("+44 7911 123456"), "447911123456");
        assert_eq!(needle("(020) 7946-0958"), "02079460958");
        assert_eq!(needle("Room 101"), "room 101");
        assert_eq!(needle("12345"), "12345");
    }

    #[test]
    fn control_characters_vanish() {
        assert_eq!(fold("ag\u{0}x"), "agx");
    }

    #[test]
    fn whitespace_collapses() {
        assert_eq!(fold("  Ana \t  Silva "), "ana silva");
    }

    #[test]
    fn plus_in_email_is_kept() {
        assert_eq!(fold("Ana+CRM@Example.com"), "ana+crm@example.com");
    }
}
