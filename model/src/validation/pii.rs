//! Warnings on free text that looks like it identifies someone or somewhere: a phone number,
//! an e-mail address, precise coordinates. A patrol may have good reasons to write a clinic's
//! number or a checkpoint's grid reference, so these are warnings the author confirms, not
//! errors; but a survivor's or a witness's number typed into a note by habit must not leave
//! the device unnoticed.
//!
//! The scan is hand-written (no regex engine in the mobile library) and errs towards silence
//! on the numbers field notes are full of: dates (`2026-10-12`, `12/10/2026`), times
//! (`14:30`, `08.00-10.00`), counts and age bands (`12 women 30-59`), years and year ranges,
//! money with thousands grouping (`1 500 000`), distances (`1.5 km`). Digits are read in
//! Western, Arabic-Indic (`٠١٢`) and Eastern Arabic-Indic (`۰۱۲`) forms alike.
//!
//! A warning names the field and the kind of thing found, never the text: warnings are
//! logged, shown in lists and sent to error reports.
//!
//! One warning is not about text, but goes through the same confirmation before submission:
//! [`WarningKind::PlaintextElsewhere`], a session whose sensitive note or referral service is
//! on the device that wrote it (they travel only sealed, and are sealed only there).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::session::Session;
use crate::visit::Visit;

/// What a piece of free text looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A phone number, international or local.
    Phone,
    /// An e-mail address.
    Email,
    /// Precise coordinates: decimal degrees, degrees-minutes-seconds, an MGRS or UTM grid
    /// reference, a plus code.
    Coordinates,
    /// Not a text: the device that wrote this draft holds its sensitive note or its
    /// referral's service, which only that device can seal ([`Session::plaintext_held_by`]).
    /// Submitting from another device goes without them; confirming this says so.
    PlaintextElsewhere,
}

impl WarningKind {
    /// Every kind, in the order warnings are reported.
    pub const ALL: [WarningKind; 4] = [
        WarningKind::Phone,
        WarningKind::Email,
        WarningKind::Coordinates,
        WarningKind::PlaintextElsewhere,
    ];

    /// Stable code (`phone`, `email`, `coordinates`, `plaintext_elsewhere`).
    pub fn code(self) -> &'static str {
        match self {
            WarningKind::Phone => "phone",
            WarningKind::Email => "email",
            WarningKind::Coordinates => "coordinates",
            WarningKind::PlaintextElsewhere => "plaintext_elsewhere",
        }
    }

    /// The kind with `code`.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WarningKind::Phone => "looks like a phone number",
            WarningKind::Email => "looks like an e-mail address",
            WarningKind::Coordinates => "looks like precise coordinates",
            WarningKind::PlaintextElsewhere => {
                "is on the device that wrote this session (its sensitive note or referral \
                 service): submit there, or confirm to submit without it"
            }
        })
    }
}

/// One free-text field that looks like it holds a phone number, an e-mail address or
/// precise coordinates. Carries the field's path (as [`super::FieldError`] does) and the
/// kind, never the text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FieldWarning {
    /// Path of the field (`priorities[2].note`).
    pub field: String,
    /// What the text looks like.
    pub kind: WarningKind,
}

impl fmt::Display for FieldWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.kind)
    }
}

/// The kinds of identifying detail `text` looks like it holds, each once, in
/// [`WarningKind::ALL`] order.
pub fn scan(text: &str) -> Vec<WarningKind> {
    let chars: Vec<char> = text.chars().map(western_digit).collect();
    let (masked, grid_ref) = without_grid_refs(&chars);
    let mut kinds = Vec::new();
    if has_phone(&masked) {
        kinds.push(WarningKind::Phone);
    }
    if has_email(&chars) {
        kinds.push(WarningKind::Email);
    }
    if grid_ref || has_coordinates(&chars) {
        kinds.push(WarningKind::Coordinates);
    }
    kinds
}

