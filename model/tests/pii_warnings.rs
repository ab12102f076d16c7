//! Free text that looks like a phone number, an e-mail address or precise coordinates raises
//! a warning naming the field and the kind, never the text; the numbers field notes are full
//! of (dates, times, counts, ages, years, ranks, money, distances) do not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldconsult_model::fixtures::october_2026;
use fieldconsult_model::validation::pii::{scan, unconfirmed};
use fieldconsult_model::validation::{session_warnings, visit_warnings};
use fieldconsult_model::{Concern, ConcernCategory, FieldWarning, Urgency, WarningKind};
use proptest::prelude::*;

use WarningKind::{Coordinates as C, Email as E, Phone as P};

/// Text that must warn, with the one kind it must raise. English, French, Arabic.
const POSITIVES: &[(&str, WarningKind)] = &[
    // Phones, international and local, with spaces, dashes, dots, brackets.
    ("call her on +211 912 345 678", P),
    ("her brother: +211912345678", P),
    ("number 0912 345 678 for the chief", P),
    ("0912-345-678", P),
    ("contact 0912.345.678", P),
    ("appeler le 06 12 34 56 78", P),
    ("tél. +33 6 12 34 56 78", P),
    ("+1 (555) 123-4567", P),
    ("(0912) 345678", P),
    ("00211 912 345 678", P),
    ("555-123-4567", P),
    ("joignable au 0712345678 le soir", P),
    ("her son 912 345 678", P),
    ("call 912-345-678 after dark", P),
    ("the chief 912345678", P),
    ("رقم هاتفها ٠٩١٢ ٣٤٥ ٦٧٨", P),
    ("اتصل على +٢١١ ٩١٢ ٣٤٥ ٦٧٨", P),
    ("الهاتف ۰۹۱۲۳۴۵۶۷۸", P),
    // E-mail addresses.
    ("write to amina.k@example.org", E),
    ("courriel : chef_village@mail.example.fr", E),
    ("البريد salma99@example.com للتواصل", E),
    // Coordinates: decimal pairs, DMS, MGRS, UTM, plus codes.
    ("the well at 4.8594, 31.5713", C),
    ("position -4.85942 31.57131", C),
    ("puits à 4,8594 N 31,5713 E", C),
    ("N 4.8594° E 31.5713°", C),
    ("بئر عند 4.8594, 31.5713", C),
    ("checkpoint at 4°51'34\"N 31°34'17\"E", C),
    ("4° 51′ N", C),
    ("grid 36N TF 12345 67890", C),
    ("36NTF1234567890", C),
    ("camp UTM 36N 312345 537890", C),
    ("zone 36N 312345mE 537890mN", C),
    ("meet at 6FG22222+22", C),
    ("near CWC8+R9 Juba", C),
];

/// Text that must not warn at all.
const NEGATIVES: &[&str] = &[
    // Dates and times.
    "visited on 2026-10-12",
    "2026-10-12 14:30",
    "le 12/10/2026 à 8h30",
    "12.10.2026",
    "12-10-2026 at 09:15",
    "between 08.00-10.00 every morning",
    "من ١٢/١٠/٢٠٢٦ إلى ١٥/١٠/٢٠٢٦",
    // Counts, ages, age bands, ranks.
    "12 women 30-59",
    "12 women 30-59, 8 women 60+, 4 girls 12-17",
    "ages 18-29 and 30-59",
    "1. water 2. firewood 3. schools",
    "priorité 1 : eau ; priorité 2 : bois",
    "٣٠ امرأة و ١٢ فتاة",
    "she is 45 years old",
    // Years and year ranges.
    "since 2019",
    "displaced 1990-2005",
    "harvests of 2020 2021 2022 failed",
    "depuis 2013, puis en 2016",
    // Money and distances.
    "costs 1 500 000 SSP",
    "a budget of 120 000 000 SSP",
    "250.000.000 francs",
    "25.000.000 francs de dégâts",
    "1,500,000 SSP",
    "the well is 1.5 km away",
    "à 2,5 km du marché",
    "٢٫٥ كم من السوق",
    // Other things with @, + and degrees.
    "meeting @ the school",
    "water + food + fuel",
    "2345+67 is arithmetic",
    "30°C in the shade",
    "the 12th century mosque",
    "version 3.1415",
];

#[test]
fn each_positive_raises_its_kind() {
    for (text, kind) in POSITIVES {
        let kinds = scan(text);
        assert!(
            kinds.contains(kind),
            "{text:?} should warn {kind:?}, got {kinds:?}"
        );
    }
}

#[test]
fn no_negative_warns() {
    for text in NEGATIVES {
        assert_eq!(scan(text), Vec::new(), "{text:?} should not warn");
    }
}

