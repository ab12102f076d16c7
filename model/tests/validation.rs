//! The validation rules of DESIGN.md, one behaviour per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use chrono::{Duration, FixedOffset, TimeZone, Utc};
use common::*;
use fieldconsult_model::validation::{
    Completeness, MAX_COUNT, validate_addendum, validate_checklist, validate_community,
    validate_referral_service, validate_review, validate_session, validate_team, validate_visit,
};
use fieldconsult_model::{
    Addendum, AddendumId, AffectedGroup, AgeBand, ChecklistAnswer, ChecklistTemplate,
    ChecklistTopic, Community, CommunityId, ConcernCategory, Decision, Group, InterpreterSex,
    Location, Problem, ReferralService, ReferralServiceId, ReferralServiceKind, Review, ReviewId,
    SessionId, Sex, Team, TeamId, TopicResponse, Urgency, ValidationContext, Visit, VisitId,
};

// ---------------------------------------------------------------------------------------------
// Participant counts
// ---------------------------------------------------------------------------------------------

#[test]
fn every_cell_of_a_mixed_session_accepts_counts_from_zero_to_ten_thousand() {
    for n in [0, 1, 9_999, MAX_COUNT] {
        let mut s = draft(Group::Mixed);
        for sex in Sex::ALL {
            for band in AgeBand::ALL {
                *s.participants.of_mut(sex).get_mut(band) = n;
            }
        }
        assert_eq!(check_draft(&s), Ok(()), "count {n}");
    }
}

#[test]
fn a_count_above_ten_thousand_is_out_of_range_in_exactly_its_cell() {
    for sex in Sex::ALL {
        for band in AgeBand::ALL {
            for n in [MAX_COUNT + 1, u32::MAX] {
                let mut s = draft(Group::Mixed);
                *s.participants.of_mut(sex).get_mut(band) = n;
                let errs = check_draft(&s).unwrap_err();
                assert_eq!(errs.errors().len(), 1, "{errs}");
                assert_eq!(
                    errs.problem(&cell(sex, band)),
                    Some(&Problem::OutOfRange {
                        min: 0,
                        max: 10_000
                    })
                );
            }
        }
    }
}

#[test]
fn womens_session_with_male_participants_names_every_offending_cell() {
    let mut s = complete(Group::Women);
    s.participants.male.age_18_29 = 2;
    s.participants.male.age_60_plus = 1;
    s.participants.male.unknown = 7;
    let errs = check_draft(&s).unwrap_err();
    let fields: Vec<&str> = errs.errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "participants.male.age_18_29",
            "participants.male.age_60_plus",
            "participants.male.unknown"
        ]
    );
    for e in errs.errors() {
        assert_eq!(
            e.problem,
            Problem::WrongSexForGroup {
                group: Group::Women
            }
        );
    }
}

#[test]
fn mens_session_with_female_participants_names_every_offending_cell() {
    let mut s = complete(Group::Men);
    s.participants.female.age_12_17 = 1;
    s.participants.female.age_30_59 = 3;
    let errs = check_submit(&s).unwrap_err();
    assert_eq!(
        codes(Err(errs.clone())),
        expect(&[
            ("participants.female.age_12_17", "wrong_sex_for_group"),
            ("participants.female.age_30_59", "wrong_sex_for_group"),
        ])
    );
    assert_eq!(
        errs.problem("participants.female.age_12_17"),
        Some(&Problem::WrongSexForGroup { group: Group::Men })
    );
}

#[test]
fn undisclosed_participants_are_allowed_in_single_sex_sessions() {
    for group in [Group::Women, Group::Men] {
        let mut s = complete(group);
        for band in AgeBand::ALL {
            *s.participants.undisclosed.get_mut(band) = 3;
        }
        assert_eq!(check_submit(&s), Ok(()), "{group:?}");
    }
}

#[test]
fn a_mixed_session_may_count_women_and_men() {
    let mut s = complete(Group::Mixed);
    s.participants.female.age_12_17 = 4;
    s.participants.male.age_12_17 = 5;
    assert_eq!(check_submit(&s), Ok(()));
}

#[test]
fn an_over_limit_count_of_the_wrong_sex_is_reported_once_as_out_of_range() {
    let mut s = draft(Group::Women);
    s.participants.male.age_30_59 = MAX_COUNT + 1;
    assert_eq!(
        codes(check_draft(&s)),
        expect(&[("participants.male.age_30_59", "out_of_range")])
    );
}