/// Warnings on every free-text field of `session`, the sensitive note included (it is
/// sealed, but a number in it still reaches the focal point and the escrow), and
/// [`WarningKind::PlaintextElsewhere`] when it applies.
pub fn session_warnings(session: &Session) -> Vec<FieldWarning> {
    let mut out = Vec::new();
    let mut check = |field: String, text: &str| {
        out.extend(scan(text).into_iter().map(|kind| FieldWarning {
            field: field.clone(),
            kind,
        }));
    };
    check("interpreter.language".into(), &session.interpreter.language);
    for (i, a) in session.answers.iter().enumerate() {
        check(format!("answers[{i}].note"), &a.note);
    }
    for (i, p) in session.priorities.iter().enumerate() {
        check(format!("priorities[{i}].other_label"), &p.other_label);
        check(format!("priorities[{i}].note"), &p.note);
    }
    for (i, c) in session.concerns.iter().enumerate() {
        check(format!("concerns[{i}].location"), &c.location);
        check(format!("concerns[{i}].timing"), &c.timing);
        check(format!("concerns[{i}].note"), &c.note);
    }
    check("sensitive_note".into(), &session.sensitive_note);
    if session.plaintext_elsewhere() {
        out.push(FieldWarning {
            field: PLAINTEXT_ELSEWHERE_FIELD.into(),
            kind: WarningKind::PlaintextElsewhere,
        });
    }
    out
}

/// The field a [`WarningKind::PlaintextElsewhere`] warning names.
pub const PLAINTEXT_ELSEWHERE_FIELD: &str = "plaintext_held_by";

/// Warnings on every free-text field of `visit`.
pub fn visit_warnings(visit: &Visit) -> Vec<FieldWarning> {
    scan(&visit.notes)
        .into_iter()
        .map(|kind| FieldWarning {
            field: "notes".into(),
            kind,
        })
        .collect()
}

/// The warnings of `warnings` that `confirmed` does not list.
pub fn unconfirmed(warnings: &[FieldWarning], confirmed: &[FieldWarning]) -> Vec<FieldWarning> {
    warnings
        .iter()
        .filter(|w| !confirmed.contains(w))
        .cloned()
        .collect()
}

/// Arabic-Indic (U+0660–0669) and Eastern Arabic-Indic (U+06F0–06F9) digits as ASCII, so
/// one scan reads all three; the Arabic decimal separator as a dot.
fn western_digit(c: char) -> char {
    match c {
        '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
        '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
        '\u{066B}' => '.',
        _ => c,
    }
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

/// A maximal run of digits.
#[derive(Clone, Copy, Debug)]
struct Group {
    start: usize,
    end: usize,
}

impl Group {
    fn len(&self) -> usize {
        self.end - self.start
    }

    fn value(&self, chars: &[char]) -> u32 {
        chars[self.start..self.end]
            .iter()
            .take(9)
            .fold(0, |v, c| v * 10 + c.to_digit(10).unwrap_or(0))
    }
}

fn digit_groups(chars: &[char]) -> Vec<Group> {
    let mut groups = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if is_digit(chars[i]) {
            let start = i;
            while i < chars.len() && is_digit(chars[i]) {
                i += 1;
            }
            groups.push(Group { start, end: i });
        } else {
            i += 1;
        }
    }
    groups
}

/// Characters that may stand between the digit groups of one phone number: spaces, dashes,
/// dots, brackets, and the direction marks Arabic text puts around numbers.
fn is_phone_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{00A0}' | '\u{202F}' | '-' | '\u{2010}' | '\u{2011}' | '.' | '(' | ')'
    ) || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Whether the text between two groups joins them into one number: at most three
/// separator characters, with at most one dash or dot.
fn joins(sep: &[char]) -> bool {
    !sep.is_empty()
        && sep.len() <= 3
        && sep.iter().all(|c| is_phone_separator(*c))
        && sep
            .iter()
            .filter(|c| matches!(c, '-' | '.' | '\u{2010}' | '\u{2011}'))
            .count()
            <= 1
}

