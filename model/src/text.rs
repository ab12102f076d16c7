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
    /// One line: no control character at all.
    Line,
    /// Several lines: `\n` and `\t` allowed, no other control character.
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
    let allowed = |c: char| kind == TextKind::Note && (c == '\n' || c == '\t');
    if s.chars().any(|c| c.is_control() && !allowed(c)) {
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
