//! Properties of validation, normalisation and serialisation over generated sessions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, FixedOffset, Utc};
use common::*;
use fieldconsult_model::validation::{Completeness, MAX_COUNT, validate_session};
use fieldconsult_model::{
    AffectedGroup, AgeBand, AgeCounts, ChecklistAnswer, ChecklistTemplate, Concern,
    ConcernCategory, Consent, Facilitators, Group, Interpreter, InterpreterSex, Participants,
    Priority, PriorityCategory, Problem, Session, SessionId, Setting, Sex, Status, Timestamp,
    TopicResponse, Urgency, VisitId,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Arbitrary (mostly invalid) sessions
// ---------------------------------------------------------------------------------------------

/// Any string: arbitrary Unicode including control characters, combining marks, and now and
/// then a very long one.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "[\\PC\u{300}-\u{36F}\u{200D}\u{200F}\n\r\t\u{0}]{0,30}",
        1 => Just(String::new()),
        1 => (1usize..6000).prop_map(|n| "ቤ".repeat(n)),
    ]
}

/// Any count, biased to the edges.
fn any_count() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0),
        Just(MAX_COUNT),
        Just(MAX_COUNT + 1),
        Just(u32::MAX),
        any::<u32>(),
    ]
}

fn any_counts() -> impl Strategy<Value = AgeCounts> {
    prop::array::uniform5(any_count()).prop_map(|[a, b, c, d, e]| AgeCounts {
        age_12_17: a,
        age_18_29: b,
        age_30_59: c,
        age_60_plus: d,
        unknown: e,
    })
}

/// Any instant chrono can represent, with any offset it can carry.
fn any_time() -> impl Strategy<Value = Timestamp> {
    let instant = prop_oneof![
        Just(DateTime::<Utc>::MIN_UTC),
        Just(DateTime::<Utc>::MAX_UTC),
        (
            -8_000_000_000_000i64..8_000_000_000_000,
            0u32..1_000_000_000
        )
            .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap()),
        (946_000_000i64..1_900_000_000, 0u32..1_000_000_000)
            .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap()),
    ];
    (instant, -86_399i32..86_400)
        .prop_map(|(t, off)| t.with_timezone(&FixedOffset::east_opt(off).unwrap()))
}

fn any_priority() -> impl Strategy<Value = Priority> {
    (
        any::<u8>(),
        prop::sample::select(PriorityCategory::ALL),
        any_text(),
        any_text(),
    )
        .prop_map(|(rank, category, other_label, note)| Priority {
            rank,
            category,
            other_label,
            note,
        })
}

fn any_concern() -> impl Strategy<Value = Concern> {
    (
        prop::sample::select(ConcernCategory::ALL),
        prop::collection::btree_set(prop::sample::select(AffectedGroup::ALL), 0..=5),
        any_text(),
        any_text(),
        prop::sample::select(Urgency::ALL),
        any_text(),
    )
        .prop_map(
            |(category, affected, location, timing, urgency, note)| Concern {
                category,
                affected,
                location,
                timing,
                urgency,
                note,
            },
        )
}

fn any_answer() -> impl Strategy<Value = ChecklistAnswer> {
    (
        prop_oneof![
            prop::sample::select(
                ChecklistTemplate::default_v1()
                    .topics
                    .into_iter()
                    .map(|t| t.code)
                    .collect::<Vec<_>>()
            ),
            any_text()
        ],
        prop::sample::select(vec![
            TopicResponse::Discussed,
            TopicResponse::Declined,
            TopicResponse::NotRaised,
        ]),
        any_text(),
    )
        .prop_map(|(topic, response, note)| ChecklistAnswer {
            topic,
            response,
            note,
        })
}