#[test]
fn facilitators_of_each_sex_range_from_zero_to_fifty() {
    let mut s = draft(Group::Women);
    s.facilitators.female = 50;
    s.facilitators.male = 0;
    assert_eq!(check_draft(&s), Ok(()));
    s.facilitators.female = 51;
    s.facilitators.male = u32::MAX;
    assert_eq!(
        codes(check_draft(&s)),
        expect(&[
            ("facilitators.female", "out_of_range"),
            ("facilitators.male", "out_of_range"),
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// Draft versus submit
// ---------------------------------------------------------------------------------------------

#[test]
fn an_empty_new_draft_is_a_valid_draft() {
    for group in [Group::Women, Group::Men, Group::Mixed] {
        assert_eq!(check_draft(&draft(group)), Ok(()));
    }
}

#[test]
fn a_complete_session_of_every_group_can_be_submitted() {
    for group in [Group::Women, Group::Men, Group::Mixed] {
        assert_eq!(check_submit(&complete(group)), Ok(()), "{group:?}");
    }
}

#[test]
fn submit_requires_at_least_one_participant_but_a_draft_does_not() {
    let mut s = complete(Group::Women);
    s.participants = Default::default();
    assert_eq!(check_draft(&s), Ok(()));
    assert_eq!(
        codes(check_submit(&s)),
        expect(&[("participants", "required")])
    );
}

#[test]
fn a_single_undisclosed_participant_is_enough_to_submit() {
    let mut s = complete(Group::Men);
    s.participants = Default::default();
    s.participants.undisclosed.unknown = 1;
    assert_eq!(check_submit(&s), Ok(()));
}

#[test]
fn submit_requires_verbal_informed_consent_but_a_draft_does_not() {
    let mut s = complete(Group::Men);
    s.consent.verbal_informed = false;
    assert_eq!(check_draft(&s), Ok(()));
    assert_eq!(
        codes(check_submit(&s)),
        expect(&[("consent.verbal_informed", "required")])
    );
}

#[test]
fn submit_requires_an_end_time_but_a_draft_does_not() {
    let mut s = complete(Group::Women);
    s.ended_at = None;
    assert_eq!(check_draft(&s), Ok(()));
    assert_eq!(codes(check_submit(&s)), expect(&[("ended_at", "required")]));
}

#[test]
fn submit_requires_the_interpreted_language_when_there_was_an_interpreter() {
    for sex in [InterpreterSex::Female, InterpreterSex::Male] {
        for language in ["", "   "] {
            let mut s = complete(Group::Women);
            s.interpreter.sex = sex;
            s.interpreter.language = language.to_owned();
            assert_eq!(check_draft(&s), Ok(()));
            assert_eq!(
                codes(check_submit(&s)),
                expect(&[("interpreter.language", "required")])
            );
        }
    }
}

#[test]
fn without_an_interpreter_no_language_is_needed_and_none_may_be_given() {
    let mut s = complete(Group::Women);
    s.interpreter.sex = InterpreterSex::None;
    s.interpreter.language = String::new();
    assert_eq!(check_submit(&s), Ok(()));
    s.interpreter.language = "Dinka".to_owned();
    assert_eq!(
        codes(check_draft(&s)),
        expect(&[("interpreter.language", "must_be_empty")])
    );
}

#[test]
fn submit_names_every_required_checklist_topic_left_unanswered() {
    let checklist = ChecklistTemplate::default_v1();
    let mut s = complete(Group::Women);
    s.answers.clear();
    assert_eq!(check_draft(&s), Ok(()));
    let expected: Vec<(String, &str)> = {
        let mut v: Vec<_> = checklist
            .topics
            .iter()
            .filter(|t| t.required)
            .map(|t| (format!("answers.{}", t.code), "required"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        expected.len(),
        8,
        "the default checklist has 8 required topics"
    );
    assert_eq!(codes(check_submit(&s)), expected);
}

#[test]
fn optional_checklist_topics_may_be_left_unanswered_at_submit() {
    let checklist = ChecklistTemplate::default_v1();
    let mut s = complete(Group::Men);
    s.answers
        .retain(|a| checklist.topic(&a.topic).unwrap().required);
    assert_eq!(s.answers.len(), 8);
    assert_eq!(check_submit(&s), Ok(()));
}

#[test]
fn a_declined_or_not_raised_topic_still_counts_as_answered() {
    let mut s = complete(Group::Women);
    for (i, a) in s.answers.iter_mut().enumerate() {
        a.response = if i % 2 == 0 {
            TopicResponse::Declined
        } else {
            TopicResponse::NotRaised
        };
    }
    assert_eq!(check_submit(&s), Ok(()));
}

#[test]
fn submit_refuses_answers_to_topics_the_checklist_does_not_have() {
    let mut s = complete(Group::Women);
    s.answers.push(ChecklistAnswer {
        topic: "weather".to_owned(),
        response: TopicResponse::Discussed,
        note: String::new(),
    });
    let last = s.answers.len() - 1;
    assert_eq!(check_draft(&s), Ok(()));
    assert_eq!(
        codes(check_submit(&s)),
        vec![(format!("answers[{last}].topic"), "unknown")]
    );
}

#[test]
fn submit_refuses_a_session_answering_another_checklist_version() {
    let mut s = complete(Group::Women);
    s.checklist_version = 2;
    assert_eq!(check_draft(&s), Ok(()));
    assert_eq!(
        codes(check_submit(&s)),
        expect(&[("checklist_version", "unknown")])
    );
}

#[test]
fn checklist_version_zero_is_out_of_range_even_in_a_draft() {
    let mut s = draft(Group::Women);
    s.checklist_version = 0;
    assert_eq!(
        codes(check_draft(&s)),
        expect(&[("checklist_version", "out_of_range")])
    );
}

#[test]
fn each_answered_topic_appears_once_and_is_not_blank() {
    let mut s = draft(Group::Women);
    let answer = |topic: &str| ChecklistAnswer {
        topic: topic.to_owned(),
        response: TopicResponse::Discussed,
        note: String::new(),
    };
    s.answers = vec![answer("threats"), answer(" "), answer("threats")];
    assert_eq!(
        codes(check_draft(&s)),
        expect(&[
            ("answers[1].topic", "required"),
            ("answers[2].topic", "duplicate"),
        ])
    );
}

#[test]
fn submit_requires_every_concern_to_name_who_it_affects() {
    let mut s = complete(Group::Women);
    s.concerns = vec![
        concern(
            ConcernCategory::Abduction,
            &[AffectedGroup::Girls],
            Urgency::Urgent,
        ),
        concern(ConcernCategory::TheftAndLooting, &[], Urgency::Routine),
    ];
    assert_eq!(check_draft(&s), Ok(()));
    assert_eq!(
        codes(check_submit(&s)),
        expect(&[("concerns[1].affected", "required")])
    );
}

// ---------------------------------------------------------------------------------------------
// Priorities
// ---------------------------------------------------------------------------------------------

#[test]
fn five_priorities_ranked_one_to_five_in_any_order_are_valid() {
    use fieldconsult_model::PriorityCategory::*;
    let mut s = draft(Group::Women);
    s.priorities = vec![
        priority(3, Water),
        priority(5, Food),
        priority(1, SafeMovement),
        priority(2, Health),
        priority(4, Schools),
    ];
    assert_eq!(check_draft(&s), Ok(()));
}

#[test]
fn ranks_outside_one_to_five_are_out_of_range() {
    use fieldconsult_model::PriorityCategory::*;
    let mut s = draft(Group::Women);
    s.priorities = vec![priority(0, Water), priority(6, Food), priority(255, Health)];
    let errs = check_draft(&s).unwrap_err();
    assert_eq!(errs.errors().len(), 3);
    for i in 0..3 {
        assert_eq!(
            errs.problem(&format!("priorities[{i}].rank")),
            Some(&Problem::OutOfRange { min: 1, max: 5 })
        );
    }
}

#[test]
fn a_repeated_rank_is_a_duplicate_on_the_later_priority() {
    use fieldconsult_model::PriorityCategory::*;
    let mut s = draft(Group::Men);
    s.priorities = vec![priority(1, Water), priority(1, Food), priority(2, Health)];
    assert_eq!(
        codes(check_draft(&s)),
        expect(&[("priorities[1].rank", "duplicate")])
    );
}

#[test]
fn more_than_five_priorities_are_too_many() {
    use fieldconsult_model::PriorityCategory::*;
    let mut s = draft(Group::Men);
    s.priorities = [Water, Food, Health, Schools, Shelter, Justice]
        .into_iter()
        .zip(1u8..)
        .map(|(c, r)| priority(r, c))
        .collect();
    let errs = check_draft(&s).unwrap_err();
    assert_eq!(
        errs.problem("priorities"),
        Some(&Problem::TooLong { max: 5, actual: 6 })
    );
    assert_eq!(
        errs.problem("priorities[5].rank"),
        Some(&Problem::OutOfRange { min: 1, max: 5 })
    );
}

#[test]
fn an_other_priority_requires_its_label() {
    for label in ["", "  \t "] {
        let mut s = draft(Group::Women);
        s.priorities = vec![other_priority(1, label)];
        assert_eq!(
            codes(check_draft(&s)),
            expect(&[("priorities[0].other_label", "required")]),
            "label {label:?}"
        );
    }
    let mut s = draft(Group::Women);
    s.priorities = vec![other_priority(1, "Mobile clinic")];
    assert_eq!(check_draft(&s), Ok(()));
}

#[test]
fn a_taxonomy_priority_must_leave_the_other_label_empty() {
    let mut s = draft(Group::Women);
    s.priorities = vec![fieldconsult_model::Priority {
        other_label: "wells".to_owned(),
        ..priority(1, fieldconsult_model::PriorityCategory::Water)
    }];
    assert_eq!(
        codes(check_draft(&s)),
        expect(&[("priorities[0].other_label", "must_be_empty")])
    );
}

#[test]
fn the_same_category_twice_is_a_duplicate() {
    use fieldconsult_model::PriorityCategory::*;
    let mut s = draft(Group::Women);
    s.priorities = vec![priority(1, Water), priority(2, Health), priority(3, Water)];
    assert_eq!(
        codes(check_draft(&s)),
        expect(&[("priorities[2].category", "duplicate")])
    );
}

#[test]
fn other_priorities_are_duplicates_when_labels_differ_only_in_case_or_spaces() {
    let mut s = draft(Group::Women);
    s.priorities = vec![
        other_priority(1, "Mobile clinic"),
        other_priority(2, " MOBILE CLINIC "),
    ];
    assert_eq!(
        codes(check_draft(&s)),
        expect(&[("priorities[1].category", "duplicate")])
    );
}

#[test]
fn other_priorities_with_different_labels_are_distinct() {
    let mut s = draft(Group::Women);
    s.priorities = vec![
        other_priority(1, "Mobile clinic"),
        other_priority(2, "Grinding mill"),
    ];
    assert_eq!(check_draft(&s), Ok(()));
}

// ---------------------------------------------------------------------------------------------
// Concerns
// ---------------------------------------------------------------------------------------------

#[test]
fn a_sexual_violence_risk_concern_with_a_note_is_refused_as_detail() {
    let mut s = complete(Group::Women);
    s.concerns = vec![
        concern(
            ConcernCategory::ArmedGroupPresence,
            &[AffectedGroup::Women],
            Urgency::Routine,
        ),
        concern(
            ConcernCategory::SexualViolenceRisk,
            &[AffectedGroup::Women, AffectedGroup::Girls],
            Urgency::Urgent,
        ),
    ];
    s.concerns[1].note = "x".to_owned();
    let errs = check_submit(&s).unwrap_err();
    assert_eq!(errs.errors().len(), 1, "{errs}");
    assert_eq!(
        errs.problem("concerns[1].note"),
        Some(&Problem::DetailNotAllowed)
    );
}

#[test]
fn a_sexual_violence_risk_concern_without_a_note_is_valid_with_place_and_time() {
    let mut s = complete(Group::Women);
    let mut c = concern(
        ConcernCategory::SexualViolenceRisk,
        &[AffectedGroup::Women, AffectedGroup::Girls],
        Urgency::Urgent,
    );
    c.location = "Road to the river".to_owned();
    c.timing = "At dawn".to_owned();
    s.concerns = vec![c];
    assert_eq!(check_submit(&s), Ok(()));
}

#[test]
fn other_concerns_may_carry_a_multi_line_note() {
    for category in ConcernCategory::ALL
        .iter()
        .filter(|c| **c != ConcernCategory::SexualViolenceRisk)
    {
        let mut s = draft(Group::Men);
        let mut c = concern(*category, &[AffectedGroup::Men], Urgency::Priority);
        c.note = "Seen twice.\n\tNear the market.".to_owned();
        s.concerns = vec![c];
        assert_eq!(check_draft(&s), Ok(()), "{category:?}");
    }
}

#[test]
fn more_than_fifty_concerns_are_too_many() {
    let mut s = draft(Group::Men);
    s.concerns = vec![
        concern(
            ConcernCategory::TheftAndLooting,
            &[AffectedGroup::Men],
            Urgency::Routine
        );
        51
    ];
    assert_eq!(
        check_draft(&s).unwrap_err().problem("concerns"),
        Some(&Problem::TooLong {
            max: 50,
            actual: 51
        })
    );
    s.concerns.pop();
    assert_eq!(check_draft(&s), Ok(()));
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

/// A draft with one answer, one `other` priority and one concern, so that every text field of
/// a session exists. `set` writes one of them.
fn session_with_text(field: &str, value: &str) -> fieldconsult_model::Session {
    let mut s = draft(Group::Women);
    s.interpreter.sex = InterpreterSex::Female;
    s.interpreter.language = "Nuer".to_owned();
    s.answers = vec![ChecklistAnswer {
        topic: "threats".to_owned(),
        response: TopicResponse::Discussed,
        note: "ok".to_owned(),
    }];
    s.priorities = vec![other_priority(1, "Mobile clinic")];
    s.concerns = vec![concern(
        ConcernCategory::MovementRestriction,
        &[AffectedGroup::Women],
        Urgency::Routine,
    )];
    let v = value.to_owned();
    match field {
        "interpreter.language" => s.interpreter.language = v,
        "answers[0].topic" => s.answers[0].topic = v,
        "priorities[0].other_label" => s.priorities[0].other_label = v,
        "concerns[0].location" => s.concerns[0].location = v,
        "concerns[0].timing" => s.concerns[0].timing = v,
        "answers[0].note" => s.answers[0].note = v,
        "priorities[0].note" => s.priorities[0].note = v,
        "concerns[0].note" => s.concerns[0].note = v,
        "sensitive_note" => s.sensitive_note = v,
        _ => panic!("unknown field {field}"),
    }
    s
}

const LINE_FIELDS: [&str; 5] = [
    "interpreter.language",
    "answers[0].topic",
    "priorities[0].other_label",
    "concerns[0].location",
    "concerns[0].timing",
];

const NOTE_FIELDS: [&str; 4] = [
    "answers[0].note",
    "priorities[0].note",
    "concerns[0].note",
    "sensitive_note",
];

#[test]
fn single_line_fields_refuse_every_control_character_including_newline_and_tab() {
    for field in LINE_FIELDS {
        for bad in [
            "a\nb",
            "a\tb",
            "a\rb",
            "a\u{0}b",
            "a\u{1b}b",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{2028}b",
            "a\u{2029}b",
        ] {
            let s = session_with_text(field, bad);
            assert_eq!(
                codes(check_draft(&s)),
                vec![(field.to_owned(), "control_character")],
                "{field} = {bad:?}"
            );
        }
    }
}

#[test]
fn notes_allow_newlines_and_tabs() {
    for field in NOTE_FIELDS {
        let s = session_with_text(field, "First line\n\tindented\n\nlast\u{2028}and\u{2029}on");
        assert_eq!(check_draft(&s), Ok(()), "{field}");
    }
}

#[test]
fn notes_refuse_other_control_characters() {
    for field in NOTE_FIELDS {
        for bad in ["a\rb", "a\u{0}b", "a\u{7}b", "a\u{1b}[31mb", "a\u{9f}b"] {
            let s = session_with_text(field, bad);
            assert_eq!(
                codes(check_draft(&s)),
                vec![(field.to_owned(), "control_character")],
                "{field} = {bad:?}"
            );
        }
    }
}

#[test]
fn text_not_in_nfc_is_refused_and_normalize_fixes_it() {
    let decomposed = "Se\u{301}curite\u{301} a\u{300} l'e\u{301}cole";
    let composed = "Sécurité à l'école";
    for field in LINE_FIELDS.iter().chain(NOTE_FIELDS.iter()) {
        let mut s = session_with_text(field, decomposed);
        assert_eq!(
            codes(check_draft(&s)),
            vec![((*field).to_owned(), "not_normalized")],
            "{field}"
        );
        s.normalize();
        assert_eq!(check_draft(&s), Ok(()), "{field}");
        assert_eq!(s, session_with_text(field, composed).with_ids_of(&s));
    }
}

/// Lets a freshly built fixture be compared with one built earlier.
trait WithIds {
    fn with_ids_of(self, other: &Self) -> Self;
}

impl WithIds for fieldconsult_model::Session {
    fn with_ids_of(mut self, other: &Self) -> Self {
        self.id = other.id;
        self.visit_id = other.visit_id;
        self.started_at = other.started_at;
        self
    }
}

#[test]
fn length_bounds_count_characters_not_bytes() {
    // Ethiopic syllables take three bytes each in UTF-8.
    let amharic_200: String = "ሰላም".chars().cycle().take(200).collect();
    assert_eq!(amharic_200.len(), 600);
    let amharic_201: String = "ሰላም".chars().cycle().take(201).collect();
    for field in LINE_FIELDS {
        assert_eq!(
            check_draft(&session_with_text(field, &amharic_200)),
            Ok(()),
            "{field}"
        );
        let errs = check_draft(&session_with_text(field, &amharic_201)).unwrap_err();
        assert_eq!(errs.errors().len(), 1);
        assert_eq!(
            errs.problem(field),
            Some(&Problem::TooLong {
                max: 200,
                actual: 201
            })
        );
    }
}

#[test]
fn notes_hold_up_to_four_thousand_characters() {
    let burmese_4000: String = "မြန်".chars().cycle().take(4000).collect();
    assert!(burmese_4000.len() > 4000);
    let burmese_4001: String = "မြန်".chars().cycle().take(4001).collect();
    for field in NOTE_FIELDS {
        assert_eq!(
            check_draft(&session_with_text(field, &burmese_4000)),
            Ok(()),
            "{field}"
        );
        assert_eq!(
            check_draft(&session_with_text(field, &burmese_4001))
                .unwrap_err()
                .problem(field),
            Some(&Problem::TooLong {
                max: 4000,
                actual: 4001
            })
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------------------

#[test]
fn a_start_later_than_now_plus_the_skew_tolerance_is_in_the_future() {
    let mut s = draft(Group::Women);
    s.started_at = now_plus(Duration::minutes(15) + Duration::seconds(1));
    assert_eq!(
        codes(check_draft(&s)),
        expect(&[("started_at", "in_future")])
    );
}

#[test]
fn a_start_within_the_skew_tolerance_is_accepted() {
    for ahead in [
        Duration::zero(),
        Duration::minutes(5),
        Duration::minutes(15),
    ] {
        let mut s = draft(Group::Women);
        s.started_at = now_plus(ahead);
        assert_eq!(check_draft(&s), Ok(()), "{ahead}");
    }
}

#[test]
fn the_skew_tolerance_comes_from_the_validation_context() {
    let mut s = draft(Group::Women);
    s.started_at = now_plus(Duration::minutes(30));
    assert!(check_draft(&s).is_err());
    let lenient = ValidationContext {
        now: now(),
        max_clock_skew: Duration::hours(1),
    };
    assert_eq!(validate_session(&s, Completeness::Draft, &lenient), Ok(()));
    let strict = ValidationContext {
        now: now(),
        max_clock_skew: Duration::zero(),
    };
    s.started_at = now_plus(Duration::seconds(1));
    assert_eq!(
        codes(validate_session(&s, Completeness::Draft, &strict)),
        expect(&[("started_at", "in_future")])
    );
}

#[test]
fn an_end_in_the_future_is_refused() {
    let mut s = complete(Group::Men);
    s.ended_at = Some(now_plus(Duration::hours(3)));
    assert_eq!(codes(check_draft(&s)), expect(&[("ended_at", "in_future")]));
}

#[test]
fn times_before_2000_are_too_old() {
    let mut s = draft(Group::Women);
    s.started_at = Utc
        .with_ymd_and_hms(1970, 1, 1, 0, 0, 0)
        .unwrap()
        .fixed_offset();
    assert_eq!(codes(check_draft(&s)), expect(&[("started_at", "too_old")]));
    s.started_at = ValidationContext::earliest().fixed_offset();
    assert_eq!(check_draft(&s), Ok(()), "2000-01-01T00:00Z itself is fine");
}

#[test]
fn an_end_before_the_start_is_refused() {
    let mut s = complete(Group::Women);
    s.ended_at = Some(s.started_at - Duration::minutes(1));
    assert_eq!(
        codes(check_draft(&s)),
        expect(&[("ended_at", "before_start")])
    );
    s.ended_at = Some(s.started_at);
    assert_eq!(check_draft(&s), Ok(()), "a zero-length session is fine");
}

#[test]
fn start_and_end_are_compared_as_instants_whatever_their_offsets() {
    let mut s = draft(Group::Women);
    // 14:00 at +03:00 is 11:00 UTC; 11:30 at +00:00 is later although its clock reads earlier.
    s.started_at = at(2026, 11, 20, 14, 0);
    s.ended_at = Some(
        FixedOffset::east_opt(0)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 20, 11, 30, 0)
            .unwrap(),
    );
    assert_eq!(check_draft(&s), Ok(()));
    // 15:00 at +05:00 is 10:00 UTC: before the start although its clock reads later.
    s.ended_at = Some(
        FixedOffset::east_opt(5 * 3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 20, 15, 0, 0)
            .unwrap(),
    );
    assert_eq!(
        codes(check_draft(&s)),
        expect(&[("ended_at", "before_start")])
    );
}

// ---------------------------------------------------------------------------------------------
// All problems at once; messages
// ---------------------------------------------------------------------------------------------

#[test]
fn a_session_with_many_problems_reports_all_of_them_at_once() {
    use fieldconsult_model::PriorityCategory::*;
    let mut s = complete(Group::Women);
    s.participants.male.age_18_29 = 3;
    s.participants.undisclosed.unknown = 20_000;
    s.facilitators.male = 60;
    s.interpreter.language = "Ara\u{7}bic".to_owned();
    s.consent.verbal_informed = false;
    s.started_at = now_plus(Duration::days(1));
    s.ended_at = Some(s.started_at - Duration::hours(1));
    s.answers.retain(|a| a.topic != "threats");
    s.answers[0].note = "e\u{301}".to_owned();
    s.priorities = vec![
        priority(1, Water),
        priority(1, Health),
        other_priority(7, ""),
        priority(3, Water),
    ];
    s.concerns = vec![concern(
        ConcernCategory::SexualViolenceRisk,
        &[],
        Urgency::Urgent,
    )];
    s.concerns[0].note = "details".to_owned();
    s.sensitive_note = "x".repeat(4001);

    assert_eq!(
        codes(check_submit(&s)),
        expect(&[
            ("participants.male.age_18_29", "wrong_sex_for_group"),
            ("participants.undisclosed.unknown", "out_of_range"),
            ("facilitators.male", "out_of_range"),
            ("interpreter.language", "control_character"),
            ("consent.verbal_informed", "required"),
            ("started_at", "in_future"),
            ("ended_at", "before_start"),
            ("answers.threats", "required"),
            ("answers[0].note", "not_normalized"),
            ("priorities[1].rank", "duplicate"),
            ("priorities[2].rank", "out_of_range"),
            ("priorities[2].other_label", "required"),
            ("priorities[3].category", "duplicate"),
            ("concerns[0].note", "detail_not_allowed"),
            ("concerns[0].affected", "required"),
            ("sensitive_note", "too_long"),
        ])
    );
}

#[test]
fn messages_name_the_field_and_the_reason_but_never_repeat_user_text() {
    let secret = "Nyaboth\u{7} told us about the commander";
    let mut s = draft(Group::Women);
    s.interpreter.sex = InterpreterSex::Male;
    s.interpreter.language = secret.to_owned();
    s.sensitive_note = format!("{secret}\u{0}");
    s.priorities = vec![
        other_priority(1, secret),
        fieldconsult_model::Priority {
            note: format!("{secret}\u{301}"),
            ..priority(2, fieldconsult_model::PriorityCategory::Water)
        },
    ];
    let mut c = concern(
        ConcernCategory::SexualViolenceRisk,
        &[AffectedGroup::Women],
        Urgency::Urgent,
    );
    c.note = "Nyaboth was attacked at the well".to_owned();
    c.location = secret.to_owned();
    s.concerns = vec![c];
    let errs = check_draft(&s).unwrap_err();
    assert_eq!(errs.errors().len(), 6, "{errs}");
    let shown = errs.to_string();
    let json = serde_json::to_string(&errs).unwrap();
    for out in [&shown, &json] {
        assert!(!out.contains("Nyaboth"), "{out}");
        assert!(!out.contains("commander"), "{out}");
        assert!(!out.contains("well"), "{out}");
    }
    assert!(shown.starts_with("6 invalid field(s): "), "{shown}");
    for e in errs.errors() {
        let line = e.to_string();
        assert!(line.starts_with(&format!("{} ", e.field)), "{line}");
        assert!(line.len() > e.field.len() + 5, "{line} says why");
    }
}

#[test]
fn every_problem_has_a_distinct_code_and_a_message_without_braces_or_quotes() {
    let all = [
        Problem::Required,
        Problem::TooLong { max: 5, actual: 6 },
        Problem::ControlCharacter,
        Problem::NotNormalized,
        Problem::OutOfRange { min: 1, max: 5 },
        Problem::Duplicate,
        Problem::InFuture,
        Problem::TooOld,
        Problem::BeforeStart,
        Problem::WrongSexForGroup {
            group: Group::Women,
        },
        Problem::WrongSexForGroup { group: Group::Men },
        Problem::DetailNotAllowed,
        Problem::MustBeEmpty,
        Problem::Unknown,
        Problem::InvalidFormat,
    ];
    let mut messages = std::collections::BTreeSet::new();
    for p in &all {
        let m = p.to_string();
        assert!(!m.is_empty() && !m.contains('{') && !m.contains('"'), "{m}");
        messages.insert(m);
        let back: Problem = serde_json::from_str(&serde_json::to_string(p).unwrap()).unwrap();
        assert_eq!(&back, p);
    }
    assert_eq!(messages.len(), all.len());
    let codes: std::collections::BTreeSet<_> = all.iter().map(Problem::code).collect();
    assert_eq!(
        codes.len(),
        all.len() - 1,
        "both wrong-sex problems share one code"
    );
    assert!(
        Problem::WrongSexForGroup {
            group: Group::Women
        }
        .to_string()
        .contains("no male participants")
    );
    assert!(
        Problem::WrongSexForGroup { group: Group::Men }
            .to_string()
            .contains("no female participants")
    );
}

// ---------------------------------------------------------------------------------------------
// Reviews
// ---------------------------------------------------------------------------------------------

fn review(decision: Decision, comment: &str) -> Review {
    Review {
        id: ReviewId::new(),
        session_id: SessionId::new(),
        reviewer: "gfp-7".to_owned(),
        decision,
        comment: comment.to_owned(),
        at: now_plus(Duration::minutes(-5)),
    }
}

#[test]
fn a_returned_review_requires_a_comment() {
    for blank in ["", " \n\t "] {
        assert_eq!(
            codes(validate_review(&review(Decision::Returned, blank), &ctx())),
            expect(&[("comment", "required")])
        );
    }
    assert_eq!(
        validate_review(
            &review(Decision::Returned, "Please add the end time.\nThanks."),
            &ctx()
        ),
        Ok(())
    );
}

#[test]
fn an_accepted_review_needs_no_comment() {
    assert_eq!(
        validate_review(&review(Decision::Accepted, ""), &ctx()),
        Ok(())
    );
}

#[test]
fn a_review_names_its_reviewer_with_a_short_id_at_a_plausible_time() {
    let mut r = review(Decision::Accepted, "");
    r.reviewer = String::new();
    r.at = now_plus(Duration::hours(1));
    assert_eq!(
        codes(validate_review(&r, &ctx())),
        expect(&[("reviewer", "required"), ("at", "in_future")])
    );
    r.reviewer = "r".repeat(101);
    r.at = at(1999, 12, 31, 23, 0);
    assert_eq!(
        codes(validate_review(&r, &ctx())),
        expect(&[("reviewer", "too_long"), ("at", "too_old")])
    );
    r.reviewer = "r".repeat(100);
    r.at = now_plus(Duration::minutes(1));
    assert_eq!(validate_review(&r, &ctx()), Ok(()));
}

// ---------------------------------------------------------------------------------------------
// Checklists
// ---------------------------------------------------------------------------------------------

fn topic(code: &str, labels: &[(&str, &str)]) -> ChecklistTopic {
    ChecklistTopic {
        code: code.to_owned(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        required: true,
    }
}

#[test]
fn the_default_checklist_is_valid_and_labelled_in_english_and_french() {
    let c = ChecklistTemplate::default_v1();
    assert_eq!(validate_checklist(&c), Ok(()));
    assert_eq!(c.version, 1);
    assert_eq!(c.topics.len(), 11);
    for t in &c.topics {
        assert!(t.labels.contains_key("en") && t.labels.contains_key("fr"));
    }
}

#[test]
fn a_checklist_refuses_a_repeated_topic_code() {
    let c = ChecklistTemplate {
        version: 2,
        topics: vec![
            topic("threats", &[("en", "Threats")]),
            topic("needs", &[("en", "Needs")]),
            topic("threats", &[("en", "Threats again")]),
        ],
    };
    assert_eq!(
        codes(validate_checklist(&c)),
        expect(&[("topics[2].code", "duplicate")])
    );
}

#[test]
fn a_checklist_topic_code_is_lower_snake_case_ascii_up_to_64_bytes() {
    for bad in [
        "",
        "Threats",
        "two words",
        "kebab-case",
        "café",
        "tab\t",
        &"a".repeat(65),
    ] {
        let c = ChecklistTemplate {
            version: 2,
            topics: vec![topic(bad, &[("en", "Label")])],
        };
        assert_eq!(
            codes(validate_checklist(&c)),
            expect(&[("topics[0].code", "invalid_format")]),
            "{bad:?}"
        );
    }
    for good in ["threats", "way_to_school_2", &"a".repeat(64)] {
        let c = ChecklistTemplate {
            version: 2,
            topics: vec![topic(good, &[("en", "Label")])],
        };
        assert_eq!(validate_checklist(&c), Ok(()), "{good:?}");
    }
}

#[test]
fn every_checklist_topic_needs_an_english_label() {
    let c = ChecklistTemplate {
        version: 2,
        topics: vec![
            topic("threats", &[("en", "Threats"), ("fr", "Menaces")]),
            topic("needs", &[("fr", "Besoins")]),
        ],
    };
    assert_eq!(
        codes(validate_checklist(&c)),
        expect(&[("topics[1].labels.en", "required")])
    );
}

#[test]
fn checklist_labels_are_not_blank_nor_multi_line() {
    let c = ChecklistTemplate {
        version: 2,
        topics: vec![topic("threats", &[("en", " "), ("fr", "Menaces\nsur")])],
    };
    assert_eq!(
        codes(validate_checklist(&c)),
        expect(&[
            ("topics[0].labels.en", "required"),
            ("topics[0].labels.fr", "control_character"),
        ])
    );
}

#[test]
fn a_checklist_has_a_version_from_one_and_at_least_one_topic() {
    let c = ChecklistTemplate {
        version: 0,
        topics: vec![],
    };
    assert_eq!(
        codes(validate_checklist(&c)),
        expect(&[("version", "out_of_range"), ("topics", "required")])
    );
}

#[test]
fn normalizing_a_checklist_composes_codes_and_labels() {
    let mut c = ChecklistTemplate {
        version: 2,
        topics: vec![topic(
            "threats",
            &[("en", "Threats"), ("fr", "Se\u{301}curite\u{301}")],
        )],
    };
    assert_eq!(
        codes(validate_checklist(&c)),
        expect(&[("topics[0].labels.fr", "not_normalized")])
    );
    c.normalize();
    assert_eq!(validate_checklist(&c), Ok(()));
    assert_eq!(c.topics[0].label("fr"), "Sécurité");
}

// ---------------------------------------------------------------------------------------------
// Teams, communities, referral services, visits, addenda
// ---------------------------------------------------------------------------------------------

#[test]
fn a_team_needs_a_name_and_a_sector() {
    let mut t = Team {
        id: TeamId::new(),
        name: "Engagement Team 3".to_owned(),
        sector: "Sector East".to_owned(),
    };
    assert_eq!(validate_team(&t), Ok(()));
    t.name = " ".to_owned();
    t.sector = String::new();
    assert_eq!(
        codes(validate_team(&t)),
        expect(&[("name", "required"), ("sector", "required")])
    );
    t.name = "Team\n3".to_owned();
    t.sector = "s".repeat(201);
    assert_eq!(
        codes(validate_team(&t)),
        expect(&[("name", "control_character"), ("sector", "too_long")])
    );
}

fn community(lat: f64, lon: f64) -> Community {
    Community {
        id: CommunityId::new(),
        name: "Kuajok".to_owned(),
        admin_area: String::new(),
        location: Some(Location { lat, lon }),
    }
}

#[test]
fn a_community_needs_a_name_and_an_area_is_optional() {
    let mut c = community(9.5, 31.6);
    assert_eq!(validate_community(&c), Ok(()));
    c.location = None;
    assert_eq!(validate_community(&c), Ok(()));
    c.name = String::new();
    c.admin_area = "Gogrial\u{0}".to_owned();
    assert_eq!(
        codes(validate_community(&c)),
        expect(&[("name", "required"), ("admin_area", "control_character")])
    );
}

#[test]
fn a_community_location_lies_on_the_globe() {
    for (lat, lon) in [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0)] {
        assert_eq!(validate_community(&community(lat, lon)), Ok(()));
    }
    assert_eq!(
        codes(validate_community(&community(90.5, -180.5))),
        expect(&[
            ("location.lat", "out_of_range"),
            ("location.lon", "out_of_range")
        ])
    );
    assert_eq!(
        codes(validate_community(&community(f64::NAN, f64::INFINITY))),
        expect(&[
            ("location.lat", "out_of_range"),
            ("location.lon", "out_of_range")
        ])
    );
}

#[test]
fn a_coarse_location_is_rounded_to_the_hundredth_of_a_degree() {
    let c = Location {
        lat: 9.537_81,
        lon: -31.654_49,
    }
    .coarse();
    assert!((c.lat - 9.54).abs() < 1e-9, "{}", c.lat);
    assert!((c.lon - -31.65).abs() < 1e-9, "{}", c.lon);
}

#[test]
fn a_referral_service_needs_a_name() {
    let mut s = ReferralService {
        id: ReferralServiceId::new(),
        name: "One-stop centre".to_owned(),
        kind: ReferralServiceKind::Health,
        area: String::new(),
    };
    assert_eq!(validate_referral_service(&s), Ok(()));
    s.name = String::new();
    s.area = "a\tb".to_owned();
    assert_eq!(
        codes(validate_referral_service(&s)),
        expect(&[("name", "required"), ("area", "control_character")])
    );
}

fn visit() -> Visit {
    Visit {
        id: VisitId::new(),
        team_id: TeamId::new(),
        community_id: CommunityId::new(),
        started_at: now_plus(Duration::hours(-5)),
        ended_at: Some(now_plus(Duration::hours(-1))),
        notes: "Market day.\nMany people on the road.".to_owned(),
    }
}

#[test]
fn a_visit_with_plausible_times_and_multi_line_notes_is_valid() {
    assert_eq!(validate_visit(&visit(), &ctx()), Ok(()));
    let mut v = visit();
    v.ended_at = None;
    v.notes = String::new();
    assert_eq!(validate_visit(&v, &ctx()), Ok(()));
}

#[test]
fn a_visit_refuses_an_end_before_its_start_and_times_out_of_range() {
    let mut v = visit();
    v.ended_at = Some(v.started_at - Duration::seconds(1));
    v.notes = "x\u{0}".to_owned();
    assert_eq!(
        codes(validate_visit(&v, &ctx())),
        expect(&[("ended_at", "before_start"), ("notes", "control_character")])
    );
    let mut v = visit();
    v.started_at = at(1999, 6, 1, 8, 0);
    v.ended_at = Some(now_plus(Duration::hours(2)));
    assert_eq!(
        codes(validate_visit(&v, &ctx())),
        expect(&[("started_at", "too_old"), ("ended_at", "in_future")])
    );
}

fn addendum(text: &str) -> Addendum {
    Addendum {
        id: AddendumId::new(),
        session_id: SessionId::new(),
        author: "et3-device-2".to_owned(),
        text: text.to_owned(),
        at: now_plus(Duration::minutes(-1)),
    }
}

#[test]
fn an_addendum_needs_an_author_and_a_text() {
    assert_eq!(
        validate_addendum(
            &addendum("Participants were 14, not 16.\nCorrected."),
            &ctx()
        ),
        Ok(())
    );
    let mut a = addendum("  ");
    a.author = String::new();
    assert_eq!(
        codes(validate_addendum(&a, &ctx())),
        expect(&[("author", "required"), ("text", "required")])
    );
}

#[test]
fn an_addendum_has_a_bounded_author_and_text_and_a_plausible_time() {
    let mut a = addendum(&"é".repeat(4001));
    a.author = "a".repeat(101);
    a.at = now_plus(Duration::minutes(16));
    assert_eq!(
        codes(validate_addendum(&a, &ctx())),
        expect(&[
            ("author", "too_long"),
            ("text", "too_long"),
            ("at", "in_future")
        ])
    );
    a.text = "é".repeat(4000);
    a.author = "a".repeat(100);
    a.at = now_plus(Duration::minutes(15));
    assert_eq!(validate_addendum(&a, &ctx()), Ok(()));
}

#[test]
fn normalize_truncates_every_time_to_whole_milliseconds_and_keeps_its_offset() {
    let precise = at(2026, 11, 20, 9, 30) + Duration::nanoseconds(123_456_789);
    let stored = at(2026, 11, 20, 9, 30) + Duration::milliseconds(123);

    let mut s = draft(Group::Women);
    s.started_at = precise;
    s.ended_at = Some(precise + Duration::hours(1));
    s.normalize();
    assert_eq!(s.started_at, stored);
    assert_eq!(s.ended_at, Some(stored + Duration::hours(1)));
    assert_eq!(
        s.started_at.offset(),
        &FixedOffset::east_opt(3 * 3600).unwrap()
    );
    let again = {
        let mut t = s.clone();
        t.normalize();
        t
    };
    assert_eq!(again, s, "idempotent");

    let mut v = visit();
    v.started_at = precise;
    v.ended_at = Some(precise);
    v.normalize();
    assert_eq!((v.started_at, v.ended_at), (stored, Some(stored)));

    let mut r = review(Decision::Accepted, "");
    r.at = precise;
    r.normalize();
    assert_eq!(r.at, stored);

    let mut a = addendum("Corrected.");
    a.at = precise;
    a.normalize();
    assert_eq!(a.at, stored);
}

#[test]
fn normalizing_records_composes_every_text_field() {
    let nfd = "Re\u{301}gion";
    let nfc = "Région";
    let mut team = Team {
        id: TeamId::new(),
        name: nfd.to_owned(),
        sector: nfd.to_owned(),
    };
    assert!(validate_team(&team).is_err());
    team.normalize();
    assert_eq!((team.name.as_str(), team.sector.as_str()), (nfc, nfc));
    assert_eq!(validate_team(&team), Ok(()));

    let mut c = community(1.0, 1.0);
    c.name = nfd.to_owned();
    c.admin_area = nfd.to_owned();
    c.normalize();
    assert_eq!((c.name.as_str(), c.admin_area.as_str()), (nfc, nfc));

    let mut v = visit();
    v.notes = nfd.to_owned();
    v.normalize();
    assert_eq!(v.notes, nfc);

    let mut r = review(Decision::Returned, nfd);
    r.reviewer = nfd.to_owned();
    r.normalize();
    assert_eq!((r.reviewer.as_str(), r.comment.as_str()), (nfc, nfc));

    let mut a = addendum(nfd);
    a.author = nfd.to_owned();
    a.normalize();
    assert_eq!((a.author.as_str(), a.text.as_str()), (nfc, nfc));

    let mut rs = ReferralService {
        id: ReferralServiceId::new(),
        name: nfd.to_owned(),
        kind: ReferralServiceKind::Legal,
        area: nfd.to_owned(),
    };
    rs.normalize();
    assert_eq!((rs.name.as_str(), rs.area.as_str()), (nfc, nfc));
    assert_eq!(validate_referral_service(&rs), Ok(()));
}
