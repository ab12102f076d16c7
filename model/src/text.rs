//! Text rules shared by every free-text field: Unicode NFC normalisation, no control
//! characters, bounded length. Bounds count Unicode scalar values, not bytes, so that Amharic
//! or Burmese text gets the same room as French.

use unicode_normalization::{UnicodeNormalization, is_nfc};

/// Longest single-line text (names, labels, places).
pub const MAX_LINE: usize = 200;
/// Longest multi-line text (notes, comments).
pub const MAX_NOTE: usize = 4000;
/// Longest pseudonymous actor id.
pub const MAX_ID: usize = 100;

/// Whether a text field may hold line breaks and tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// One line: no control character and no line or paragraph separator.
    Line,
    /// Several lines: line breaks (`\n`, U+2028, U+2029) and `\t` allowed, no other control
    /// character.
    Note,
}

/// `s` in Unicode Normalization Form C. Only composes: text in any script keeps its meaning.
pub fn nfc(s: &str) -> String {
    if is_nfc(s) {
        s.to_owned()
    } else {
        s.nfc().collect()
    }
}

/// Normalises a field in place.
pub fn normalize_in_place(s: &mut String) {
    if !is_nfc(s) {
        *s = s.nfc().collect();
    }
}

/// What is wrong with `s` as a text of `kind` of at most `max` characters, if anything.
pub(crate) fn check(s: &str, kind: TextKind, max: usize) -> Option<crate::validation::Problem> {
    use crate::validation::Problem;
    // U+2028/U+2029 break lines without being control characters.
    let breaks_line = |c: char| matches!(c, '\n' | '\u{2028}' | '\u{2029}');
    let allowed = |c: char| kind == TextKind::Note && (c == '\t' || breaks_line(c));
    if s.chars()
        .any(|c| (c.is_control() || breaks_line(c)) && !allowed(c))
    {
        return Some(Problem::ControlCharacter);
    }
    if !is_nfc(s) {
        return Some(Problem::NotNormalized);
    }
    let len = s.chars().count();
    if len > max {
        return Some(Problem::TooLong { max, actual: len });
    }
    None
}
