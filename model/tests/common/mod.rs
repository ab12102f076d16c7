//! Fixtures and proptest strategies shared by the model's integration tests.
//!
//! Every test crate includes this module and uses a different part of it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use fieldconsult_model::crypto::seal::{SealContext, seal};
use fieldconsult_model::validation::{Completeness, MAX_COUNT, validate_session};
use fieldconsult_model::{
    AffectedGroup, AgeBand, AgeCounts, ChecklistAnswer, ChecklistTemplate, Concern,
    ConcernCategory, Consent, Facilitators, FocusTag, Group, Interpreter, InterpreterSex,
    Participants, Priority, PriorityCategory, RecipientSecret, Referral, ReferralServiceId,
    Session, SessionId, Setting, Sex, Status, Timestamp, TopicResponse, Urgency, ValidationContext,
    ValidationErrors, VisitId,
};
use proptest::prelude::*;
use proptest::sample::subsequence;

/// The fixed "now" every test validates against: 2026-11-22 12:00 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

/// A validation context at [`now`] with the default 15-minute skew tolerance.
pub fn ctx() -> ValidationContext {
    ValidationContext::at(now())
}

/// East Africa Time, the offset of most fixtures.
pub fn eat() -> FixedOffset {
    FixedOffset::east_opt(3 * 3600).unwrap()
}

