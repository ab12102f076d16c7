//! There is no place for a survivor's identity anywhere in the model (DESIGN.md, Referral).
//!
//! A disclosure of sexual violence is recorded as two codes: the concern's category
//! (`sexual_violence_risk`) and, if one was offered, the referral's service id from the
//! directory. Nothing else about it can be written down:
//! - a sexual-violence-risk concern must have an empty note (validation refuses a detail,
//!   as a draft and at submission, on device and server alike);
//! - a referral has no free-text field at all: its only field is the service's id;
//! - every free-text field of a session is one of a known list, none of them in a referral,
//!   and none of the classified fields is named for a person (name, phone, address...)
//!   outside the reference data of teams, communities and services.
//!
//! A new field anywhere in a session fails here until it is looked at: either it holds a
//! code, an id or a time, or it is added to [`FREE_TEXT`] and to the warnings of
//! `validation::pii` (and cannot be in a referral).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldconsult_model::classification::FIELDS;
use fieldconsult_model::fixtures::october_2026;
use fieldconsult_model::validation::{Completeness, validate_session};
use fieldconsult_model::{
    AffectedGroup, ChecklistAnswer, ChecklistTemplate, Concern, ConcernCategory, Problem, Session,
    TopicResponse, Urgency, ValidationContext,
};
use serde_json::Value;

/// Every free-text field of a session, as JSON paths (`[]` for any element).
const FREE_TEXT: &[&str] = &[
    "session.interpreter.language",
    "session.answers[].note",
    "session.priorities[].other_label",
    "session.priorities[].note",
    "session.concerns[].location",
    "session.concerns[].timing",
    "session.concerns[].note",
    "session.sensitive_note",
];

/// Words that name a person's identity; no classified field outside reference data may be
/// called by one. (Ages are counted by band, `participants.female.age_18_29`: a count of a
/// group, not a person's age, so `age` is not among them.)
const IDENTITY_WORDS: &[&str] = &[
    "name",
    "surname",
    "phone",
    "email",
    "address",
    "birth",
    "dob",
    "survivor",
    "victim",
    "perpetrator",
    "identity",
    "photo",
    "contact",
];

/// Reference data: organisations and places, which have names.
const REFERENCE_KINDS: &[&str] = &["team.", "community.", "referral_service."];

fn full_session() -> Session {
    let f = october_2026();
    let mut s = f.session(1).clone();
    // A draft: a submitted session's sensitive note is sealed, and this one is written out.
    s.status = fieldconsult_model::Status::Draft;
    s.sealed_note = None;
    s.ended_at = Some(s.started_at);
    s.interpreter.language = "Free text".into();
    s.answers = vec![ChecklistAnswer {
        topic: "community_status".into(),
        response: TopicResponse::Discussed,
        note: "Free text".into(),
    }];
    for p in &mut s.priorities {
        p.note = "Free text".into();
    }
    for c in &mut s.concerns {
        c.location = "Free text".into();
        c.timing = "Free text".into();
        c.note = "Free text".into();
    }
    s.sensitive_note = "Free text".into();
    assert!(s.referral.is_some() && !s.priorities.is_empty() && !s.concerns.is_empty());
    s
}

fn string_leaves(path: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, v)| string_leaves(&format!("{path}.{k}"), v, out)),
        Value::Array(a) => a
            .iter()
            .for_each(|v| string_leaves(&format!("{path}[]"), v, out)),
        Value::String(s) => out.push((path.to_owned(), s.clone())),
        _ => {}
    }
}

/// A code of a taxonomy or an enum (`sexual_violence_risk`), an id (a UUID) or a time: no
/// room for words about a person.
fn is_code_id_or_time(s: &str) -> bool {
    let code = !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    code || uuid::Uuid::parse_str(s).is_ok() || chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[test]
fn every_string_of_a_session_is_a_code_an_id_a_time_or_a_known_free_text_field() {
    let json = serde_json::to_value(full_session()).unwrap();
    let mut leaves = Vec::new();
    string_leaves("session", &json, &mut leaves);
    for (path, value) in &leaves {
        assert!(
            FREE_TEXT.contains(&path.as_str()) || is_code_id_or_time(value),
            "{path} holds free text but is not a known free-text field"
        );
    }
    for path in FREE_TEXT {
        assert!(
            leaves.iter().any(|(p, _)| p == path),
            "{path} is listed as free text but no session has it"
        );
    }
}

#[test]
fn a_referral_has_no_free_text_field_only_the_service_id_plain_or_sealed() {
    let referral_fields: Vec<&str> = FIELDS
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| p.starts_with("session.referral"))
        .collect();
    assert_eq!(
        referral_fields,
        [
            "session.referral.service_id",
            // The seal of that id, machine-made: version, field name, key ids, ciphertext.
            "session.referral.sealed_service_id.version",
            "session.referral.sealed_service_id.field",
            "session.referral.sealed_service_id.copies[].key_id",
            "session.referral.sealed_service_id.copies[].enc",
            "session.referral.sealed_service_id.copies[].ct",
        ]
    );
    assert!(FREE_TEXT.iter().all(|p| !p.starts_with("session.referral")));
    let json = serde_json::to_value(full_session().referral.unwrap()).unwrap();
    let service_id = json["service_id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(service_id).is_ok());
    assert_eq!(json.as_object().unwrap().len(), 1);
}

#[test]
fn no_field_outside_reference_data_is_named_for_a_person() {
    for (path, _) in FIELDS {
        if REFERENCE_KINDS.iter().any(|k| path.starts_with(k)) {
            continue;
        }
        let segments = path
            .split(['.', '[', ']', '*'])
            .flat_map(|s| s.split('_'))
            .filter(|s| !s.is_empty());
        for segment in segments {
            assert!(
                !IDENTITY_WORDS.contains(&segment),
                "{path}: a field named for a person's identity"
            );
        }
    }
}

#[test]
fn a_sexual_violence_risk_concern_takes_no_detail_as_draft_or_at_submission() {
    let mut s = full_session();
    s.concerns = vec![Concern {
        category: ConcernCategory::SexualViolenceRisk,
        affected: [AffectedGroup::Women].into_iter().collect(),
        location: String::new(),
        timing: String::new(),
        urgency: Urgency::Urgent,
        note: "any detail at all".into(),
    }];
    let ctx = ValidationContext::at(s.started_at.with_timezone(&chrono::Utc));
    let checklist = ChecklistTemplate::default_v1();
    for completeness in [Completeness::Draft, Completeness::Submit(&checklist)] {
        let errors = validate_session(&s, completeness, &ctx).unwrap_err();
        assert_eq!(
            errors.problem("concerns[0].note"),
            Some(&Problem::DetailNotAllowed)
        );
    }
    s.concerns[0].note.clear();
    assert!(
        validate_session(&s, Completeness::Draft, &ctx).is_ok(),
        "without the detail, the concern (a code) is recorded"
    );
}