fn has_phone(chars: &[char]) -> bool {
    let groups = digit_groups(chars);
    let n = groups.len();
    // Groups that belong to a date or a time are never part of a phone number.
    let mut excluded = vec![false; n];
    for i in 0..n {
        let before = groups[i].start.checked_sub(1).map(|p| chars[p]);
        let after = chars.get(groups[i].end).copied();
        // `14:30`, `8h30`: a time.
        if before == Some(':')
            || after == Some(':')
            || matches!(after, Some('h' | 'H'))
                && chars.get(groups[i].end + 1).is_some_and(|c| is_digit(*c))
        {
            excluded[i] = true;
        }
        if i + 2 < n && is_date(chars, &groups[i..i + 3]) {
            excluded[i..i + 3].iter_mut().for_each(|e| *e = true);
        }
    }
    let mut i = 0;
    while i < n {
        if excluded[i] {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < n && !excluded[j] && joins(&chars[groups[j - 1].end..groups[j].start]) {
            j += 1;
        }
        if is_phone(chars, &groups[i..j]) {
            return true;
        }
        i = j;
    }
    false
}

/// `2026-10-12`, `12.10.2026`, `12-10-2026`: three groups, one separator, a four-digit year
/// at one end.
fn is_date(chars: &[char], g: &[Group]) -> bool {
    let sep1 = &chars[g[0].end..g[1].start];
    let sep2 = &chars[g[1].end..g[2].start];
    if sep1.len() != 1 || sep1 != sep2 || !matches!(sep1[0], '-' | '.' | '/') {
        return false;
    }
    let lens = [g[0].len(), g[1].len(), g[2].len()];
    matches!(lens, [4, 1..=2, 1..=2] | [1..=2, 1..=2, 4])
}

/// Whether a chain of joined digit groups is a phone number rather than a count, a year
/// range, an amount, a time range or a decimal.
fn is_phone(chars: &[char], g: &[Group]) -> bool {
    let digits: usize = g.iter().map(Group::len).sum();
    if !(7..=15).contains(&digits) {
        return false;
    }
    let first = g[0];
    let last = g[g.len() - 1];
    let before = first.start.checked_sub(1).map(|p| chars[p]);
    let plus = before == Some('+');
    // Part of a word or a code (`ref4455667`, `12345678km`): not a number on its own.
    if before.is_some_and(char::is_alphanumeric)
        || chars.get(last.end).is_some_and(|c| c.is_alphabetic())
    {
        return false;
    }
    let leading_zero = chars[first.start] == '0';
    if plus || leading_zero {
        return !is_time_range(chars, g);
    }
    // Years and year ranges: `1990-2005`, `2020 2021 2022`.
    if g.iter()
        .all(|x| x.len() == 4 && (1900..=2099).contains(&x.value(chars)))
    {
        return false;
    }
    // Thousands grouping: `1 500 000`, `25.000.000`, `120 000 000`. Nine digits grouped
    // three by three are a local mobile number (`912 345 678`) unless they end in `000`, and
    // a dash never groups thousands.
    if g.len() > 1
        && first.len() <= 3
        && g[1..].iter().all(|x| x.len() == 3)
        && groups_thousands(chars, g)
        && (digits < 9 || chars[last.start..last.end] == ['0', '0', '0'])
    {
        return false;
    }
    // Decimals: `4.8594 31.5713` is coordinates, found by their own scan.
    if g.len() > 1
        && g.windows(2)
            .any(|w| chars[w[0].end..w[1].start] == ['.'] && w[1].len() >= 4 && w[0].len() <= 3)
    {
        return false;
    }
    !is_time_range(chars, g)
}

/// Whether every separator of the chain is one and the same thousands separator: a space (of
/// any width) or a dot.
fn groups_thousands(chars: &[char], g: &[Group]) -> bool {
    let first = &chars[g[0].end..g[1].start];
    matches!(first, [' ' | '\u{00A0}' | '\u{202F}' | '.'])
        && g.windows(2).all(|w| chars[w[0].end..w[1].start] == *first)
}

/// `08.00-10.00`: pairs of hours and minutes joined by dots.
fn is_time_range(chars: &[char], g: &[Group]) -> bool {
    g.len().is_multiple_of(2)
        && g.chunks(2).all(|p| {
            chars[p[0].end..p[1].start] == ['.']
                && p[0].len() <= 2
                && p[1].len() == 2
                && p[0].value(chars) < 24
                && p[1].value(chars) < 60
        })
}

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-'
}