#[test]
fn phone_numbers_do_not_look_like_coordinates_nor_the_reverse() {
    assert_eq!(scan("+211 912 345 678"), vec![P]);
    assert_eq!(scan("write to a@b.org"), vec![E]);
    assert_eq!(scan("36N TF 12345 67890"), vec![C]);
}

#[test]
fn every_free_text_field_of_a_session_is_scanned_and_named_by_path() {
    let f = october_2026();
    let mut s = f.session(1).clone();
    s.interpreter.language = "Arabic, +211 912 345 678".into();
    s.answers = vec![fieldconsult_model::ChecklistAnswer {
        topic: "community_status".into(),
        response: fieldconsult_model::TopicResponse::Discussed,
        note: "mail chief@example.org".into(),
    }];
    s.priorities[0].note = "pump at 4.8594, 31.5713".into();
    s.priorities[0].other_label = String::new();
    s.concerns = vec![Concern {
        category: ConcernCategory::ArmedGroupPresence,
        affected: Default::default(),
        location: "36N TF 12345 67890".into(),
        timing: "call 0912345678 at night".into(),
        urgency: Urgency::Routine,
        note: "ask a@b.org".into(),
    }];
    s.sensitive_note = "her number 0912 345 678".into();
    let fields: Vec<(String, WarningKind)> = session_warnings(&s)
        .into_iter()
        .map(|w| (w.field, w.kind))
        .collect();
    for expected in [
        ("interpreter.language", P),
        ("answers[0].note", E),
        ("priorities[0].note", C),
        ("concerns[0].location", C),
        ("concerns[0].timing", P),
        ("concerns[0].note", E),
        ("sensitive_note", P),
    ] {
        assert!(
            fields.contains(&(expected.0.to_owned(), expected.1)),
            "missing {expected:?} in {fields:?}"
        );
    }
    assert_eq!(fields.len(), 7, "{fields:?}");
}

#[test]
fn a_session_of_the_fixture_raises_no_warning() {
    let f = october_2026();
    for s in &f.sessions {
        assert_eq!(session_warnings(s), Vec::new());
    }
}

#[test]
fn visit_notes_are_scanned() {
    let f = october_2026();
    let mut v = f.visits[0].clone();
    assert_eq!(visit_warnings(&v), Vec::new());
    v.notes = "chief: 0912 345 678".into();
    assert_eq!(
        visit_warnings(&v),
        vec![FieldWarning {
            field: "notes".into(),
            kind: P
        }]
    );
}

#[test]
fn confirmed_warnings_are_the_ones_listed_exactly() {
    let phone = FieldWarning {
        field: "priorities[0].note".into(),
        kind: P,
    };
    let email = FieldWarning {
        field: "priorities[0].note".into(),
        kind: E,
    };
    let elsewhere = FieldWarning {
        field: "priorities[1].note".into(),
        kind: P,
    };
    let all = [phone.clone(), email.clone()];
    assert_eq!(
        unconfirmed(&all, std::slice::from_ref(&phone)),
        vec![email.clone()]
    );
    assert_eq!(unconfirmed(&all, &[elsewhere]), all.to_vec());
    assert_eq!(unconfirmed(&all, &all), Vec::new());
}

proptest! {
    /// Whatever the text, a warning (its JSON, its message, its debug form) holds the field
    /// path and the kind, never the text.
    #[test]
    fn a_warning_never_contains_the_text(
        head in "[a-zA-Z ,;:()-]{0,16}",
        local in "[a-z0-9._]{1,10}",
        tail in "[a-z0-9]{1,12}\\.[a-z]{2,4}",
        digits in "0[0-9]{6,12}",
    ) {
        let f = october_2026();
        let mut s = f.session(1).clone();
        // Always holds an `@`, which no path or message has.
        let text = format!("{head} {digits} {local}@{tail}");
        s.priorities[0].note = text.clone();
        s.sensitive_note = text.clone();
        let warnings = session_warnings(&s);
        prop_assert!(!warnings.is_empty());
        for w in &warnings {
            for shown in [
                serde_json::to_string(w).unwrap(),
                w.to_string(),
                format!("{w:?}"),
            ] {
                prop_assert!(!shown.contains(&text));
                prop_assert!(!shown.contains('@'));
                prop_assert!(!shown.contains(&digits));
            }
        }
    }
}

proptest! {
    /// Any text at all (every script, control characters, lone digits of every kind) is
    /// scanned without a panic, and each kind is reported at most once, in a fixed order.
    #[test]
    fn any_text_is_scanned_and_each_kind_reported_once(text in any::<String>()) {
        let kinds = scan(&text);
        let mut sorted = kinds.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(kinds, sorted);
    }
}