/// A local time at +03:00.
pub fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Timestamp {
    eat().with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// A time `delta` away from [`now`], at +03:00.
pub fn now_plus(delta: Duration) -> Timestamp {
    (now() + delta).with_timezone(&eat())
}

/// A bare draft of `group`, started two hours before [`now`]: valid as a draft, not complete.
pub fn draft(group: Group) -> Session {
    Session::new_draft(VisitId::new(), group, now_plus(Duration::hours(-2)))
}

/// A session of `group` that is complete: valid for submission against the default checklist.
pub fn complete(group: Group) -> Session {
    let mut s = draft(group);
    match group {
        Group::Women => {
            s.participants.female.age_18_29 = 6;
            s.participants.female.age_30_59 = 9;
            s.participants.undisclosed.unknown = 1;
        }
        Group::Men => {
            s.participants.male.age_18_29 = 4;
            s.participants.male.age_60_plus = 3;
        }
        Group::Mixed => {
            s.participants.female.age_30_59 = 5;
            s.participants.male.age_30_59 = 5;
        }
    }
    s.facilitators = Facilitators { female: 2, male: 0 };
    s.interpreter = Interpreter {
        sex: InterpreterSex::Female,
        language: "Juba Arabic".to_owned(),
    };
    s.setting = Setting::Private;
    s.consent = Consent {
        verbal_informed: true,
    };
    s.ended_at = Some(now_plus(Duration::hours(-1)));
    s.answers = ChecklistTemplate::default_v1()
        .topics
        .iter()
        .map(|t| ChecklistAnswer {
            topic: t.code.clone(),
            response: TopicResponse::Discussed,
            note: String::new(),
        })
        .collect();
    s
}

/// A priority of a taxonomy category other than `other`.
pub fn priority(rank: u8, category: PriorityCategory) -> Priority {
    Priority {
        rank,
        category,
        other_label: String::new(),
        note: String::new(),
    }
}

/// An `other` priority with its label.
pub fn other_priority(rank: u8, label: &str) -> Priority {
    Priority {
        rank,
        category: PriorityCategory::Other,
        other_label: label.to_owned(),
        note: String::new(),
    }
}

/// A concern affecting `affected`.
pub fn concern(category: ConcernCategory, affected: &[AffectedGroup], urgency: Urgency) -> Concern {
    Concern {
        category,
        affected: affected.iter().copied().collect(),
        location: String::new(),
        timing: String::new(),
        urgency,
        note: String::new(),
    }
}

/// Validates as a draft at [`now`].
pub fn check_draft(s: &Session) -> Result<(), ValidationErrors> {
    validate_session(s, Completeness::Draft, &ctx())
}

/// Validates for submission against the default checklist at [`now`].
pub fn check_submit(s: &Session) -> Result<(), ValidationErrors> {
    validate_session(
        s,
        Completeness::Submit(&ChecklistTemplate::default_v1()),
        &ctx(),
    )
}

/// The errors of a result that must be invalid, as sorted `(field, code)` pairs.
pub fn codes(r: Result<(), ValidationErrors>) -> Vec<(String, &'static str)> {
    let errs = r.expect_err("expected the record to be invalid");
    let mut v: Vec<_> = errs
        .errors()
        .iter()
        .map(|e| (e.field.clone(), e.problem.code()))
        .collect();
    v.sort();
    v
}

/// Builds the sorted `(field, code)` list the tests expect.
pub fn expect(pairs: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
    let mut v: Vec<_> = pairs.iter().map(|(f, c)| ((*f).to_owned(), *c)).collect();
    v.sort();
    v
}

/// The path of a participant cell (`participants.male.age_18_29`).
pub fn cell(sex: Sex, band: AgeBand) -> String {
    format!("participants.{}.{}", sex.code(), band.code())
}

// ---------------------------------------------------------------------------------------------
// Proptest strategies
// ---------------------------------------------------------------------------------------------

/// One valid line of text: no control character, no line or paragraph separator, NFC, at
/// most 40 source characters, and so well under the 200-character bound even after
/// composition.
pub fn line_text() -> impl Strategy<Value = String> {
    "\\PC{0,40}"
        .prop_map(|s| fieldconsult_model::text::nfc(&s.replace(['\u{2028}', '\u{2029}'], " ")))
}

/// A valid non-blank line of text.
pub fn nonblank_line_text() -> impl Strategy<Value = String> {
    ("[a-zA-Z\u{0627}-\u{064A}\u{1200}-\u{1248}]", line_text())
        .prop_map(|(a, b)| fieldconsult_model::text::nfc(&(a + &b)))
}

/// A valid note: lines and tabs allowed.
pub fn note_text() -> impl Strategy<Value = String> {
    "[\\PC\n\t]{0,80}".prop_map(|s| fieldconsult_model::text::nfc(&s))
}

/// Counts of one sex, each cell within 0..=MAX_COUNT.
pub fn valid_counts() -> impl Strategy<Value = AgeCounts> {
    prop::array::uniform5(prop_oneof![0..=20u32, 0..=MAX_COUNT, Just(MAX_COUNT)]).prop_map(
        |[a, b, c, d, e]| AgeCounts {
            age_12_17: a,
            age_18_29: b,
            age_30_59: c,
            age_60_plus: d,
            unknown: e,
        },
    )
}

/// Valid participants for `group`: no male count in a women's session, no female one in a
/// men's session.
pub fn valid_participants(group: Group) -> impl Strategy<Value = Participants> {
    (valid_counts(), valid_counts(), valid_counts()).prop_map(move |(f, m, u)| Participants {
        female: if group == Group::Men {
            AgeCounts::default()
        } else {
            f
        },
        male: if group == Group::Women {
            AgeCounts::default()
        } else {
            m
        },
        undisclosed: u,
    })
}

/// A UTC offset between −12:00 and +14:00, in quarter hours.
pub fn offset() -> impl Strategy<Value = FixedOffset> {
    (-48i32..=56).prop_map(|q| FixedOffset::east_opt(q * 900).unwrap())
}

/// A plausible start and optional end: between 2000 and a day before [`now`], ending within
/// eight hours, each with its own offset, to the millisecond (the precision stores keep).
pub fn valid_times() -> impl Strategy<Value = (Timestamp, Option<Timestamp>)> {
    let earliest = ValidationContext::earliest().timestamp();
    let latest = (now() - Duration::days(1)).timestamp();
    (
        earliest..=latest,
        0u32..1000,
        offset(),
        prop::option::of((0i64..=8 * 3600 * 1000, offset())),
    )
        .prop_map(|(start, millis, off, end)| {
            let started = DateTime::from_timestamp(start, millis * 1_000_000)
                .unwrap()
                .with_timezone(&off);
            let ended = end.map(|(d, o)| {
                (started + Duration::milliseconds(d))
                    .with_timezone(&Utc)
                    .with_timezone(&o)
            });
            (started, ended)
        })
}

/// Up to five priorities with distinct categories and distinct ranks 1–5.
pub fn valid_priorities() -> impl Strategy<Value = Vec<Priority>> {
    (0usize..=5)
        .prop_flat_map(|n| {
            (
                subsequence(PriorityCategory::ALL.to_vec(), n),
                subsequence(vec![1u8, 2, 3, 4, 5], n).prop_shuffle(),
                nonblank_line_text(),
                prop::collection::vec(note_text(), n),
            )
        })
        .prop_map(|(cats, ranks, label, notes)| {
            cats.into_iter()
                .zip(ranks)
                .zip(notes)
                .map(|((category, rank), note)| Priority {
                    rank,
                    category,
                    other_label: if category == PriorityCategory::Other {
                        label.clone()
                    } else {
                        String::new()
                    },
                    note,
                })
                .collect()
        })
}

/// A valid concern: any category, a note only when it is not sexual-violence risk.
pub fn valid_concern() -> impl Strategy<Value = Concern> {
    (
        prop::sample::select(ConcernCategory::ALL),
        prop::collection::btree_set(prop::sample::select(AffectedGroup::ALL), 1..=5),
        line_text(),
        line_text(),
        prop::sample::select(Urgency::ALL),
        note_text(),
    )
        .prop_map(
            |(category, affected, location, timing, urgency, note)| Concern {
                category,
                affected,
                location,
                timing,
                urgency,
                note: if category == ConcernCategory::SexualViolenceRisk {
                    String::new()
                } else {
                    note
                },
            },
        )
}

/// Answers to distinct topics of the default checklist.
pub fn valid_answers() -> impl Strategy<Value = Vec<ChecklistAnswer>> {
    let codes: Vec<String> = ChecklistTemplate::default_v1()
        .topics
        .into_iter()
        .map(|t| t.code)
        .collect();
    let n = codes.len();
    (0..=n)
        .prop_flat_map(move |k| {
            (
                subsequence(codes.clone(), k),
                prop::collection::vec(
                    (
                        prop::sample::select(vec![
                            TopicResponse::Discussed,
                            TopicResponse::Declined,
                            TopicResponse::NotRaised,
                        ]),
                        note_text(),
                    ),
                    k,
                ),
            )
        })
        .prop_map(|(topics, rest)| {
            topics
                .into_iter()
                .zip(rest)
                .map(|(topic, (response, note))| ChecklistAnswer {
                    topic,
                    response,
                    note,
                })
                .collect()
        })
}

/// Any group.
pub fn any_group() -> impl Strategy<Value = Group> {
    prop::sample::select(vec![Group::Women, Group::Men, Group::Mixed])
}

/// A session of `group` that every rule accepts as a draft.
pub fn valid_session_of(group: Group) -> impl Strategy<Value = Session> {
    let head = (
        valid_participants(group),
        (0u32..=50, 0u32..=50),
        (
            prop::sample::select(vec![
                InterpreterSex::None,
                InterpreterSex::Female,
                InterpreterSex::Male,
            ]),
            line_text(),
        ),
        prop::sample::select(vec![
            Setting::Private,
            Setting::CommunitySpace,
            Setting::Public,
        ]),
        any::<bool>(),
        valid_times(),
        prop::collection::btree_set(prop::sample::select(FocusTag::ALL), 0..=3),
    );
    let tail = (
        valid_answers(),
        valid_priorities(),
        prop::collection::vec(valid_concern(), 0..=4),
        any::<bool>(),
        note_text(),
        prop::sample::select(vec![
            Status::Draft,
            Status::Submitted,
            Status::Returned,
            Status::Accepted,
        ]),
    );
    (head, tail).prop_map(
        move |(
            (participants, (ff, fm), (isex, lang), setting, consent, (started, ended), focus),
            (answers, priorities, concerns, referred, sensitive_note, status),
        )| {
            let id = SessionId::new();
            Session {
                id,
                visit_id: VisitId::new(),
                group,
                focus,
                participants,
                facilitators: Facilitators {
                    female: ff,
                    male: fm,
                },
                interpreter: Interpreter {
                    sex: isex,
                    language: if isex == InterpreterSex::None {
                        String::new()
                    } else {
                        lang
                    },
                },
                setting,
                consent: Consent {
                    verbal_informed: consent,
                },
                started_at: started,
                ended_at: ended,
                checklist_version: 1,
                answers,
                priorities,
                concerns,
                // A submitted or accepted session carries its referral service and its note only
                // sealed.
                referral: referred.then(|| {
                    if matches!(status, Status::Submitted | Status::Accepted) {
                        sealed_referral(&id)
                    } else {
                        Referral::to(ReferralServiceId::new())
                    }
                }),
                sensitive_note: if matches!(status, Status::Submitted | Status::Accepted) {
                    String::new()
                } else {
                    sensitive_note
                },
                sealed_note: None,
                plaintext_held_by: Default::default(),
                status,
            }
        },
    )
}

/// A referral whose service is sealed (to a fixed test key), as submission leaves it.
pub fn sealed_referral(id: &SessionId) -> Referral {
    let reader = RecipientSecret::derive(&[7; 32]);
    let id = id.to_string();
    let sealed = seal(
        &ReferralServiceId::new().to_string(),
        &SealContext::referral_service(&id),
        &[reader.public_key().clone()],
    );
    Referral {
        service_id: None,
        sealed_service_id: sealed.ok(),
    }
}

/// A valid women's, men's or mixed session.
pub fn valid_session() -> impl Strategy<Value = Session> {
    any_group().prop_flat_map(valid_session_of)
}

/// The focus tags of a fixture, for readability.
pub fn focus(tags: &[FocusTag]) -> BTreeSet<FocusTag> {
    tags.iter().copied().collect()
}