/// `name@host.tld`: a local part, an `@`, and a domain of at least two labels whose last is
/// two or more letters.
fn has_email(chars: &[char]) -> bool {
    for (at, c) in chars.iter().enumerate() {
        if !matches!(c, '@' | '\u{FF20}') {
            continue;
        }
        let local = chars[..at]
            .iter()
            .rev()
            .take_while(|c| is_local_char(**c))
            .count();
        if local == 0 {
            continue;
        }
        let domain: Vec<char> = chars[at + 1..]
            .iter()
            .copied()
            .take_while(|c| is_domain_char(*c) || *c == '.')
            .collect();
        let domain: &[char] = {
            let mut d = domain.as_slice();
            while let Some(('.', rest)) = d.split_last() {
                d = rest;
            }
            d
        };
        let labels: Vec<&[char]> = domain.split(|c| *c == '.').collect();
        if labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty())
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.iter().all(|c| c.is_alphabetic()))
        {
            return true;
        }
    }
    false
}

fn has_coordinates(chars: &[char]) -> bool {
    has_decimal_pair(chars) || has_dms(chars) || has_plus_code(chars)
}

/// A decimal number with at least four decimals (about 10 m) and at most three integer
/// digits: where it starts, where it ends, and whether it is a plausible degree.
fn decimal_at(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start;
    if matches!(chars.get(i), Some('-' | '+' | '\u{2212}')) {
        i += 1;
    }
    let int_start = i;
    while chars.get(i).is_some_and(|c| is_digit(*c)) {
        i += 1;
    }
    let int_len = i - int_start;
    if !(1..=3).contains(&int_len) || !matches!(chars.get(i), Some('.' | ',')) {
        return None;
    }
    let value: u32 = chars[int_start..i]
        .iter()
        .fold(0, |v, c| v * 10 + c.to_digit(10).unwrap_or(0));
    i += 1;
    let frac_start = i;
    while chars.get(i).is_some_and(|c| is_digit(*c)) {
        i += 1;
    }
    (i - frac_start >= 4 && value <= 180).then_some(i)
}

/// Two decimal degrees close together (`4.8594, 31.5713`, `4,8594 N 31,5713 E`,
/// `N 4.8594° E 31.5713°`).
fn has_decimal_pair(chars: &[char]) -> bool {
    let mut i = 0;
    while i < chars.len() {
        let starts_number = (is_digit(chars[i]) || matches!(chars[i], '-' | '+' | '\u{2212}'))
            && (i == 0 || !(is_digit(chars[i - 1]) || matches!(chars[i - 1], '.' | ',')));
        if starts_number && let Some(end) = decimal_at(chars, i) {
            let mut j = end;
            let mut between = 0;
            while j < chars.len()
                && between <= 6
                && matches!(
                    chars[j],
                    ' ' | ','
                        | ';'
                        | '/'
                        | '°'
                        | '\''
                        | 'N'
                        | 'S'
                        | 'E'
                        | 'W'
                        | 'n'
                        | 's'
                        | 'e'
                        | 'w'
                )
            {
                j += 1;
                between += 1;
            }
            if (1..=6).contains(&between) && decimal_at(chars, j).is_some() {
                return true;
            }
            i = end;
        } else {
            i += 1;
        }
    }
    false
}

/// Degrees and minutes: `4°51'`, `31° 34′ 12″ E`.
fn has_dms(chars: &[char]) -> bool {
    for (i, c) in chars.iter().enumerate() {
        if !matches!(c, '°' | 'º') || i == 0 || !is_digit(chars[i - 1]) {
            continue;
        }
        let mut j = i + 1;
        while chars.get(j) == Some(&' ') {
            j += 1;
        }
        let start = j;
        while chars.get(j).is_some_and(|c| is_digit(*c)) {
            j += 1;
        }
        if (1..=2).contains(&(j - start)) && matches!(chars.get(j), Some('\'' | '′' | '’' | 'ʹ'))
        {
            return true;
        }
    }
    false
}

/// MGRS letters: A–Z without I and O.
fn is_grid_letter(c: char) -> bool {
    c.is_ascii_alphabetic() && !matches!(c.to_ascii_uppercase(), 'I' | 'O')
}

/// UTM latitude bands: C–X without I and O.
fn is_band(c: char) -> bool {
    is_grid_letter(c) && ('C'..='X').contains(&c.to_ascii_uppercase())
}