/// A session no rule has looked at: any counts, texts, ranks, times and list lengths.
fn any_session() -> impl Strategy<Value = Session> {
    let head = (
        any_group(),
        (any_counts(), any_counts(), any_counts()),
        (any::<u32>(), any::<u32>()),
        (
            prop::sample::select(vec![
                InterpreterSex::None,
                InterpreterSex::Female,
                InterpreterSex::Male,
            ]),
            any_text(),
        ),
        any::<bool>(),
        (any_time(), prop::option::of(any_time())),
        any::<u32>(),
    );
    let tail = (
        prop::collection::vec(any_answer(), 0..15),
        prop::collection::vec(any_priority(), 0..9),
        prop::collection::vec(any_concern(), 0..6),
        any_text(),
    );
    (head, tail).prop_map(
        |(
            (group, (f, m, u), (ff, fm), (isex, language), consent, (started, ended), version),
            (answers, priorities, concerns, sensitive_note),
        )| Session {
            id: SessionId::new(),
            visit_id: VisitId::new(),
            group,
            focus: Default::default(),
            participants: Participants {
                female: f,
                male: m,
                undisclosed: u,
            },
            facilitators: Facilitators {
                female: ff,
                male: fm,
            },
            interpreter: Interpreter {
                sex: isex,
                language,
            },
            setting: Setting::Public,
            consent: Consent {
                verbal_informed: consent,
            },
            started_at: started,
            ended_at: ended,
            checklist_version: version,
            answers,
            priorities,
            concerns,
            referral: None,
            sensitive_note,
            sealed_note: None,
            plaintext_held_by: Default::default(),
            status: Status::Draft,
        },
    )
}

