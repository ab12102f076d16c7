//! Bad input gets a typed error, never a panic, and never changes what is stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fixture, complete_session};
use fieldconsult_core::Error;
use fieldconsult_model::{Group, PriorityCategory, Session};
use proptest::prelude::*;

/// One way a caller can garble a session.
#[derive(Debug, Clone)]
enum Garble {
    Count(usize, u32),
    Rank(usize, u8),
    Note(String),
    Language(String),
    Category(usize),
    Facilitators(u32),
    StartYearsAgo(i64),
    StartHoursAhead(i64),
}

fn garble() -> impl Strategy<Value = Garble> {
    prop_oneof![
        (0usize..15, prop_oneof![Just(u32::MAX), 0u32..20_000])
            .prop_map(|(i, n)| Garble::Count(i, n)),
        (0usize..2, any::<u8>()).prop_map(|(i, r)| Garble::Rank(i, r)),
        any::<String>().prop_map(Garble::Note),
        "\\PC{0,5}[\\x00-\\x1f]?\\PC{0,300}".prop_map(Garble::Language),
        (0usize..14).prop_map(Garble::Category),
        any::<u32>().prop_map(Garble::Facilitators),
        (0i64..60).prop_map(Garble::StartYearsAgo),
        (0i64..48).prop_map(Garble::StartHoursAhead),
    ]
}

fn apply(s: &mut Session, g: &Garble) {
    use fieldconsult_model::{AgeBand, Sex};
    match g {
        Garble::Count(i, n) => {
            *s.participants
                .of_mut(Sex::ALL[i % 3])
                .get_mut(AgeBand::ALL[i % 5]) = *n
        }
        Garble::Rank(i, r) => s.priorities[*i].rank = *r,
        Garble::Note(t) => s.sensitive_note = t.clone(),
        Garble::Language(t) => {
            s.interpreter.sex = fieldconsult_model::InterpreterSex::Male;
            s.interpreter.language = t.clone();
        }
        Garble::Category(c) => s.priorities[0].category = PriorityCategory::ALL[*c],
        Garble::Facilitators(n) => s.facilitators.female = *n,
        Garble::StartYearsAgo(y) => s.started_at -= chrono::Duration::days(365 * y),
        Garble::StartHoursAhead(h) => s.started_at += chrono::Duration::hours(*h),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn garbled_saves_are_refused_cleanly_or_stored_exactly(garbles in proptest::collection::vec(garble(), 1..6)) {
        let f = Fixture::new();
        let visit = f.visit_of(&f.team_a);
        let original = f.store.save_session(&f.alice(), &complete_session(&visit, Group::Women)).unwrap();
        let mut edited = original.clone();
        for g in &garbles {
            apply(&mut edited, g);
        }
        match f.store.save_session(&f.alice(), &edited) {
            Ok(saved) => {
                let rec = f.store.get_session(&original.id).unwrap();
                prop_assert_eq!(&rec.session, &saved);
                prop_assert_eq!(rec.revision, 2);
            }
            Err(Error::Validation(errors)) => {
                prop_assert!(!errors.errors().is_empty());
                let rec = f.store.get_session(&original.id).unwrap();
                prop_assert_eq!(&rec.session, &original, "a refused save changes nothing");
                prop_assert_eq!(rec.revision, 1);
                prop_assert_eq!(f.store.history(&original.id.to_string()).unwrap().len(), 1);
            }
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }
}

#[test]
fn counts_over_ten_thousand_are_refused_by_cell() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let mut s = complete_session(&visit, Group::Mixed);
    s.participants.undisclosed.age_60_plus = 10_001;
    let Error::Validation(e) = f.store.save_session(&f.alice(), &s).unwrap_err() else {
        panic!("expected validation error");
    };
    assert!(e.has("participants.undisclosed.age_60_plus"));
    s.participants.undisclosed.age_60_plus = 10_000;
    f.store.save_session(&f.alice(), &s).unwrap();
}

#[test]
fn error_messages_carry_no_user_text() {
    let f = Fixture::new();
    let visit = f.visit_of(&f.team_a);
    let mut s = complete_session(&visit, Group::Women);
    s.sensitive_note = format!("names of survivors {}", "\u{1}");
    s.interpreter.language = "x".repeat(500);
    let err = f.store.save_session(&f.alice(), &s).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains("survivors") && !shown.contains("xxxx"),
        "{shown}"
    );
    assert!(shown.contains("sensitive_note") && shown.contains("interpreter.language"));
}