/// `36N TF 12345 67890` / `36NTF1234567890` (MGRS, at least 100 m) or `36N 312345 537890`
/// (UTM easting and northing) starting at `i`: where it ends.
fn grid_ref_at(chars: &[char], i: usize) -> Option<usize> {
    let skip_spaces = |mut j: usize| {
        while chars.get(j) == Some(&' ') {
            j += 1;
        }
        j
    };
    let digits_from = |mut j: usize| {
        let s = j;
        while chars.get(j).is_some_and(|c| is_digit(*c)) {
            j += 1;
        }
        (j - s, j)
    };
    let ends_word = |j: usize| !chars.get(j).is_some_and(|c| c.is_alphanumeric());
    if !is_digit(chars[i]) || (i > 0 && chars[i - 1].is_alphanumeric()) {
        return None;
    }
    let (zone_len, j) = digits_from(i);
    if !(1..=2).contains(&zone_len) {
        return None;
    }
    let zone: u32 = chars[i..j]
        .iter()
        .fold(0, |v, c| v * 10 + c.to_digit(10).unwrap_or(0));
    if !(1..=60).contains(&zone) || !chars.get(j).is_some_and(|c| is_band(*c)) {
        return None;
    }
    let after_band = j + 1;
    // MGRS: two square letters, then easting and northing of equal length.
    let k = skip_spaces(after_band);
    if chars.get(k).is_some_and(|c| is_grid_letter(*c))
        && chars.get(k + 1).is_some_and(|c| is_grid_letter(*c))
    {
        let m = skip_spaces(k + 2);
        let (a, end_a) = digits_from(m);
        let n2 = skip_spaces(end_a);
        let (b, end_b) = if n2 > end_a {
            digits_from(n2)
        } else {
            (0, end_a)
        };
        if b == 0 && a >= 6 && a.is_multiple_of(2) && ends_word(end_a) {
            return Some(end_a);
        }
        if b != 0 && a == b && a >= 3 && ends_word(end_b) {
            return Some(end_b);
        }
    }
    // UTM: easting (6 digits) and northing (6–7 digits), each maybe followed by `E`/`mE`.
    let k = skip_spaces(after_band);
    if k == after_band {
        return None;
    }
    let (e, end_e) = digits_from(k);
    let mut m = end_e;
    for suffix in ['m', 'E', 'e'] {
        if chars.get(m) == Some(&suffix) {
            m += 1;
        }
    }
    if chars.get(m) == Some(&',') {
        m += 1;
    }
    let m2 = skip_spaces(m);
    let (n, end_n) = digits_from(m2);
    (e == 6 && (6..=7).contains(&n) && m2 > end_e).then_some(end_n)
}

/// `chars` with every grid reference blanked out, and whether there was one: the digits of
/// `36N TF 12345 67890` are not a phone number.
fn without_grid_refs(chars: &[char]) -> (Vec<char>, bool) {
    let mut out = chars.to_vec();
    let mut found = false;
    let mut i = 0;
    while i < chars.len() {
        match grid_ref_at(chars, i) {
            Some(end) => {
                out[i..end].iter_mut().for_each(|c| *c = '_');
                found = true;
                i = end;
            }
            None => i += 1,
        }
    }
    (out, found)
}

/// Open Location Code alphabet.
fn is_plus_code_char(c: char) -> bool {
    "23456789CFGHJMPQRVWXcfghjmpqrvwx".contains(c)
}

/// A plus code (`6FG22222+22`, `2222+22X`): code characters, `+`, at least two more; at
/// least one letter, so that `2345+67` stays arithmetic.
fn has_plus_code(chars: &[char]) -> bool {
    for (i, c) in chars.iter().enumerate() {
        if *c != '+' {
            continue;
        }
        let before = chars[..i]
            .iter()
            .rev()
            .take_while(|c| is_plus_code_char(**c))
            .count();
        let after = chars[i + 1..]
            .iter()
            .take_while(|c| is_plus_code_char(**c))
            .count();
        let start = i - before;
        let end = i + 1 + after;
        let bounded = (start == 0 || !chars[start - 1].is_alphanumeric())
            && !chars.get(end).is_some_and(|c| c.is_alphanumeric());
        let has_letter = chars[start..end].iter().any(|c| c.is_ascii_alphabetic());
        if (4..=8).contains(&before)
            && before.is_multiple_of(2)
            && (2..=3).contains(&after)
            && bounded
            && has_letter
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_indic_digits_read_as_western() {
        let s: String = "٠٩١٢ ۳۴۵".chars().map(western_digit).collect();
        assert_eq!(s, "0912 345");
    }
}