/// Every text field of a session, for comparing before and after normalisation.
fn texts(s: &Session) -> Vec<&str> {
    let mut v = vec![s.interpreter.language.as_str(), s.sensitive_note.as_str()];
    for a in &s.answers {
        v.extend([a.topic.as_str(), a.note.as_str()]);
    }
    for p in &s.priorities {
        v.extend([p.other_label.as_str(), p.note.as_str()]);
    }
    for c in &s.concerns {
        v.extend([c.location.as_str(), c.timing.as_str(), c.note.as_str()]);
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_valid_sessions_always_validate_as_drafts(s in valid_session()) {
        let r = check_draft(&s);
        prop_assert!(r.is_ok(), "{:?}", r);
    }

    #[test]
    fn generated_valid_sessions_are_already_normalized(s in valid_session()) {
        let mut n = s.clone();
        n.normalize();
        prop_assert_eq!(n, s);
    }

    #[test]
    fn a_generated_session_made_complete_can_be_submitted(s in valid_session()) {
        let mut s = s;
        s.consent.verbal_informed = true;
        s.participants.undisclosed.unknown = s.participants.undisclosed.unknown.max(1);
        s.ended_at = Some(s.ended_at.unwrap_or(s.started_at));
        if s.interpreter.sex != InterpreterSex::None && s.interpreter.language.trim().is_empty() {
            s.interpreter.language = "Zande".to_owned();
        }
        for t in ChecklistTemplate::default_v1().topics {
            if !s.answers.iter().any(|a| a.topic == t.code) {
                s.answers.push(ChecklistAnswer {
                    topic: t.code,
                    response: TopicResponse::NotRaised,
                    note: String::new(),
                });
            }
        }
        let r = check_submit(&s);
        prop_assert!(r.is_ok(), "{:?}", r);
    }

    #[test]
    fn normalize_is_idempotent(s in any_session()) {
        let mut once = s.clone();
        once.normalize();
        let mut twice = once.clone();
        twice.normalize();
        prop_assert_eq!(&twice, &once);
        // It touches only text, the sub-millisecond part of times and offsets in seconds
        // (rounded to the nearest minute, as RFC 3339 writes them): counts, structure and the
        // millisecond instant stay as they were.
        prop_assert_eq!(once.participants, s.participants);
        prop_assert_eq!(texts(&once).len(), texts(&s).len());
        let pairs = [(once.started_at, s.started_at)]
            .into_iter()
            .chain(once.ended_at.zip(s.ended_at));
        for (after, before) in pairs {
            prop_assert_eq!(after.timestamp_millis(), before.timestamp_millis());
            let (a, b) = (
                after.offset().local_minus_utc(),
                before.offset().local_minus_utc(),
            );
            prop_assert_eq!(a % 60, 0);
            // Within 30 s of ±24 h it stops at ±23:59.
            prop_assert!(
                (a - b).abs() <= 30 || a.abs() == 86_340,
                "offset {} became {}",
                b,
                a
            );
            prop_assert_eq!(after.timestamp_subsec_nanos() % 1_000_000, 0);
        }
        prop_assert_eq!(once.ended_at.is_some(), s.ended_at.is_some());
    }

    #[test]
    fn after_normalize_no_field_is_reported_as_not_normalized(s in any_session()) {
        let mut s = s;
        s.normalize();
        if let Err(errs) = check_draft(&s) {
            for e in errs.errors() {
                prop_assert_ne!(&e.problem, &Problem::NotNormalized, "{}", e.field);
            }
        }
    }

    #[test]
    fn validation_never_panics_and_every_error_names_a_field(s in any_session()) {
        for r in [check_draft(&s), check_submit(&s)] {
            if let Err(errs) = r {
                prop_assert!(!errs.errors().is_empty());
                for e in errs.errors() {
                    prop_assert!(!e.field.is_empty());
                    let _ = e.to_string();
                }
            }
        }
    }

    #[test]
    fn submit_reports_every_problem_a_draft_has_and_maybe_more(s in any_session()) {
        let as_draft = check_draft(&s).err().map(|e| e.0).unwrap_or_default();
        let as_submit = check_submit(&s).err().map(|e| e.0).unwrap_or_default();
        for e in &as_draft {
            prop_assert!(as_submit.contains(e), "{} missing at submit", e);
        }
        prop_assert!(as_submit.len() >= as_draft.len());
    }

    #[test]
    fn any_count_above_ten_thousand_is_rejected_in_its_cell(
        s in valid_session(),
        sex in prop::sample::select(Sex::ALL.to_vec()),
        band in prop::sample::select(AgeBand::ALL.to_vec()),
        n in prop_oneof![Just(MAX_COUNT + 1), Just(u32::MAX), (MAX_COUNT + 1)..=u32::MAX],
    ) {
        let mut s = s;
        *s.participants.of_mut(sex).get_mut(band) = n;
        let errs = check_draft(&s).unwrap_err();
        prop_assert_eq!(
            errs.problem(&cell(sex, band)),
            Some(&Problem::OutOfRange { min: 0, max: i64::from(MAX_COUNT) })
        );
    }

    #[test]
    fn an_arbitrary_session_with_a_count_above_ten_thousand_is_never_valid(s in any_session()) {
        let over = Sex::ALL
            .iter()
            .flat_map(|sex| AgeBand::ALL.iter().map(move |b| s.participants.of(*sex).get(*b)))
            .any(|n| n > MAX_COUNT);
        if over {
            prop_assert!(check_draft(&s).is_err());
            prop_assert!(check_submit(&s).is_err());
        }
    }

    #[test]
    fn json_round_trip_is_lossless(s in valid_session()) {
        let json = serde_json::to_string(&s).unwrap();
        let back: Session = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &s);
        // Offsets survive, not just instants.
        prop_assert_eq!(back.started_at.offset(), s.started_at.offset());
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }

    #[test]
    fn validation_of_a_valid_session_does_not_depend_on_its_group_for_mixed(s in valid_session_of(Group::Women)) {
        // Any valid women's session is also a valid mixed session: mixed accepts every sex.
        let mut m = s;
        m.group = Group::Mixed;
        prop_assert!(validate_session(&m, Completeness::Draft, &ctx()).is_ok());
    }
}
